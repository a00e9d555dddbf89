"""TOTP second factor (RFC 6238 via pyotp) and single-use recovery codes."""

from __future__ import annotations

import secrets
import time

import pyotp

from controller.security.tokens import hash_opaque

ISSUER = "Jarvis"
STEP = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """The time step the code belongs to (±1 step of clock skew), or None. A step already used is refused."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    now = time.time() if now is None else now
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        step = int(now // STEP) + offset
        if step > last_step and secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def new_recovery_codes(n: int = 10) -> list[tuple[str, str]]:
    """Codes for the user (shown once) with their hashes for the database."""
    out = []
    for _ in range(n):
        code = "-".join(secrets.token_hex(3) for _ in range(2))
        out.append((code, hash_opaque(code)))
    return out
