"""One Docker Engine API per environment, the same calls whichever way the engine is reached.

A docker connection's engine is opened with the Swarm kind's client (`reconcilers.swarm.engine`); a
Portainer environment is reached through Portainer's Docker proxy (`/api/endpoints/{id}/docker/...`)
with the Portainer kind's client, so credentials, retries and TLS are handled in one place each.
Answers are the Engine API's own JSON; logs are the payload of one stream (stdout or stderr), its
lines prefixed by their RFC 3339 timestamp. A Swarm service's log (`/services/{id}/logs`, what
`docker service logs` reads: the manager gathers every task's lines from their nodes) is read with
details, so each line also carries its task's and node's ids.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import docker.errors

from controller.contract import ConnectionInfo, TargetUnavailable
from controller.errors import NotFound
from reconcilers.portainer.client import SWARM_ENDPOINT_TYPES, PortainerClient, PortainerError
from reconcilers.portainer.reconciler import client_for as portainer_client
from reconcilers.swarm.engine import client_for as docker_client

READ_TIMEOUT = 15        # seconds: a list, a detail or a log read (never a follow)
RESTART_GRACE = 10       # seconds a container gets to stop before it is killed


class Engine(Protocol):
    def containers(self) -> list[dict[str, Any]]: ...
    def inspect(self, cid: str) -> dict[str, Any]: ...
    def stats(self, cid: str) -> dict[str, Any]: ...
    def logs(self, cid: str, stream: str, *, tail: int | None, since: datetime | None,
             until: datetime | None, tty: bool) -> bytes: ...
    def restart(self, cid: str) -> None: ...
    def service_logs(self, service: str, stream: str, *, tail: int | None, since: datetime | None) -> bytes: ...
    def tasks(self, service: str) -> list[dict[str, Any]]: ...
    def nodes(self) -> list[dict[str, Any]]: ...
    # a stack's services (Swarm): [] when the engine is not a Swarm manager
    def services(self, label: str) -> list[dict[str, Any]]: ...
    def inspect_service(self, sid: str) -> dict[str, Any]: ...
    def update_service(self, sid: str, version: int, spec: dict[str, Any]) -> None: ...
    def containers_labelled(self, label: str) -> list[dict[str, Any]]: ...


def _not_manager(status: int | None, text: str) -> bool:
    """The engine's answer to a Swarm call on a node that manages no Swarm (503)."""
    return status == 503 and ("swarm" in text.lower() or "manager" in text.lower())


@dataclass(frozen=True)
class Environment:
    """Where containers run: a docker connection, or one Portainer endpoint (`endpoint` its id)."""

    connection: str
    connection_type: str
    name: str
    endpoint: int | None = None
    status: str = "up"


def _unix(t: datetime | None) -> str | None:
    """The Engine API's `since`/`until`: seconds with a fraction (to the microsecond)."""
    return f"{t.timestamp():.6f}" if t is not None else None


def _log_params(stream: str, tail: int | None, since: datetime | None, until: datetime | None) -> dict[str, Any]:
    params: dict[str, Any] = {"stdout": int(stream == "stdout"), "stderr": int(stream == "stderr"),
                              "timestamps": 1, "tail": "all" if tail is None else tail}
    if since is not None:
        params["since"] = _unix(since)
    if until is not None:
        params["until"] = _unix(until)
    return params


