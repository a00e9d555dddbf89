"""Access tokens (JWT, one fixed algorithm) and opaque random tokens stored hashed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"   # fixed: the algorithm in a token's header is never trusted


class TokenError(Exception):
    """An access token that is missing, malformed, expired, not yet valid or wrongly signed."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str
    scope: str          # "full", or "self" (must change password / enrol TOTP first)
    jti: str
    sid: str            # the session (user_sessions.id) this token belongs to; refused once it ends
    expires_at: dt.datetime


def issue_access_token(key: str, issuer: str, user_id: int, role: str, minutes: int,
                       scope: str = "full", *, sid: str) -> tuple[str, int]:
    now = dt.datetime.now(dt.UTC)
    exp = now + dt.timedelta(minutes=minutes)
    claims = {"sub": str(user_id), "role": role, "scope": scope, "iss": issuer, "iat": now, "nbf": now,
              "exp": exp, "jti": uuid.uuid4().hex, "sid": sid, "typ": "access"}
    return jwt.encode(claims, key, algorithm=ALGORITHM), minutes * 60


def decode_access_token(key: str, issuer: str, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=issuer, leeway=5,
                            options={"require": ["exp", "iat", "nbf", "sub", "iss", "sid"]})
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from None
    if claims.get("typ") != "access":
        raise TokenError("not an access token")
    try:
        return AccessClaims(user_id=int(claims["sub"]), role=str(claims["role"]),
                            scope=str(claims.get("scope", "full")), jti=str(claims["jti"]),
                            sid=str(claims["sid"]),
                            expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC))
    except (KeyError, ValueError) as exc:
        raise TokenError(f"bad claims: {exc}") from None


def new_opaque_token() -> tuple[str, str]:
    """A random token for the client and its SHA-256 for the database."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque(token)


def hash_opaque(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(key: str, sid: str) -> str:
    """The double-submit CSRF token of one session: an HMAC of its id, so a token taken from another
    session (or made up, or left over from before a new sign-in) does not match."""
    mac = hmac.new(key.encode(), b"csrf:" + sid.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
