"""TOTP enrolment and checks, recovery codes, and the roles an admin requires TOTP for."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.errors import Invalid
from controller.secrets import SecretBackend
from controller.security import totp
from controller.security.tokens import hash_opaque
from controller.store.models import AppSetting, RecoveryCode, User, utcnow

REQUIRED_KEY = "totp_required_roles"
_store: SecretBackend | None = None   # set once at start-up by the runtime (TOTP secrets are sealed)


def bind_store(store: SecretBackend) -> None:
    global _store
    _store = store


def _seal(user: User, secret: str) -> str:
    key_id, blob = _store.seal({"totp": secret}, f"users:{user.id}:totp")
    return f"{key_id}:{blob.hex()}"


def _open(user: User) -> str:
    key_id, blob = user.totp_secret.split(":", 1)
    return _store.open(key_id, bytes.fromhex(blob), f"users:{user.id}:totp")["totp"]


_cache: tuple[float, list[str]] | None = None
CACHE_S = 5.0   # every request asks; a policy change reaches other processes within seconds


def required_roles(db: Session) -> list[str]:
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < CACHE_S:
        return list(_cache[1])
    row = db.get(AppSetting, REQUIRED_KEY)
    roles = list(row.value) if row else []
    _cache = (now, roles)
    return list(roles)


def set_required_roles(db: Session, roles: list[str]) -> None:
    global _cache
    _cache = None
    row = db.get(AppSetting, REQUIRED_KEY)
    if row is None:
        db.add(AppSetting(key=REQUIRED_KEY, value=roles))
    else:
        row.value = roles


def start_enrolment(db: Session, user: User) -> tuple[str, str]:
    """A new secret (pending until a code proves the user has it) and its otpauth:// URI."""
    if user.totp_enabled:
        raise Invalid("two-factor authentication is already enabled; disable it first")
    secret = totp.new_secret()
    user.totp_secret = _seal(user, secret)
    return secret, totp.provisioning_uri(secret, user.email)


def confirm_enrolment(db: Session, user: User, code: str) -> list[str]:
    if not user.totp_secret or user.totp_enabled:
        raise Invalid("no enrolment in progress")
    step = totp.matching_step(_open(user), code, user.totp_last_step)
    if step is None:
        raise Invalid("the code does not match", errors=[{"field": "code", "message": "does not match"}])
    user.totp_enabled, user.totp_last_step = True, step
    return new_recovery_codes(db, user)


def new_recovery_codes(db: Session, user: User) -> list[str]:
    for old in db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.delete(old)
    codes = totp.new_recovery_codes()
    for _, h in codes:
        db.add(RecoveryCode(user_id=user.id, code_hash=h))
    return [c for c, _ in codes]


def check_code(db: Session, user: User, code: str) -> bool:
    """A current TOTP code (each time step usable once) or an unused recovery code."""
    if user.totp_secret:
        step = totp.matching_step(_open(user), code, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return True
    row = db.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                               RecoveryCode.code_hash == hash_opaque(code.strip().lower()),
                                               RecoveryCode.used_at.is_(None)))
    if row is not None:
        row.used_at = utcnow()
        return True
    return False


def disable(db: Session, user: User) -> None:
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, None, 0
    for old in db.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.delete(old)
