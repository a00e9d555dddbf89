"""A Hetzner Cloud API emulator: servers, actions, SSH keys and the catalogue over real HTTP.

Every request is checked against `../shared/specs/hetzner-cloud.json` and so is every answer
(`violations` lists what broke the spec; the fixture fails the test on any). Semantics kept from
the real API because clients rely on them: Bearer tokens (401 `unauthorized`), the error
envelope `{"error": {code, message, details}}`, pagination in `meta.pagination`, label
selectors on lists, names unique per project (409 `uniqueness_error`), delete protection (423
`protected`), a resize only while the server is off, asynchronous actions that go `running` →
`success` (or `error`) after `action_delay` seconds, and the rate limit: `rate_limit` requests
an hour, given back gradually (one every hour / limit), `RateLimit-Limit`, `RateLimit-Remaining`
and `RateLimit-Reset` (when the budget is full again) on every answer, and 429
`rate_limit_exceeded` when it is spent (`retry_after` adds that header to a 429, None leaves it
out; `fail_next` forces answers for fault tests).

A created server is a real container (`machines.py`): its IPv4 is the container's address, its
SSH keys are root's authorized keys, its `user_data` runs once at first boot if it is a script.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..openapi import OpenAPIChecker, spec_path
from . import catalog
from .labels import LabelSelectorError, matches
from .machines import Machines

PREFIX = "/v1"
_ROUTES = [(t, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", t) + "$")) for t in (
    "/locations", "/server_types", "/images", "/actions/{id}",
    "/ssh_keys", "/ssh_keys/{id}",
    "/servers", "/servers/{id}", "/servers/{id}/actions",
    "/servers/{id}/actions/poweroff", "/servers/{id}/actions/poweron", "/servers/{id}/actions/reboot",
    "/servers/{id}/actions/shutdown", "/servers/{id}/actions/reset", "/servers/{id}/actions/change_type",
    "/servers/{id}/actions/change_protection",
    "/servers/{id}/actions/{action_id}",          # last: the verbs above are not action ids
)]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint Hetzner shows for a key ("b7:2f:...")."""
    try:
        blob = base64.b64decode(public_key.split()[1])
    except (IndexError, ValueError) as exc:
        raise ApiError(400, "invalid_input", "invalid input in field 'public_key'",
                       {"fields": [{"name": "public_key", "messages": ["is not a valid SSH public key"]}]}) from exc
    digest = hashlib.md5(blob).hexdigest()  # noqa: S324 - the format Hetzner uses, not a security check
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