class DockerEngine:
    def __init__(self, client: docker.DockerClient, label: str):
        self.api, self.label = client.api, label

    def _call(self, what: str, fn, *args, noun: str = "container", **kwargs):
        try:
            return fn(*args, **kwargs)
        except docker.errors.NotFound:
            raise NotFound(f"no {noun} {args[0] if args else ''!r} on {self.label}") from None
        except docker.errors.APIError as exc:
            raise TargetUnavailable(f"{self.label}: {what}: {exc.explanation or exc}") from None
        except (docker.errors.DockerException, OSError) as exc:
            raise TargetUnavailable(f"{self.label}: {what}: {exc}") from None

    def containers(self) -> list[dict[str, Any]]:
        return self._call("list containers", self.api.containers, all=True)

    def inspect(self, cid: str) -> dict[str, Any]:
        return self._call("inspect", self.api.inspect_container, cid)

    def stats(self, cid: str) -> dict[str, Any]:
        return self._call("stats", self.api.stats, cid, stream=False)

    def logs(self, cid: str, stream: str, *, tail: int | None, since: datetime | None,
             until: datetime | None, tty: bool) -> bytes:
        # the raw route rather than the SDK's logs(): it rounds `since` down to the second
        return self._call("logs", self._raw_logs, cid, "/containers/{0}/logs",
                          _log_params(stream, tail, since, until), tty)

    def _raw_logs(self, ref: str, route: str, params: dict[str, Any], tty: bool) -> bytes:
        res = self.api._get(self.api._url(route, ref), params=params)
        self.api._raise_for_status(res)
        return res.content if tty else demultiplex(res.content)

    def restart(self, cid: str) -> None:
        self._call("restart", self.api.restart, cid, timeout=RESTART_GRACE)

    def service_logs(self, service: str, stream: str, *, tail: int | None, since: datetime | None) -> bytes:
        params = {**_log_params(stream, tail, since, None), "details": 1}
        return self._call("service logs", self._raw_logs, service, "/services/{0}/logs", params, False,
                          noun="service")

    def tasks(self, service: str) -> list[dict[str, Any]]:
        return self._call("list tasks", self.api.tasks, {"service": service})

    def nodes(self) -> list[dict[str, Any]]:
        return self._call("list nodes", self.api.nodes)

    def services(self, label: str) -> list[dict[str, Any]]:
        try:
            return self.api.services(filters={"label": label})
        except docker.errors.APIError as exc:
            if _not_manager(exc.status_code, str(exc.explanation or exc)):
                return []
            raise TargetUnavailable(f"{self.label}: list services: {exc.explanation or exc}") from None
        except (docker.errors.DockerException, OSError) as exc:
            raise TargetUnavailable(f"{self.label}: list services: {exc}") from None

    def inspect_service(self, sid: str) -> dict[str, Any]:
        return self._call("inspect service", self.api.inspect_service, sid, noun="service")

    def update_service(self, sid: str, version: int, spec: dict[str, Any]) -> None:
        # the spec as read, sent back whole (the SDK's keyword form would rebuild it from parts)
        url = self.api._url("/services/{0}/update", sid)
        self._call("update service", lambda _sid: self.api._result(
            self.api._post_json(url, data=spec, params={"version": version}), True), sid, noun="service")

    def containers_labelled(self, label: str) -> list[dict[str, Any]]:
        return self._call("list containers", self.api.containers, all=True, filters={"label": label})


