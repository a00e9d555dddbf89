"""The production Portainer CE API client: access token or JWT login, stacks, the Docker proxy.

Authentication is an access token (`X-API-Key: ptr_…`) or a username and password exchanged at
`POST /api/auth` for a JWT, which is renewed before it expires (Portainer's last 8 h) and once more
when an answer says 401. Reads are retried on a 5xx or a dropped connection with exponential backoff;
writes are not (a create that reached Portainer must not run twice). Every call is counted (`calls`,
`writes`) so apply results and tests can report them. Credentials only ever go into headers: never
into a log line or an exception message.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx
import jwt

RENEW_BEFORE = 300.0          # seconds before a JWT's expiry it is renewed
SWARM_ENDPOINT_TYPES = {1, 2}  # Docker environments (local socket, agent) that can be Swarm managers


class PortainerError(Exception):
    """A call that failed: HTTP status (0: no answer) and Portainer's `message`/`details`."""

    def __init__(self, status: int, what: str, message: str):
        self.status = status
        super().__init__(f"{what}: {message}" if status == 0 else f"{what}: HTTP {status}: {message}")


class PortainerClient:
    def __init__(self, base_url: str, *, api_key: str = "", username: str = "", password: str = "",
                 max_retries: int = 3, backoff: float = 0.5, timeout: float = 120.0, verify: bool = True):
        if not base_url:
            raise PortainerError(0, "connection", "base_url is required")
        if not api_key and not (username and password):
            raise PortainerError(0, "connection", "needs an api_key, or a username and a password")
        self.base_url = base_url.rstrip("/")
        self._api_key, self._username, self._password = api_key, username, password
        self._jwt, self._jwt_exp = "", 0.0
        self.max_retries, self.backoff = max_retries, backoff
        self.calls = 0
        self.writes = 0
        self.calls_by: Counter[str] = Counter()
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, verify=verify)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PortainerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- auth ------------------------------------------------------------------------------
    def _login(self) -> None:
        self.calls += 1
        self.calls_by["POST /api/auth"] += 1
        try:
            resp = self._http.post("/api/auth", json={"username": self._username, "password": self._password})
        except httpx.TransportError as exc:
            raise PortainerError(0, "POST /api/auth", f"Portainer did not answer ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise PortainerError(resp.status_code, "POST /api/auth", _message(resp))
        token = resp.json()["jwt"]
        claims = jwt.decode(token, options={"verify_signature": False})   # only to read its expiry
        self._jwt, self._jwt_exp = token, float(claims.get("exp") or time.time() + 3600)

    def _auth_headers(self) -> dict[str, str]:
        if self._api_key:
            return {"X-API-Key": self._api_key}
        if not self._jwt or self._jwt_exp - time.time() < RENEW_BEFORE:
            self._login()
        return {"Authorization": f"Bearer {self._jwt}"}

    # -- transport -----------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, label: str = "") -> httpx.Response:
        """One call under `/api`; returns the answer of a 2xx, raises PortainerError otherwise."""
        what = f"{method} {label or path}"
        write = method != "GET"
        attempt, relogged = 0, False
        while True:
            attempt += 1
            self.calls += 1
            self.writes += write
            self.calls_by[what] += 1
            try:
                resp = self._http.request(method, "/api" + path, params=params, json=json_body,
                                          headers=self._auth_headers())
            except httpx.TransportError as exc:
                if write or attempt > self.max_retries:
                    raise PortainerError(0, what, f"Portainer did not answer ({type(exc).__name__})") from None
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if resp.status_code == 401 and not self._api_key and not relogged:
                relogged = True            # the JWT expired or was revoked: log in again, once
                self._jwt = ""
                continue
            if resp.status_code >= 500 and not write and attempt <= self.max_retries:
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if resp.status_code >= 400:
                raise PortainerError(resp.status_code, what, _message(resp))
            return resp

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        return resp.json() if resp.content else None

    # -- environments ----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self._json("GET", "/status")

    def endpoints(self) -> list[dict[str, Any]]:
        return self._json("GET", "/endpoints") or []

    def docker(self, endpoint_id: int, method: str, path: str, *, params: Mapping[str, Any] | None = None,
               json_body: Any = None) -> httpx.Response:
        """A Docker Engine API call through Portainer's proxy to the environment's engine."""
        return self.request(method, f"/endpoints/{endpoint_id}/docker{path}", params=params, json_body=json_body,
                            label=f"/endpoints/{{id}}/docker{path.split('?')[0]}")

    def swarm_id(self, endpoint_id: int) -> str:
        return self.docker(endpoint_id, "GET", "/swarm").json()["ID"]

    # -- stacks ------------------------------------------------------------------------------
    def stacks(self, endpoint_id: int | None = None) -> list[dict[str, Any]]:
        params = {"filters": json.dumps({"EndpointID": endpoint_id})} if endpoint_id is not None else None
        return self._json("GET", "/stacks", params=params) or []

    def stack(self, stack_id: int) -> dict[str, Any]:
        return self._json("GET", f"/stacks/{stack_id}", label="/stacks/{id}")

    def stack_file(self, stack_id: int) -> str:
        return self._json("GET", f"/stacks/{stack_id}/file", label="/stacks/{id}/file")["StackFileContent"]

    def create_swarm_stack(self, endpoint_id: int, name: str, content: str, env: Mapping[str, str],
                           swarm_id: str) -> dict[str, Any]:
        return self._json("POST", "/stacks/create/swarm/string", params={"endpointId": endpoint_id},
                          json_body={"name": name, "stackFileContent": content, "swarmID": swarm_id,
                                     "env": pairs(env)})

    def update_stack(self, stack_id: int, endpoint_id: int, content: str, env: Mapping[str, str], *,
                     prune: bool = True) -> dict[str, Any]:
        return self._json("PUT", f"/stacks/{stack_id}", params={"endpointId": endpoint_id}, label="/stacks/{id}",
                          json_body={"stackFileContent": content, "env": pairs(env), "prune": prune})

    def delete_stack(self, stack_id: int, endpoint_id: int) -> None:
        self.request("DELETE", f"/stacks/{stack_id}", params={"endpointId": endpoint_id}, label="/stacks/{id}")


def pairs(env: Mapping[str, str]) -> list[dict[str, str]]:
    """Portainer's env shape: [{name, value}], in name order."""
    return [{"name": k, "value": str(v)} for k, v in sorted(env.items())]


def env_dict(pairs_: Any) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("value", "")) for p in pairs_ or [] if p.get("name")}


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    if isinstance(body, dict):
        msg, details = str(body.get("message") or ""), str(body.get("details") or "")
        return f"{msg} ({details})" if details and details != msg else (msg or details or resp.reason_phrase)
    return str(body)[:200]
