"""A Portainer CE API emulator: auth, environments (endpoints), Swarm stacks and the Docker proxy.

It follows Portainer's API as current Portainer serves it (paths under `/api`, errors as
`{"message", "details"}`), checks every request and JSON answer against the published Swagger
document (`spec.py`), and is backed by the REAL local Docker engine: a stack is deployed with
`docker stack deploy` (the stack's env in the CLI's environment, as Portainer does), removed with
`docker stack rm`, and `/api/endpoints/{id}/docker/...` is forwarded to the engine's socket, so the
stacks, services and containers a test sees are real.

Authentication: `X-API-Key: ptr_…` access tokens, or `POST /api/auth` → a JWT (HS256, 8 h) sent as
`Authorization: Bearer …`. Switches for tests: `expire_jwts()` (every JWT issued so far answers 401),
`fail_next(n, status)` (the next n requests answer that status) and `delay` (seconds before each answer).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from .spec import SpecChecker

ENGINE_SOCKET = "/var/run/docker.sock"
JWT_TTL = 8 * 3600
SWARM_STACK, COMPOSE_STACK = 1, 2
ACTIVE, INACTIVE = 1, 2
_ROUTES = [
    ("/auth", re.compile(r"^/auth$")),
    ("/status", re.compile(r"^/status$")),
    ("/endpoints", re.compile(r"^/endpoints$")),
    ("/endpoints/{id}", re.compile(r"^/endpoints/(?P<id>\d+)$")),
    ("/endpoints/{id}/docker", re.compile(r"^/endpoints/(?P<id>\d+)/docker(?P<rest>/.*)$")),
    ("/stacks", re.compile(r"^/stacks$")),
    ("/stacks/create/swarm/string", re.compile(r"^/stacks/create/swarm/string$")),
    ("/stacks/{id}", re.compile(r"^/stacks/(?P<id>\d+)$")),
    ("/stacks/{id}/file", re.compile(r"^/stacks/(?P<id>\d+)/file$")),
    ("/stacks/{id}/start", re.compile(r"^/stacks/(?P<id>\d+)/start$")),
    ("/stacks/{id}/stop", re.compile(r"^/stacks/(?P<id>\d+)/stop$")),
]


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: str = ""):
        super().__init__(message)
        self.status, self.message, self.details = status, message, details or message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 60.0):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class PortainerEmulator:
    def __init__(self, *, engine_socket: str = ENGINE_SOCKET, version: str = "2.21.4"):
        self.lock = threading.RLock()
        self.engine_socket = engine_socket
        self.version = version
        self.users: dict[str, str] = {}          # username -> password
        self.api_keys: set[str] = set()
        self.endpoints: dict[int, dict[str, Any]] = {}
        self.stacks: dict[int, dict[str, Any]] = {}
        self.files: dict[int, str] = {}
        self.requests: Counter[str] = Counter()     # "METHOD /template" -> count
        self.violations: list[str] = []
        self.delay = 0.0
        self._fail: list[int] = []
        self._jwt_key = secrets.token_bytes(32)
        self._jwt_epoch = 0                       # JWTs of an older epoch are expired
        self._workdir = Path(tempfile.mkdtemp(prefix="portainer-emu-"))
        self.checker = SpecChecker()
        self._server: ThreadingHTTPServer | None = None

    # -- set-up from tests ---------------------------------------------------------------
    def start(self) -> PortainerEmulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server, "start() the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_user(self, username: str, password: str) -> None:
        self.users[username] = password

    def add_api_key(self, key: str) -> None:
        self.api_keys.add(key)

    def add_endpoint(self, name: str, *, status: int = ACTIVE) -> int:
        """An environment backed by the local engine (`Type` 1: a Docker environment)."""
        with self.lock:
            eid = max(self.endpoints, default=0) + 1
            self.endpoints[eid] = {"Id": eid, "Name": name, "Type": 1, "URL": f"unix://{self.engine_socket}",
                                   "Status": status, "GroupId": 1, "PublicURL": "", "TagIds": []}
            return eid

    def expire_jwts(self) -> None:
        self._jwt_epoch += 1

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self._fail += [status] * count

    def writes(self) -> int:
        """Requests that change a stack (create, update, delete, start, stop)."""
        return sum(n for k, n in self.requests.items() if k.split()[0] in ("POST", "PUT", "DELETE")
                   and k.split()[1].startswith("/stacks"))

    def edit_stack_file(self, stack_id: int, content: str) -> None:
        """What an operator editing a stack in Portainer's editor does: new file, redeployed."""
        with self.lock:
            stack = self.stacks[stack_id]
            self._deploy(stack["Name"], content, stack["Env"], prune=False)
            self.files[stack_id] = content
            stack["UpdateDate"], stack["UpdatedBy"] = int(time.time()), "someone-by-hand"

    def remove_all(self) -> None:
        """Takes every stack this emulator deployed off the engine (test teardown)."""
        for stack in list(self.stacks.values()):
            subprocess.run(["docker", "stack", "rm", stack["Name"]], capture_output=True)
        self.stacks.clear()

    # -- the engine ------------------------------------------------------------------------
    def engine(self, method: str, path: str, body: bytes | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = _UnixConnection(self.engine_socket)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def swarm_id(self) -> str:
        status, _, body = self.engine("GET", "/swarm")
        if status != 200:
            raise ApiError(500, "Unable to retrieve the Swarm cluster", body.decode(errors="replace"))
        return json.loads(body)["ID"]

    def _deploy(self, name: str, content: str, env: list[dict[str, str]], *, prune: bool) -> None:
        folder = self._workdir / name
        folder.mkdir(exist_ok=True)
        (folder / "docker-compose.yml").write_text(content)
        cmd = ["docker", "stack", "deploy", "--detach=true", "--resolve-image", "never", "--with-registry-auth",
               "-c", str(folder / "docker-compose.yml"), name]
        if prune:
            cmd.insert(3, "--prune")
        environ = {**os.environ, **{p["name"]: p.get("value", "") for p in env}}
        done = subprocess.run(cmd, capture_output=True, text=True, env=environ, cwd=folder, timeout=120)
        if done.returncode != 0:
            raise ApiError(500, "failed to deploy a stack", (done.stderr or done.stdout).strip())

    def _engine_stack_exists(self, name: str) -> bool:
        query = json.dumps({"label": [f"com.docker.stack.namespace={name}"]})
        status, _, body = self.engine("GET", "/services?filters=" + _quote(query))
        return status == 200 and bool(json.loads(body))

    # -- API operations ------------------------------------------------------------------
    def create_stack(self, endpoint_id: int, body: dict[str, Any], user: str) -> dict[str, Any]:
        self._endpoint(endpoint_id)
        name = str(body.get("name") or "").strip()
        if not name or not re.match(r"^[a-z0-9][a-z0-9_-]*$", name):
            raise ApiError(400, "Invalid stack name")
        if not body.get("stackFileContent"):
            raise ApiError(400, "Invalid stack file content")
        if body.get("swarmID") != self.swarm_id():
            raise ApiError(400, "Invalid Swarm ID")
        with self.lock:
            if any(s["Name"] == name and s["EndpointId"] == endpoint_id for s in self.stacks.values()) \
                    or self._engine_stack_exists(name):
                raise ApiError(409, f"A stack with the normalized name '{name}' already exists")
            env = list(body.get("env") or [])
            self._deploy(name, body["stackFileContent"], env, prune=False)
            sid = max(self.stacks, default=0) + 1
            now = int(time.time())
            self.stacks[sid] = {"Id": sid, "Name": name, "Type": SWARM_STACK, "EndpointId": endpoint_id,
                                "SwarmId": body["swarmID"], "EntryPoint": "docker-compose.yml", "Env": env,
                                "Status": ACTIVE, "ProjectPath": f"/data/compose/{sid}", "createdBy": user,
                                "creationDate": now, "updateDate": 0, "updatedBy": ""}
            self.files[sid] = body["stackFileContent"]
            return self.stacks[sid]

    def update_stack(self, sid: int, endpoint_id: int | None, body: dict[str, Any], user: str) -> dict[str, Any]:
        with self.lock:
            stack = self._stack(sid)
            if endpoint_id is not None and endpoint_id != stack["EndpointId"]:
                raise ApiError(404, "Unable to find an environment with the specified identifier inside the database")
            content = body.get("stackFileContent") or self.files[sid]
            env = list(body["env"]) if body.get("env") is not None else stack["Env"]
            self._deploy(stack["Name"], content, env, prune=bool(body.get("prune")))
            self.files[sid] = content
            stack.update(Env=env, Status=ACTIVE, updateDate=int(time.time()), updatedBy=user)
            return stack

    def delete_stack(self, sid: int) -> None:
        with self.lock:
            stack = self._stack(sid)
            done = subprocess.run(["docker", "stack", "rm", stack["Name"]], capture_output=True, text=True)
            if done.returncode != 0 and "Nothing found in stack" not in done.stderr:
                raise ApiError(500, "failed to remove a stack", done.stderr.strip())
            del self.stacks[sid]
            self.files.pop(sid, None)

    def set_status(self, sid: int, status: int) -> dict[str, Any]:
        with self.lock:
            stack = self._stack(sid)
            if stack["Status"] == status:
                raise ApiError(400, "Stack is already " + ("active" if status == ACTIVE else "inactive"))
            if status == INACTIVE:
                subprocess.run(["docker", "stack", "rm", stack["Name"]], capture_output=True)
            else:
                self._deploy(stack["Name"], self.files[sid], stack["Env"], prune=False)
            stack["Status"] = status
            return stack

    def _stack(self, sid: int) -> dict[str, Any]:
        if sid not in self.stacks:
            raise ApiError(404, "Unable to find a stack with the specified identifier inside the database")
        return self.stacks[sid]

    def _endpoint(self, eid: int) -> dict[str, Any]:
        if eid not in self.endpoints:
            raise ApiError(404, "Unable to find an environment with the specified identifier inside the database")
        return self.endpoints[eid]

    def endpoint_view(self, eid: int) -> dict[str, Any]:
        ep = dict(self._endpoint(eid))
        status, _, body = self.engine("GET", "/info")
        info = json.loads(body) if status == 200 else {}
        swarm = (info.get("Swarm") or {}).get("ControlAvailable", False)
        ep["Snapshots"] = [{"Swarm": bool(swarm), "DockerVersion": info.get("ServerVersion", ""),
                            "TotalCPU": info.get("NCPU", 0), "TotalMemory": info.get("MemTotal", 0),
                            "RunningContainerCount": info.get("ContainersRunning", 0),
                            "StoppedContainerCount": info.get("ContainersStopped", 0),
                            "StackCount": sum(1 for s in self.stacks.values() if s["EndpointId"] == eid),
                            "Time": int(time.time())}]
        return ep

    # -- auth ------------------------------------------------------------------------------
    def issue_jwt(self, username: str) -> str:
        now = int(time.time())
        return jwt.encode({"id": 1, "username": username, "role": 1, "iat": now, "exp": now + JWT_TTL,
                           "epoch": self._jwt_epoch}, self._jwt_key, algorithm="HS256")

    def authenticate(self, headers: Any) -> str:
        key = headers.get("X-API-Key")
        if key:
            if key in self.api_keys:
                return "admin"
            raise ApiError(401, "Unauthorized", "Invalid API key")
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise ApiError(401, "Unauthorized", "Unauthorized")
        try:
            claims = jwt.decode(auth[7:], self._jwt_key, algorithms=["HS256"])
        except jwt.PyJWTError:
            raise ApiError(401, "Invalid JWT token", "Invalid JWT token") from None
        if claims.get("epoch") != self._jwt_epoch:
            raise ApiError(401, "Invalid JWT token", "token is expired")
        return str(claims["username"])


def _quote(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="")


def _int(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    try:
        return int(values[0])
    except ValueError:
        raise ApiError(400, f"Invalid query parameter: {name}") from None


class _Handler(BaseHTTPRequestHandler):
    emu: PortainerEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:   # quiet
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None,
              raw: bytes | None = None) -> None:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        sent = set()
        for k, v in headers or [("Content-Type", "application/json")]:
            if k.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            self.send_header(k, v)
            sent.add(k.lower())
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method: str) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if emu.delay:
            time.sleep(emu.delay)
        path = url.path[4:] if url.path.startswith("/api/") else None
        match = next(((t, m) for t, rx in _ROUTES if path is not None and (m := rx.match(path))), None)
        if match is None:
            self._send(404, {"message": "Not found", "details": url.path})
            return
        template, m = match
        emu.requests[f"{method} {template}"] += 1
        with emu.lock:
            fail = emu._fail.pop(0) if emu._fail else None
        if fail:
            self._send(fail, {"message": "Server error", "details": "injected failure"})
            return
        query = parse_qs(url.query)
        try:
            if template == "/endpoints/{id}/docker":
                emu.authenticate(self.headers)
                self._proxy(method, int(m["id"]), m["rest"], url.query, raw)
                return
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Invalid request payload") from None
            emu.violations += emu.checker.check_request(template, method.lower(), query, body)
            status, answer = self._route(method, template, m, query, body)
        except ApiError as exc:
            self._send(exc.status, {"message": exc.message, "details": exc.details})
            return
        emu.violations += emu.checker.check_response(template, method.lower(), status, answer)
        self._send(status, answer)

    def _proxy(self, method: str, eid: int, rest: str, query: str, raw: bytes) -> None:
        self.emu._endpoint(eid)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("content-type", "x-registry-auth")}
        status, resp_headers, data = self.emu.engine(method, rest + (f"?{query}" if query else ""),
                                                     raw or None, headers)
        self._send(status, None, resp_headers, raw=data)

    def _route(self, method: str, template: str, m: re.Match, query: dict[str, list[str]],
               body: Any) -> tuple[int, Any]:
        emu = self.emu
        if template == "/auth" and method == "POST":
            body = body or {}
            if emu.users.get(body.get("username")) != body.get("password") or not body.get("username"):
                raise ApiError(422, "Invalid credentials", "Unauthorized")
            return 200, {"jwt": emu.issue_jwt(body["username"])}
        if template == "/status" and method == "GET":
            return 200, {"Version": emu.version}
        user = emu.authenticate(self.headers)
        if template == "/endpoints" and method == "GET":
            return 200, [emu.endpoint_view(eid) for eid in sorted(emu.endpoints)]
        if template == "/endpoints/{id}" and method == "GET":
            return 200, emu.endpoint_view(int(m["id"]))
        if template == "/stacks" and method == "GET":
            filters = json.loads(query["filters"][0]) if query.get("filters") else {}
            want = filters.get("EndpointID") or filters.get("EndpointId")
            return 200, [s for _, s in sorted(emu.stacks.items()) if want is None or s["EndpointId"] == int(want)]
        if template == "/stacks/create/swarm/string" and method == "POST":
            eid = _int(query, "endpointId")
            if eid is None:
                raise ApiError(400, "Invalid query parameter: endpointId")
            return 200, emu.create_stack(eid, body or {}, user)
        if template == "/stacks" and method == "POST":      # the route older Portainer served
            if query.get("type") != ["1"] or query.get("method") != ["string"]:
                raise ApiError(400, "only Swarm stacks from a string are emulated")
            return 200, emu.create_stack(_int(query, "endpointId") or 0, body or {}, user)
        sid = int(m["id"]) if "id" in m.groupdict() else 0
        if template == "/stacks/{id}" and method == "GET":
            return 200, emu._stack(sid)
        if template == "/stacks/{id}" and method == "PUT":
            return 200, emu.update_stack(sid, _int(query, "endpointId"), body or {}, user)
        if template == "/stacks/{id}" and method == "DELETE":
            emu.delete_stack(sid)
            return 204, None
        if template == "/stacks/{id}/file" and method == "GET":
            emu._stack(sid)
            return 200, {"StackFileContent": emu.files[sid]}
        if template in ("/stacks/{id}/start", "/stacks/{id}/stop") and method == "POST":
            return 200, emu.set_status(sid, ACTIVE if template.endswith("start") else INACTIVE)
        raise ApiError(405, "Method not allowed")