class PortainerEngine:
    def __init__(self, client: PortainerClient, endpoint: int, label: str):
        self.client, self.endpoint, self.label = client, endpoint, label

    def _get(self, path: str, params: dict[str, Any] | None = None, method: str = "GET"):
        try:
            return self.client.docker(self.endpoint, method, path, params=params)
        except PortainerError as exc:
            if exc.status == 404:
                raise NotFound(f"{self.label}: {exc}") from None
            raise TargetUnavailable(f"{self.label}: {exc}") from None

    def containers(self) -> list[dict[str, Any]]:
        return self._get("/containers/json", {"all": "1"}).json()

    def inspect(self, cid: str) -> dict[str, Any]:
        return self._get(f"/containers/{cid}/json").json()

    def stats(self, cid: str) -> dict[str, Any]:
        return self._get(f"/containers/{cid}/stats", {"stream": "false"}).json()

    def logs(self, cid: str, stream: str, *, tail: int | None, since: datetime | None,
             until: datetime | None, tty: bool) -> bytes:
        raw = self._get(f"/containers/{cid}/logs", _log_params(stream, tail, since, until)).content
        return raw if tty else demultiplex(raw)

    def restart(self, cid: str) -> None:
        self._get(f"/containers/{cid}/restart", {"t": RESTART_GRACE}, method="POST")

    def service_logs(self, service: str, stream: str, *, tail: int | None, since: datetime | None) -> bytes:
        params = {**_log_params(stream, tail, since, None), "details": 1}
        return demultiplex(self._get(f"/services/{service}/logs", params).content)

    def tasks(self, service: str) -> list[dict[str, Any]]:
        return self._get("/tasks", {"filters": json.dumps({"service": [service]})}).json()

    def nodes(self) -> list[dict[str, Any]]:
        return self._get("/nodes").json()

    def services(self, label: str) -> list[dict[str, Any]]:
        try:
            return self.client.docker(self.endpoint, "GET", "/services",
                                      params={"filters": json.dumps({"label": [label]})}).json()
        except PortainerError as exc:
            if _not_manager(exc.status, str(exc)):
                return []
            raise TargetUnavailable(f"{self.label}: {exc}") from None

    def inspect_service(self, sid: str) -> dict[str, Any]:
        return self._get(f"/services/{sid}").json()

    def update_service(self, sid: str, version: int, spec: dict[str, Any]) -> None:
        try:
            self.client.docker(self.endpoint, "POST", f"/services/{sid}/update", params={"version": version},
                               json_body=spec)
        except PortainerError as exc:
            if exc.status == 404:
                raise NotFound(f"{self.label}: {exc}") from None
            raise TargetUnavailable(f"{self.label}: {exc}") from None

    def containers_labelled(self, label: str) -> list[dict[str, Any]]:
        return self._get("/containers/json", {"all": "1", "filters": json.dumps({"label": [label]})}).json()


def demultiplex(raw: bytes) -> bytes:
    """The payload of the Engine API's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, size)."""
    out, i = bytearray(), 0
    while i + 8 <= len(raw):
        kind, size = raw[i], struct.unpack(">I", raw[i + 4:i + 8])[0]
        if kind not in (0, 1, 2) or raw[i + 1:i + 4] != b"\0\0\0":
            return bytes(out) + raw[i:]    # not framed (a TTY container): the rest as it is
        out += raw[i + 8:i + 8 + size]
        i += 8 + size
    return bytes(out)


@contextmanager
def docker_environments(conn: ConnectionInfo) -> Iterator[list[tuple[Environment, Engine]]]:
    client = docker_client(conn, timeout=READ_TIMEOUT)
    try:
        yield [(Environment(conn.name, conn.type, conn.name), DockerEngine(client, f"connection {conn.name!r}"))]
    finally:
        client.close()


@contextmanager
def portainer_environments(conn: ConnectionInfo) -> Iterator[list[tuple[Environment, Engine]]]:
    try:
        client = portainer_client(conn, timeout=READ_TIMEOUT)
    except PortainerError as exc:
        raise TargetUnavailable(f"connection {conn.name!r}: {exc}") from None
    try:
        try:
            endpoints = client.endpoints()
        except PortainerError as exc:
            raise TargetUnavailable(f"connection {conn.name!r}: {exc}") from None
        out: list[tuple[Environment, Engine]] = []
        for ep in endpoints:
            if ep.get("Type") not in SWARM_ENDPOINT_TYPES:    # Kubernetes and Edge environments: no Docker API here
                continue
            env = Environment(conn.name, conn.type, str(ep.get("Name") or ep["Id"]), int(ep["Id"]),
                              "up" if ep.get("Status") == 1 else "down")
            out.append((env, PortainerEngine(client, env.endpoint or 0,
                                             f"connection {conn.name!r}, environment {env.name!r}")))
        yield out
    finally:
        client.close()


OPENERS = {"docker": docker_environments, "portainer": portainer_environments}
