"""Typed dependencies: the runtime, a database session, and the caller checked against an action."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.permissions import ACTIONS
from controller.accounts import liveness
from controller.errors import Forbidden, Unauthorized
from controller.roles import at_least
from controller.runtime import Runtime
from controller.security.tokens import AccessClaims, TokenError, csrf_token, decode_access_token
from controller.store.models import User

ACCESS_COOKIE = "jarvis_at"
CSRF_COOKIE = "jarvis_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_db(request: Request) -> Iterator[Session]:
    with get_runtime(request).db.session() as session:
        yield session


# scope="function": the unit of work commits when the route returns, before the response is sent.
# With the default scope it would commit after the body went out, so a client could act on an answer
# (a login's tokens, a 201) before its rows exist, or be told 201 about a write that then failed.
DbDep = Annotated[Session, Depends(get_db, scope="function")]


@dataclass
class Principal:
    user: User
    claims: AccessClaims
    via_cookie: bool

    @property
    def role(self) -> str:
        return self.user.role


def client_ip(request: Request) -> str:
    return request.scope.get("state", {}).get("client_ip") or (request.client.host if request.client else "")


def _token(request: Request) -> tuple[str | None, bool]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    cookie = request.cookies.get(ACCESS_COOKIE)
    return (cookie, True) if cookie else (None, False)


def authenticate(request: Request, runtime: Runtime, db: Session) -> Principal:
    token, via_cookie = _token(request)
    if not token:
        raise Unauthorized("not authenticated")
    try:
        claims = decode_access_token(runtime.jwt_key, runtime.settings.jwt_issuer, token)
    except TokenError:
        raise Unauthorized("invalid or expired token") from None
    ended = liveness.for_runtime(runtime).end_reason(claims.sid)
    if ended:
        raise Unauthorized(f"session ended ({ended}); log in again", reason="session_ended")
    user = db.get(User, claims.user_id)
    if user is None or not user.active:
        raise Unauthorized("account disabled")
    if via_cookie and request.method not in SAFE_METHODS:
        # double-submit CSRF check for cookie sessions (bearer tokens are not sent by browsers on their
        # own): the header must carry this session's token, which no other session's cookie holds
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(runtime.jwt_key, claims.sid).encode()):
            raise Forbidden("missing or wrong CSRF token")
    return Principal(user=user, claims=claims, via_cookie=via_cookie)


def require(action: str):
    """The dependency a route declares its action with."""
    rule = ACTIONS[action]   # KeyError at import: an undeclared action cannot be used

    if rule.role is None:
        def public(request: Request) -> None:   # no database: /healthz must answer when it is down
            request.state.action = action

        public.jarvis_action = action
        return public

    def dependency(request: Request, db: DbDep) -> Principal:
        request.state.action = action   # for the audit entry, even when the caller is refused
        runtime = get_runtime(request)
        principal = authenticate(request, runtime, db)
        request.state.principal = principal
        # plain values for the audit entry, written after the session is gone
        request.state.actor = (principal.user.id, principal.user.email, principal.user.role)
        if principal.claims.scope != "full" and not rule.self_ok:
            raise Forbidden("finish setting up your account first (change the password or enrol two-factor)")
        if not at_least(principal.role, rule.role):
            raise Forbidden(f"{action} needs the {rule.role} role")
        # the request limit was counted for this token before routing (api/middleware.py)
        return principal

    dependency.jarvis_action = action  # read by app.tag_actions for the OpenAPI document
    return dependency


def principal_of(action: str):
    return Annotated[Principal, Depends(require(action))]