class HetznerEmulator:
    def __init__(self, tokens: tuple[str, ...] = ("hetzner-test-token",), action_delay: float = 0.2,
                 machines: Machines | None = None):
        self.tokens = set(tokens)
        self.action_delay = action_delay
        self.machines = machines or Machines()
        self.checker = OpenAPIChecker(spec_path("hetzner-cloud.json"))
        self.violations: list[str] = []
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()      # answers sent, by status
        self.lock = threading.RLock()
        self.servers: dict[int, dict[str, Any]] = {}
        self.containers: dict[int, str] = {}
        self.ssh_keys: dict[int, dict[str, Any]] = {}
        self.actions: dict[int, dict[str, Any]] = {}
        self._ids = iter(range(1000, 10 ** 9))
        self.rate_limit = 3600
        self.remaining = 3600
        self.retry_after: str | None = "1"
        self._refilled_at = time.monotonic()
        self._forced: list[tuple[int, str]] = []
        self._http: ThreadingHTTPServer | None = None
        self._timers: list[threading.Timer] = []

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> HetznerEmulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}{PREFIX}"

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self.machines.cleanup()

    def fail_next(self, status: int, code: str, count: int = 1) -> None:
        """Answer the next `count` requests with `status` and error `code` (a 429 with `retry_after`, if set)."""
        with self.lock:
            self._forced += [(status, code)] * count

    def spend(self) -> bool:
        """One request off the budget, after giving back what the time since the last one earned."""
        with self.lock:
            now = time.monotonic()
            earned = int((now - self._refilled_at) * self.rate_limit / 3600)
            if earned:
                self.remaining = min(self.rate_limit, self.remaining + earned)
                self._refilled_at += earned * 3600 / self.rate_limit
            if self.remaining >= self.rate_limit:
                self._refilled_at = now
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def reset_at(self) -> int:
        """The UNIX time the budget is full again."""
        missing = max(0, self.rate_limit - self.remaining)
        return int(time.time() + missing * 3600 / self.rate_limit + 0.999)

    # -- actions ------------------------------------------------------------------------------
    def _action(self, command: str, server_id: int, work: Callable[[], None] | None = None,
                error: tuple[str, str] | None = None) -> dict[str, Any]:
        """A running action; after `action_delay` it does `work` and ends success, or error."""
        action = {"id": next(self._ids), "command": command, "status": "running", "progress": 0,
                  "started": now(), "finished": None, "resources": [{"id": server_id, "type": "server"}],
                  "error": None}
        self.actions[action["id"]] = action

        def finish() -> None:
            failure = error
            if failure is None and work is not None:
                try:
                    work()
                except Exception as exc:  # noqa: BLE001 - the action reports what went wrong
                    failure = ("action_failed", f"{command} failed: {exc}")
            with self.lock:
                action.update(status="error" if failure else "success", progress=100, finished=now(),
                              error={"code": failure[0], "message": failure[1]} if failure else None)

        timer = threading.Timer(self.action_delay, finish)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return action

    def _server(self, raw_id: str) -> dict[str, Any]:
        try:
            server = self.servers.get(int(raw_id))
        except ValueError:
            server = None
        if server is None:
            raise ApiError(404, "not_found", f"server with ID '{raw_id}' not found")
        return server

    def _set_status(self, server: dict[str, Any], status: str) -> None:
        with self.lock:
            server["status"] = status

    # -- servers ------------------------------------------------------------------------------
    def create_server(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = body["name"]
        if any(s["name"] == name for s in self.servers.values()):
            raise ApiError(409, "uniqueness_error", "server name is already used",
                           {"fields": [{"name": "name", "messages": ["is already used"]}]})
        server_type = catalog.find(catalog.SERVER_TYPES, body["server_type"])
        if server_type is None:
            raise ApiError(400, "invalid_input", f"server type '{body['server_type']}' not found",
                           {"fields": [{"name": "server_type", "messages": ["not found"]}]})
        image = catalog.find(catalog.IMAGES, body["image"])
        if image is None:
            raise ApiError(400, "invalid_input", f"image '{body['image']}' not found",
                           {"fields": [{"name": "image", "messages": ["not found"]}]})
        location = catalog.find(catalog.LOCATIONS, body.get("location") or "fsn1")
        if location is None:
            raise ApiError(400, "invalid_input", f"location '{body.get('location')}' not found",
                           {"fields": [{"name": "location", "messages": ["not found"]}]})
        keys = []
        for ref in body.get("ssh_keys") or []:
            key = next((k for k in self.ssh_keys.values() if str(k["id"]) == str(ref) or k["name"] == ref), None)
            if key is None:
                raise ApiError(400, "invalid_input", f"SSH key '{ref}' not found",
                               {"fields": [{"name": "ssh_keys", "messages": ["not found"]}]})
            keys.append(key["public_key"])
        server_id = next(self._ids)
        server = {
            "id": server_id, "name": name, "status": "initializing", "created": now(),
            "public_net": {"ipv4": {"id": next(self._ids), "ip": "0.0.0.0", "blocked": False, "dns_ptr": ""},
                           "ipv6": None, "floating_ips": [], "firewalls": []},
            "private_net": [], "server_type": server_type, "datacenter": catalog.datacenter(location),
            "location": location, "image": image, "iso": None, "rescue_enabled": False, "locked": False,
            "backup_window": None, "outgoing_traffic": 0, "ingoing_traffic": 0, "included_traffic": 21990232555520,
            "protection": {"delete": False, "rebuild": False}, "labels": dict(body.get("labels") or {}),
            "volumes": [], "load_balancers": [], "primary_disk_size": server_type["disk"], "placement_group": None,
        }
        self.servers[server_id] = server
        if image["name"] not in catalog.BOOTABLE or not self.machines.available():
            action = self._action("create_server", server_id,
                                  error=("action_failed", f"image {image['name']} cannot boot on this emulator"))
        else:
            def boot() -> None:
                container = self.machines.create(server_id, name, keys, body.get("user_data"))
                with self.lock:
                    self.containers[server_id] = container
                    server["public_net"]["ipv4"]["ip"] = self.machines.address(container)
                    server["status"] = "running"
            action = self._action("create_server", server_id, boot)
        root_password = None if keys else "emulated-root-password"
        return 201, {"server": server, "action": action, "next_actions": [], "root_password": root_password}

    def delete_server(self, server: dict[str, Any]) -> dict[str, Any]:
        if server["protection"]["delete"]:
            raise ApiError(423, "protected", "server is protected against deletion")
        self._set_status(server, "deleting")

        def remove() -> None:
            container = self.containers.pop(server["id"], None)
            if container:
                self.machines.remove(container)
            with self.lock:
                self.servers.pop(server["id"], None)
        return self._action("delete_server", server["id"], remove)

    def power(self, server: dict[str, Any], verb: str, body: dict[str, Any] | None) -> dict[str, Any]:
        container = self.containers.get(server["id"])
        sid = server["id"]
        if verb == "change_protection":
            with self.lock:
                for key in ("delete", "rebuild"):
                    if key in (body or {}):
                        server["protection"][key] = bool(body[key])
            return self._action("change_protection", sid)
        if container is None:
            raise ApiError(409, "conflict", "server is not running a machine yet")
        if verb in ("poweroff", "shutdown"):
            self._set_status(server, "stopping")
            return self._action("stop_server" if verb == "poweroff" else "shutdown_server", sid,
                                lambda: (self.machines.stop(container), self._set_status(server, "off")))
        if verb == "poweron":
            self._set_status(server, "starting")
            return self._action("start_server", sid,
                                lambda: (self.machines.start(container), self._set_status(server, "running")))
        if verb in ("reboot", "reset"):
            return self._action("reboot_server" if verb == "reboot" else "reset_server", sid,
                                lambda: self.machines.restart(container))
        if verb == "change_type":
            if server["status"] != "off":
                raise ApiError(409, "server_not_stopped", "server must be stopped before changing its type")
            new = catalog.find(catalog.SERVER_TYPES, (body or {}).get("server_type"))
            if new is None:
                raise ApiError(400, "invalid_input", f"server type '{(body or {}).get('server_type')}' not found")

            def resize() -> None:
                with self.lock:
                    server["server_type"] = new
                    if body.get("upgrade_disk"):
                        server["primary_disk_size"] = new["disk"]
            return self._action("change_server_type", sid, resize)
        raise ApiError(404, "not_found", f"action {verb} not found")

    # -- lists --------------------------------------------------------------------------------
    @staticmethod
    def page(items: list[dict[str, Any]], key: str, query: dict[str, list[str]]) -> dict[str, Any]:
        try:
            page = max(1, int(query.get("page", ["1"])[0]))
            per_page = min(50, max(1, int(query.get("per_page", ["25"])[0])))
        except ValueError as exc:
            raise ApiError(400, "invalid_input", "page and per_page must be integers") from exc
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        return {key: chunk, "meta": {"pagination": {
            "page": page, "per_page": per_page, "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < last else None, "last_page": last, "total_entries": len(items)}}}

    def filtered(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        out = list(items)
        if "name" in query:
            out = [i for i in out if i["name"] == query["name"][0]]
        if "status" in query:
            out = [i for i in out if i.get("status") in query["status"]]
        if "label_selector" in query:
            try:
                out = [i for i in out if matches(query["label_selector"][0], i.get("labels") or {})]
            except LabelSelectorError as exc:
                raise ApiError(400, "invalid_input", f"invalid label_selector: {exc}") from exc
        return sorted(out, key=lambda i: i["id"])

    def add_ssh_key(self, body: dict[str, Any]) -> dict[str, Any]:
        if any(k["name"] == body["name"] for k in self.ssh_keys.values()):
            raise ApiError(409, "uniqueness_error", "SSH key with the same name already exists")
        fp = fingerprint(body["public_key"])
        if any(k["fingerprint"] == fp for k in self.ssh_keys.values()):
            raise ApiError(409, "uniqueness_error", "SSH key with the same fingerprint already exists")
        key = {"id": next(self._ids), "name": body["name"], "public_key": body["public_key"].strip(),
               "fingerprint": fp, "labels": dict(body.get("labels") or {}), "created": now()}
        self.ssh_keys[key["id"]] = key
        return key

    # -- dispatch -----------------------------------------------------------------------------
    def handle(self, method: str, template: str, params: dict[str, str], query: dict[str, list[str]],
               body: Any) -> tuple[int, Any]:
        m = method.lower()
        with self.lock:
            if template == "/locations":
                return 200, self.page(self.filtered(catalog.LOCATIONS, query), "locations", query)
            if template == "/server_types":
                return 200, self.page(self.filtered(catalog.SERVER_TYPES, query), "server_types", query)
            if template == "/images":
                return 200, self.page(self.filtered(catalog.IMAGES, query), "images", query)
            if template == "/actions/{id}":
                action = self.actions.get(int(params["id"])) if params["id"].isdigit() else None
                if action is None:
                    raise ApiError(404, "not_found", f"action with ID '{params['id']}' not found")
                return 200, {"action": action}
            if template == "/ssh_keys":
                if m == "post":
                    return 201, {"ssh_key": self.add_ssh_key(body)}
                return 200, self.page(self.filtered(list(self.ssh_keys.values()), query), "ssh_keys", query)
            if template == "/ssh_keys/{id}":
                key = self.ssh_keys.get(int(params["id"])) if params["id"].isdigit() else None
                if key is None:
                    raise ApiError(404, "not_found", f"SSH key with ID '{params['id']}' not found")
                if m == "delete":
                    self.ssh_keys.pop(key["id"])
                    return 204, None
                return 200, {"ssh_key": key}
            if template == "/servers":
                if m == "post":
                    return self.create_server(body)
                return 200, self.page(self.filtered(list(self.servers.values()), query), "servers", query)
            server = self._server(params["id"])
            if template == "/servers/{id}":
                if m == "delete":
                    return 200, {"action": self.delete_server(server)}
                if m == "put":
                    if "name" in body and any(s["name"] == body["name"] and s is not server for s in self.servers.values()):
                        raise ApiError(409, "uniqueness_error", "server name is already used")
                    server.update({k: v for k, v in body.items() if k in ("name", "labels")})
                return 200, {"server": server}
            if template == "/servers/{id}/actions":
                mine = [a for a in self.actions.values() if any(r["id"] == server["id"] for r in a["resources"])]
                return 200, self.page(mine, "actions", {k: v for k, v in query.items() if k in ("page", "per_page")})
            if template == "/servers/{id}/actions/{action_id}":
                action = self.actions.get(int(params["action_id"])) if params["action_id"].isdigit() else None
                if action is None or all(r["id"] != server["id"] for r in action["resources"]):
                    raise ApiError(404, "not_found", f"action with ID '{params['action_id']}' not found")
                return 200, {"action": action}
            return 201, {"action": self.power(server, template.rsplit("/", 1)[1], body)}


def _as_documented(template: str, body: Any) -> Any:
    """One upstream quirk, corrected before the check: the spec types `ssh_keys` items as strings,
    while the API takes "IDs (integer) or names (string)" (its own description) and the official
    client sends integer IDs."""
    if template == "/servers" and isinstance(body, dict) and isinstance(body.get("ssh_keys"), list):
        return {**body, "ssh_keys": [str(k) if isinstance(k, int) else k for k in body["ssh_keys"]]}
    return body


class _Handler(BaseHTTPRequestHandler):
    emu: HetznerEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:          # quiet: the tests read `requests`
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        emu = self.emu
        with emu.lock:
            emu.statuses[status] += 1
        self.send_header("RateLimit-Limit", str(emu.rate_limit))
        self.send_header("RateLimit-Remaining", str(max(0, emu.remaining)))
        self.send_header("RateLimit-Reset", str(emu.reset_at()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, exc: ApiError) -> None:
        headers = {"Retry-After": self.emu.retry_after} if exc.status == 429 and self.emu.retry_after else None
        self._send(exc.status, {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, headers)

    def _dispatch(self, method: str) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = url.path[len(PREFIX):] if url.path.startswith(PREFIX) else None
        route = next(((t, m) for t, r in _ROUTES if path is not None and (m := r.match(path))), None)
        if route is None:
            return self._error(ApiError(404, "not_found", f"{url.path} not found"))
        template, match = route
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._error(ApiError(400, "json_error", "invalid JSON"))
        with emu.lock:
            emu.requests[f"{method} {template}"] += 1
            emu.violations += emu.checker.check_request(template, method.lower(), query, _as_documented(template, body))
            forced = emu._forced.pop(0) if emu._forced else None
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in emu.tokens:
            return self._error(ApiError(401, "unauthorized", "unable to authenticate"))
        exhausted = not emu.spend()
        if forced is not None:
            return self._error(ApiError(forced[0], forced[1], f"forced {forced[1]}"))
        if exhausted:
            return self._error(ApiError(429, "rate_limit_exceeded", f"limit of {emu.rate_limit} requests per hour reached"))
        try:
            status, answer = emu.handle(method, template, match.groupdict(), query, body if body is not None else {})
        except ApiError as exc:
            return self._error(exc)
        except (KeyError, TypeError) as exc:
            return self._error(ApiError(400, "invalid_input", f"invalid input: {exc}"))
        with emu.lock:
            emu.violations += emu.checker.check_response(template, method.lower(), status, answer)
            data = json.loads(json.dumps(answer)) if answer is not None else None   # a snapshot, outside the lock
        self._send(status, data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")
