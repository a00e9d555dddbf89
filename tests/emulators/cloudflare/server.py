"""A Cloudflare API v4 emulator: zones and DNS records over real HTTP on 127.0.0.1.

It answers in Cloudflare's envelope (`success`, `errors` [{code, message}], `messages`,
`result`, `result_info`) with Cloudflare's error codes, authenticates Bearer tokens that each
see a set of zones, counts requests by method and path, can be told to answer the next N
requests with 429 (and `Retry-After`) or a 5xx, and checks every request against the published
schema (`spec.py`), recording violations for the test fixture to fail on.

Semantics kept from the real API because clients rely on them: names are stored fully
qualified; `@` and relative names are completed with the zone; a CNAME cannot share a name
with another record (81053); an identical record is refused (81058); a missing record is 81044;
a batch is atomic (any failing operation rolls the whole batch back).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import socket
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .spec import SpecChecker

PREFIX = "/client/v4"
PROXIABLE = ("A", "AAAA", "CNAME")
_ROUTES = [
    ("/user/tokens/verify", re.compile(r"^/user/tokens/verify$")),
    ("/zones", re.compile(r"^/zones$")),
    ("/zones/{zone_id}", re.compile(r"^/zones/(?P<zone_id>[^/]+)$")),
    ("/zones/{zone_id}/purge_cache", re.compile(r"^/zones/(?P<zone_id>[^/]+)/purge_cache$")),
    ("/zones/{zone_id}/dns_records", re.compile(r"^/zones/(?P<zone_id>[^/]+)/dns_records$")),
    ("/zones/{zone_id}/dns_records/batch", re.compile(r"^/zones/(?P<zone_id>[^/]+)/dns_records/batch$")),
    ("/zones/{zone_id}/dns_records/{dns_record_id}",
     re.compile(r"^/zones/(?P<zone_id>[^/]+)/dns_records/(?P<dns_record_id>[^/]+)$")),
]


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_id() -> str:
    return uuid.uuid4().hex


class CloudflareEmulator:
    def __init__(self, *, retry_after: int = 1, max_per_page: int = 5000):
        self.lock = threading.RLock()
        self.zones: dict[str, dict[str, Any]] = {}          # zone id -> zone
        self.records: dict[str, dict[str, dict[str, Any]]] = {}   # zone id -> record id -> record
        self.tokens: dict[str, set[str] | None] = {}        # token -> visible zone ids (None: all)
        self.purges: list[dict[str, Any]] = []
        self.requests: Counter[str] = Counter()
        self.violations: list[str] = []
        self.retry_after = retry_after
        self.max_per_page = max_per_page
        self._fail: list[int] = []
        self.checker = SpecChecker()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up from tests ---------------------------------------------------------------
    def start(self) -> CloudflareEmulator:
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server, "start() the emulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def add_token(self, token: str, zones: list[str] | None = None) -> None:
        """A valid token; `zones` names the zones it sees (None: every zone)."""
        with self.lock:
            self.tokens[token] = None if zones is None else {self.zone_id(z) for z in zones}

    def add_zone(self, name: str, status: str = "active") -> str:
        with self.lock:
            zid = _new_id()
            self.zones[zid] = {"id": zid, "name": name, "status": status, "paused": False, "type": "full",
                               "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
                               "created_on": _now(), "modified_on": _now()}
            self.records[zid] = {}
            for ns in self.zones[zid]["name_servers"]:   # Cloudflare's own root NS records
                self._store(zid, {"type": "NS", "name": name, "content": ns, "ttl": 86400})
            return zid

    def zone_id(self, name: str) -> str:
        for zid, z in self.zones.items():
            if z["name"] == name:
                return zid
        raise KeyError(name)

    def seed(self, zone: str, **fields: Any) -> dict[str, Any]:
        """Put a record straight into a zone (as another tool or a person would have)."""
        with self.lock:
            zid = self.zone_id(zone)
            return copy.deepcopy(self._store(zid, self._validated(zid, fields)))

    def zone_records(self, zone: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.records[self.zone_id(zone)].values()))

    def fail_next(self, count: int, status: int = 429) -> None:
        """The next `count` requests answer `status` (429 carries Retry-After) before any work."""
        with self.lock:
            self._fail.extend([status] * count)

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    # -- record rules ----------------------------------------------------------------------
    def _validated(self, zid: str, body: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
        zone = self.zones[zid]["name"]
        rec = dict(base or {})
        rec.update({k: v for k, v in body.items() if k != "id"})
        rtype = str(rec.get("type", "")).upper()
        name = str(rec.get("name", "")).rstrip(".").lower()
        if name in ("", "@"):
            name = zone
        elif name != zone and not name.endswith("." + zone):
            name = f"{name}.{zone}"
        rec["type"], rec["name"] = rtype, name
        data = rec.get("data") or {}
        if rtype in ("A", "AAAA"):
            try:
                ip = ipaddress.ip_address(str(rec.get("content", "")))
            except ValueError:
                raise ApiError(400, 1004, "DNS Validation Error: content is not a valid IP address") from None
            if (ip.version == 4) != (rtype == "A"):
                raise ApiError(400, 1004, f"DNS Validation Error: content is not an IPv{4 if rtype == 'A' else 6}")
        if rtype == "SRV":
            rec["priority"] = data.get("priority", rec.get("priority"))
            rec["content"] = f"{data.get('weight')} {data.get('port')} {data.get('target')}"
        if rtype == "CAA":
            rec["content"] = f"{data.get('flags', 0)} {data.get('tag')} \"{data.get('value')}\""
        ttl = int(rec.get("ttl", 1) or 1)
        if ttl != 1 and not 60 <= ttl <= 86400:
            raise ApiError(400, 1004, "DNS Validation Error: TTL must be between 60 and 86400 seconds, or 1 for Automatic")
        proxied = bool(rec.get("proxied", False))
        if proxied and rtype not in PROXIABLE:
            raise ApiError(400, 9004, f"This record type cannot be proxied: {rtype}")
        rec["proxied"] = proxied
        rec["proxiable"] = rtype in PROXIABLE
        rec["ttl"] = 1 if proxied else ttl
        rec.setdefault("comment", None)
        rec.setdefault("tags", [])
        return rec

    def _conflicts(self, zid: str, rec: dict[str, Any], rid: str | None) -> None:
        for other in self.records[zid].values():
            if other["id"] == rid or other["name"] != rec["name"]:
                continue
            if (rec["type"] == "CNAME") != (other["type"] == "CNAME"):
                raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
            if other["type"] == rec["type"] == "CNAME":
                raise ApiError(400, 81053, "A CNAME record with that host already exists.")
            same = (other["type"] == rec["type"] and str(other.get("content")) == str(rec.get("content"))
                    and other.get("priority") == rec.get("priority"))
            if same:
                raise ApiError(400, 81058, "A record with the same settings already exists.")

    def _store(self, zid: str, rec: dict[str, Any], rid: str | None = None) -> dict[str, Any]:
        now = _now()
        rec = dict(rec)
        rec["id"] = rid or _new_id()
        rec["zone_id"], rec["zone_name"] = zid, self.zones[zid]["name"]
        rec.setdefault("created_on", now)
        rec["modified_on"] = now
        rec.setdefault("meta", {"auto_added": False, "source": "primary"})
        rec.setdefault("comment", None)
        rec.setdefault("tags", [])
        self.records[zid][rec["id"]] = rec
        return rec

    def create(self, zid: str, body: dict[str, Any]) -> dict[str, Any]:
        rec = self._validated(zid, body)
        self._conflicts(zid, rec, None)
        return self._store(zid, rec)

    def _existing(self, zid: str, rid: str) -> dict[str, Any]:
        if rid not in self.records[zid]:
            raise ApiError(404, 81044, "Record does not exist.")
        return self.records[zid][rid]

    def update(self, zid: str, rid: str, body: dict[str, Any], *, merge: bool) -> dict[str, Any]:
        old = self._existing(zid, rid)
        keep = {k: old[k] for k in ("created_on", "meta")}
        base = dict(old) if merge else {"comment": None, "tags": []}
        if merge and "data" in body:
            base.pop("content", None)
        rec = self._validated(zid, body, base)
        rec.update(keep)
        self._conflicts(zid, rec, rid)
        return self._store(zid, rec, rid)

    def delete(self, zid: str, rid: str) -> dict[str, Any]:
        self._existing(zid, rid)
        del self.records[zid][rid]
        return {"id": rid}

    def batch(self, zid: str, body: dict[str, Any]) -> dict[str, Any]:
        saved = copy.deepcopy(self.records[zid])
        result: dict[str, list[Any]] = {"deletes": [], "patches": [], "puts": [], "posts": []}
        try:
            for op in body.get("deletes", []):
                result["deletes"].append(copy.deepcopy(self._existing(zid, op["id"])))
                self.delete(zid, op["id"])
            for op in body.get("patches", []):
                result["patches"].append(copy.deepcopy(self.update(zid, op["id"], op, merge=True)))
            for op in body.get("puts", []):
                result["puts"].append(copy.deepcopy(self.update(zid, op["id"], op, merge=False)))
            for op in body.get("posts", []):
                result["posts"].append(copy.deepcopy(self.create(zid, op)))
        except ApiError:
            self.records[zid] = saved   # one database transaction: all or nothing
            raise
        return result


class _Handler(BaseHTTPRequestHandler):
    emu: CloudflareEmulator
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go out as two writes; without NODELAY, Nagle plus delayed ACK adds
        # ~40 ms to every keep-alive request, which would swamp what the benchmark measures
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._reply(status, {"success": False, "errors": [{"code": code, "message": message}],
                             "messages": [], "result": None}, headers)

    def _handle(self, method: str) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = url.path[len(PREFIX):] if url.path.startswith(PREFIX) else url.path
        template, params = next(((t, m.groupdict()) for t, rx in _ROUTES if (m := rx.match(path))), (None, {}))
        with emu.lock:
            emu.requests[f"{method} {template or path}"] += 1
            failing = emu._fail.pop(0) if emu._fail else None
        if failing is not None:
            headers = {"Retry-After": str(emu.retry_after)} if failing == 429 else {}
            code = 10429 if failing == 429 else 10001
            return self._error(failing, code, "Rate limited" if failing == 429 else "Service unavailable", headers)
        if template is None:
            return self._error(404, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._error(400, 6007, "Malformed JSON in request body")
        query = parse_qs(url.query, keep_blank_values=True)
        with emu.lock:
            emu.violations += emu.checker.check(template, method.lower(), query, body)
        auth = self.headers.get("Authorization", "")
        if not auth:
            return self._error(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in emu.tokens:
            return self._error(403, 10000, "Authentication error")
        try:
            with emu.lock:
                status, payload = self._route(template, method, params, query, body or {}, emu.tokens[token])
        except ApiError as exc:
            return self._error(exc.status, exc.code, exc.message)
        self._reply(status, {"success": True, "errors": [], "messages": [], **payload})

    def _zone(self, zid: str, visible: set[str] | None) -> str:
        if zid not in self.emu.zones:
            raise ApiError(404, 7003, f"Could not route to /zones/{zid}, perhaps your object identifier is invalid?")
        if visible is not None and zid not in visible:
            raise ApiError(403, 10000, "Authentication error")
        return zid

    def _route(self, template: str, method: str, params: dict[str, str], query: dict[str, list[str]],
               body: dict[str, Any], visible: set[str] | None) -> tuple[int, dict[str, Any]]:
        emu = self.emu
        q = {k: v[-1] for k, v in query.items()}
        if template == "/user/tokens/verify" and method == "GET":
            return 200, {"result": {"id": _new_id()[:32], "status": "active"},
                         "messages": [{"code": 10000, "message": "This API Token is valid and active"}]}
        if template == "/zones" and method == "GET":
            zones = [z for zid, z in emu.zones.items() if visible is None or zid in visible]
            if "name" in q:
                zones = [z for z in zones if z["name"] == q["name"].lower()]
            if "status" in q:
                zones = [z for z in zones if z["status"] == q["status"]]
            return _page(sorted(zones, key=lambda z: z["name"]), q, 20, 50)
        if template == "/zones/{zone_id}" and method == "GET":
            return 200, {"result": copy.deepcopy(emu.zones[self._zone(params["zone_id"], visible)])}
        zid = self._zone(params.get("zone_id", ""), visible)
        if template == "/zones/{zone_id}/purge_cache" and method == "POST":
            emu.purges.append({"zone": emu.zones[zid]["name"], **body})
            return 200, {"result": {"id": zid}}
        if template == "/zones/{zone_id}/dns_records":
            if method == "GET":
                recs = list(emu.records[zid].values())
                if "name" in q:
                    recs = [r for r in recs if r["name"] == q["name"].rstrip(".").lower()]
                if "type" in q:
                    recs = [r for r in recs if r["type"] == q["type"]]
                recs.sort(key=lambda r: (r["type"], r["name"], r["id"]))
                return _page(copy.deepcopy(recs), q, 100, emu.max_per_page)
            if method == "POST":
                return 200, {"result": copy.deepcopy(emu.create(zid, body))}
        if template == "/zones/{zone_id}/dns_records/batch" and method == "POST":
            return 200, {"result": emu.batch(zid, body)}
        if template == "/zones/{zone_id}/dns_records/{dns_record_id}":
            rid = params["dns_record_id"]
            if method == "GET":
                return 200, {"result": copy.deepcopy(emu._existing(zid, rid))}
            if method in ("PATCH", "PUT"):
                return 200, {"result": copy.deepcopy(emu.update(zid, rid, body, merge=method == "PATCH"))}
            if method == "DELETE":
                return 200, {"result": emu.delete(zid, rid)}
        raise ApiError(405, 7001, f"Method {method} not allowed for {template}")

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")


def _page(items: list[dict[str, Any]], q: dict[str, str], default: int, cap: int) -> tuple[int, dict[str, Any]]:
    try:
        page = max(int(float(q.get("page", 1))), 1)
        per_page = min(max(int(float(q.get("per_page", default))), 1), cap)
    except ValueError:
        raise ApiError(400, 1004, "page and per_page must be numbers") from None
    start = (page - 1) * per_page
    chunk = items[start:start + per_page]
    total_pages = max(-(-len(items) // per_page), 1)
    return 200, {"result": chunk, "result_info": {"page": page, "per_page": per_page, "count": len(chunk),
                                                  "total_count": len(items), "total_pages": total_pages}}
