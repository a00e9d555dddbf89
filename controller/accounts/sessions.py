"""Login and refresh-token rotation with theft detection.

A sign-in opens a session (a `user_sessions` row). Its refresh tokens share the session id as
their family; its access tokens carry it as `sid`, checked on every request (`liveness`). A
refresh token is single-use. Each rotation keeps the family id; presenting a token that was
already rotated means someone else holds a copy, so the whole session ends.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller.accounts import mfa, users
from controller.errors import RateLimited, Unauthorized
from controller.ratelimit import Limiter
from controller.security.passwords import hash_password, needs_rehash, verify_password
from controller.security.tokens import hash_opaque, issue_access_token, new_opaque_token
from controller.settings import Settings
from controller.store.models import RefreshToken, User, UserSession, utcnow

BAD_LOGIN = "invalid email or password"


@dataclass(frozen=True)
class Tokens:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    session_id: str
    remember: bool = False


def _scope(db: Session, user: User) -> str:
    """"self" confines a session to the account's own page until it is put in order."""
    if user.password_change_required:
        return "self"
    if not user.totp_enabled and user.role in mfa.required_roles(db):
        return "self"
    return "full"


def issue(db: Session, settings: Settings, key: str, user: User, *, remember: bool, ip: str,
          family: str | None = None) -> Tokens:
    """Tokens for `family`'s session, or for a new session when none is given."""
    if family is None:
        family = secrets.token_hex(16)
        db.add(UserSession(id=family, user_id=user.id))
    scope = _scope(db, user)
    access, expires_in = issue_access_token(key, settings.jwt_issuer, user.id, user.role,
                                            settings.access_token_minutes, scope, sid=family)
    refresh, refresh_hash = new_opaque_token()
    days = settings.refresh_token_remember_days if remember else settings.refresh_token_days
    db.add(RefreshToken(user_id=user.id, token_hash=refresh_hash, family=family,
                        remember=remember, expires_at=utcnow() + dt.timedelta(days=days), ip=ip))
    return Tokens(user, access, refresh, expires_in, scope, family, remember)


def login(db: Session, settings: Settings, key: str, limiter: Limiter, *, email: str, password: str,
          remember: bool, totp: str | None, ip: str) -> Tokens:
    """Checks the password (and second factor) under the login limits (README, "Sign-in limits"):
    an address that failed `login_failures_per_minute` times in the last minute is refused for any
    account; an account that failed that often is refused only to the addresses that failed on it,
    so whoever knows an email cannot lock its owner out."""
    email = users.normalise_email(email)
    limit = settings.login_failures_per_minute
    by_ip, by_account, pair = f"login:ip:{ip}", f"login:acct:{email}", f"login:acct-ip:{email}|{ip}"
    wait = limiter.peek(by_ip, limit, 60)
    if not wait and limiter.peek(pair, 1, 60):      # this address failed on this account lately...
        wait = limiter.peek(by_account, limit, 60)  # ...and the account is under attack: hold it back
    if wait:
        raise RateLimited("too many failed logins; try again later", retry_after=wait)

    def failed() -> None:
        for k in (by_ip, by_account, pair):
            limiter.hit(k, limit, 60)

    user = users.by_email(db, email)
    # verify_password does the same argon2 work when the account does not exist
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        failed()
        raise Unauthorized(BAD_LOGIN)
    if user.totp_enabled:
        if not totp:
            raise Unauthorized("second factor required", reason="totp_required")
        if not mfa.check_code(db, user, totp):
            failed()
            raise Unauthorized("invalid second factor", reason="totp_invalid")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # the owner's address is clear again; the account's count stays, so the addresses that failed
    # on it are still held back while it slides out of the window
    limiter.reset(pair)
    user.last_login_at = utcnow()
    return issue(db, settings, key, user, remember=remember, ip=ip)


def refresh(db: Session, settings: Settings, key: str, token: str, ip: str) -> Tokens:
    row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_opaque(token)))
    if row is None:
        raise Unauthorized("invalid refresh token")
    if row.rotated_at is None and row.revoked_at is None and row.expires_at <= utcnow():
        raise Unauthorized("refresh token expired")
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("account disabled")
    # One conditional update decides the rotation: of concurrent refreshes with the same token
    # exactly one changes the row (the database serialises the writes; a loser re-reads the row
    # after the winner commits and matches nothing). A loser is a reuse like any other.
    won = db.execute(update(RefreshToken)
                     .where(RefreshToken.id == row.id, RefreshToken.rotated_at.is_(None),
                            RefreshToken.revoked_at.is_(None))
                     .values(rotated_at=utcnow())
                     .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        db.refresh(row)
        if row.rotated_at is not None:
            revoke_family(db, row.family, "refresh token reused")   # reuse of a rotated token: assume theft
            db.commit()                     # kept, although the request answers 401
        raise Unauthorized("refresh token already used or revoked; please log in again")
    # a session ended while this token was being rotated (the family's revocation did not see the
    # new row yet) stays ended: the record in user_sessions decides, not the token rows
    if db.scalar(select(UserSession.ended_at).where(UserSession.id == row.family)) is not None:
        raise Unauthorized("session ended; please log in again")
    return issue(db, settings, key, user, remember=row.remember, ip=ip, family=row.family)


def revoke_family(db: Session, family: str, reason: str) -> None:
    """Ends a session: its refresh tokens die, and its access tokens are refused (see `liveness`)."""
    db.execute(update(RefreshToken).where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
               .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    db.execute(update(UserSession).where(UserSession.id == family, UserSession.ended_at.is_(None))
               .values(ended_at=utcnow(), end_reason=reason).execution_options(synchronize_session=False))


def change_password(db: Session, settings: Settings, key: str, user: User, password: str, *, sid: str,
                    ip: str) -> Tokens:
    """Sets the user's own password: every session ends (a thief's with them), and the caller goes on in
    a fresh one, whose scope is decided anew (the first change of a one-time password lifts "self"),
    so the old tokens can neither act nor keep saying that the password must be changed."""
    remember = bool(db.scalar(select(RefreshToken.remember).where(RefreshToken.family == sid,
                                                                  RefreshToken.remember.is_(True)).limit(1)))
    users.set_password(db, user, password)     # ends all sessions first: the new one stays open
    return issue(db, settings, key, user, remember=remember, ip=ip)


def logout(db: Session, token: str | None, user: User, sid: str) -> None:
    """Ends the caller's session (`sid`, the access token's), and the refresh token's if it is another
    of the caller's sessions."""
    revoke_family(db, sid, "logged out")
    if token:
        row = db.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_opaque(token)))
        if row is not None and row.user_id == user.id and row.family != sid:
            revoke_family(db, row.family, "logged out")
