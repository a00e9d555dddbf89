"""Password reset: a single-use, expiring link sent by mail (or written to the log without SMTP)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller import mail
from controller.accounts import users
from controller.errors import Invalid
from controller.security.tokens import hash_opaque, new_opaque_token
from controller.settings import Settings
from controller.store.models import OneTimeToken, User, utcnow

log = logging.getLogger(__name__)
PURPOSE = "password_reset"


def request(db: Session, settings: Settings, email: str) -> str | None:
    """Sends a reset link when the account exists. Callers answer the same either way."""
    user = users.by_email(db, email)
    if user is None or not user.active:
        return None
    token, token_hash = new_opaque_token()
    db.add(OneTimeToken(user_id=user.id, purpose=PURPOSE, token_hash=token_hash,
                        expires_at=utcnow() + dt.timedelta(minutes=settings.reset_token_minutes)))
    db.flush()
    link = f"{settings.base_url.rstrip('/')}/login?reset={token}"
    mail.send(settings, user.email, "Reset your Jarvis password",
              f"Someone asked to reset the password of {user.email} on Jarvis.\n\n"
              f"Open this link within {settings.reset_token_minutes} minutes to choose a new one:\n{link}\n\n"
              "If it was not you, ignore this message.")
    return token


def confirm(db: Session, token: str, new_password: str) -> User:
    row = db.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == hash_opaque(token),
                                               OneTimeToken.purpose == PURPOSE))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise Invalid("this reset link is invalid, used or expired",
                      errors=[{"field": "token", "message": "invalid, used or expired"}])
    user = users.get(db, row.user_id)
    users.set_password(db, user, new_password)
    row.used_at = utcnow()
    return user
