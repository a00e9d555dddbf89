"""One ASGI middleware for what every HTTP request needs: request id, client IP, body limit,
security headers, a JSON access log line, the general request limit and the audit entry.

The request limit counts by what was authenticated, never by what was claimed: a request whose
access token verifies (signature, issuer, expiry) counts against that token, every other one (no
token, a garbage `Authorization` header, an expired token) against its client IP.

Written as plain ASGI (not BaseHTTPMiddleware) so it streams and costs little per request.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import time
import uuid
from urllib.parse import parse_qsl

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser

from api.deps import ACCESS_COOKIE
from api.instruments import observe_request, route_of
from controller import audit
from controller.logs import request_id as request_id_var
from controller.security.tokens import TokenError, decode_access_token

log = logging.getLogger("jarvis.http")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# Refused requests from no one (no verified caller) leave at most this many audit entries per IP and
# minute; past it they are still access-logged. With the request limit itself, this bounds the rows
# an unauthenticated sender (a forged webhook, a password guesser) can add.
ANONYMOUS_REFUSALS_AUDITED_PER_MINUTE = 30
_RID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Which process answered (its host name: the container id in a Swarm task). Behind a balancer it
# tells an operator, and the full-stack test, which replica served a request or a WebSocket.
INSTANCE_HEADER = (b"x-jarvis-instance", socket.gethostname().encode())
CSP = (b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       b"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class TrustedProxies:
    def __init__(self, entries: list[str]) -> None:
        self.nets = [ipaddress.ip_network(e, strict=False) for e in entries]

    def client_ip(self, peer: str, forwarded_for: str | None) -> str:
        """The peer, unless it is a trusted proxy: then the right-most untrusted X-Forwarded-For hop."""
        if not forwarded_for or not self._trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _trusted(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in n for n in self.nets)


class RequestMiddleware:
    def __init__(self, app, runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.proxies = TrustedProxies(runtime.settings.trusted_proxies)
        self.max_body = runtime.settings.max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        rid = headers.get("x-request-id", "")
        rid = rid if _RID.match(rid) else uuid.uuid4().hex
        peer = scope["client"][0] if scope.get("client") else ""
        state = scope.setdefault("state", {})
        state["client_ip"] = ip = self.proxies.client_ip(peer, headers.get("x-forwarded-for"))
        state["request_id"] = rid
        token = request_id_var.set(rid)
        try:
            if scope["type"] == "websocket":
                return await self.app(scope, receive, _with_instance_on_accept(send))
            await self._http(scope, receive, send, headers, rid, ip)
        finally:
            request_id_var.reset(token)

    async def _http(self, scope, receive, send, headers, rid, ip):
        method, path = scope["method"], scope["path"]
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def refuse(status: int, body: dict, extra=()) -> None:
            # answered here, before any route: access-logged and counted, never audited (no route ran)
            await _plain(send, status, body, rid, extra=extra)
            await self._after(scope, method, path, status, ip, rid, started, audited=False)

        too_large = {"detail": f"request body larger than {self.max_body} bytes", "code": "too_large"}
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            return await refuse(413, too_large)
        if not path.startswith(("/static", "/healthz", "/readyz")):
            try:
                wait = self.runtime.limiter.hit(self._limit_key(headers, ip), self.runtime.settings.requests_per_minute, 60)
            except RedisError:   # the limits live in Redis (full stack): unavailable, not broken
                log.error("redis unavailable", extra={"event": "redis.unavailable"})
                return await refuse(503, {"detail": "queue unavailable", "code": "unavailable"},
                                    extra=[(b"retry-after", b"5")])
            if wait:
                return await refuse(429, {"detail": "too many requests", "code": "rate_limited"},
                                    extra=[(b"retry-after", str(wait).encode())])
        nul = _nul_fields(scope)
        if nul:
            # no text column can hold NUL (PostgreSQL refuses it): a 422 here, before it reaches a query
            return await refuse(422, {"detail": "invalid input: NUL in " + ", ".join(f or "the path" for f in nul),
                                      "code": "validation_error",
                                      "errors": [{"field": f, "message": "must not contain a NUL character"}
                                                 for f in nul]})
        if length is None and "transfer-encoding" in headers:
            # no Content-Length (a chunked body): read it here, within the limit, so an oversized one is
            # a 413 before any route sees it (a route's body parser would turn a mid-read error into 400)
            receive = await _buffered(receive, self.max_body)
            if receive is None:
                return await refuse(413, too_large)

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                hdrs = list(message.get("headers", []))
                hdrs += SECURITY_HEADERS
                hdrs.append((b"x-request-id", rid.encode()))
                hdrs.append(INSTANCE_HEADER)
                if not path.startswith("/api/docs"):
                    hdrs.append((b"content-security-policy", CSP))
                if path.startswith("/api"):
                    hdrs.append((b"cache-control", b"no-store"))
                message["headers"] = hdrs
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # an unhandled error: Starlette's outer ServerErrorMiddleware answers 500 and logs the
            # traceback; the request is still counted, audited (when it mutates) and access-logged
            status_holder["status"] = 500
            raise
        finally:
            await self._after(scope, method, path, status_holder["status"], ip, rid, started)

    async def _after(self, scope, method, path, status, ip, rid, started, *, audited: bool = True) -> None:
        elapsed = time.perf_counter() - started
        observe_request(method, route_of(scope), status, elapsed)
        if audited and method in MUTATING and path.startswith("/api"):
            await run_in_threadpool(self._audit, scope, method, path, status, ip, rid)
        if path not in ("/healthz", "/readyz", "/metrics"):     # probes and scrapes would drown the log
            level = logging.ERROR if status >= 500 else logging.INFO
            log.log(level, "%s %s %s", method, path, status,
                    extra={"event": "http.request", "method": method, "path": path, "status": status,
                           "ms": round(elapsed * 1000, 2), "ip": ip})

    def _anonymous_refusals_exceeded(self, ip: str) -> bool:
        try:
            return bool(self.runtime.limiter.hit(f"audit-anon:{ip}", ANONYMOUS_REFUSALS_AUDITED_PER_MINUTE, 60))
        except RedisError:   # Redis away: the refusal is audited rather than lost
            return False

    def _limit_key(self, headers: dict[str, str], ip: str) -> str:
        """`tok:<jti>` for a request whose access token verifies (the same key an authenticated caller
        is known by everywhere), else `ip:<client ip>`."""
        token = _access_token(headers)
        if token:
            try:
                claims = decode_access_token(self.runtime.jwt_key, self.runtime.settings.jwt_issuer, token)
            except TokenError:
                pass
            else:
                return f"tok:{claims.jti}"
        return f"ip:{ip}"

    def _audit(self, scope, method, path, status, ip, rid) -> None:
        state = scope.get("state", {})
        action = state.get("action") or f"{method} {path}"
        extra = state.get("audit", {})
        if extra.get("skip"):
            return
        uid, email, role = state.get("actor") or (extra.get("user_id"), extra.get("user_email", ""),
                                                   extra.get("role", ""))
        if uid is None and status >= 400 and self._anonymous_refusals_exceeded(ip):
            return
        actor = audit.Actor(user_id=uid, email=email, role=role, ip=ip)
        result = ("success" if status < 400 else "denied" if status in (401, 403, 429)
                  else "error" if status >= 500 else "failure")
        if action == "public":
            action = extra.get("action", f"{method} {path}")
        try:
            with self.runtime.db.session() as db:
                audit.record(db, actor, extra.get("action", action), target=extra.get("target", path),
                             result=result, status=status, request_id=rid, detail=extra.get("detail"))
        except Exception:
            log.exception("audit entry could not be stored", extra={"event": "audit.failed", "path": path})


def _with_instance_on_accept(send):
    async def wrapped(message):
        if message["type"] == "websocket.accept":
            message = {**message, "headers": [*message.get("headers", []), INSTANCE_HEADER]}
        await send(message)
    return wrapped


def _nul_fields(scope) -> list[str]:
    """The query parameters (and "" for the path) that hold a NUL character once decoded."""
    fields = [""] if "\x00" in scope["path"] else []
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" in query or "\x00" in query:
        fields += [k for k, v in parse_qsl(query, keep_blank_values=True) if "\x00" in k + v]
    return fields


def _access_token(headers: dict[str, str]) -> str:
    """The access token a request carries: a bearer header, else the UI's cookie (as api.deps reads it)."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return cookie_parser(headers.get("cookie", "")).get(ACCESS_COOKIE, "")


async def _buffered(receive, limit: int):
    """The whole body read from `receive` (at most `limit` bytes), as a new `receive` that replays it;
    None when the body is larger."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":       # the client went away: let the app see it
            chunks.append(message)
            break
        size += len(message.get("body", b""))
        if size > limit:
            return None
        chunks.append(message)
        if not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in chunks if m["type"] == "http.request")
    tail = [m for m in chunks if m["type"] != "http.request"]
    replay = [{"type": "http.request", "body": body, "more_body": False}, *tail]

    async def replayed():
        return replay.pop(0) if replay else await receive()

    return replayed


async def _plain(send, status: int, body: dict, rid: str, extra=()) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"x-request-id", rid.encode()), INSTANCE_HEADER, *SECURITY_HEADERS, *extra]})
    await send({"type": "http.response.body", "body": data})
