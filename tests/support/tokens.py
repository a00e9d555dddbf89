"""A bearer token for a user made in a test, without a sign-in: its session is opened directly, as
a login would (access tokens are refused unless their session is open)."""

from __future__ import annotations

import secrets

from controller.security.tokens import issue_access_token
from controller.store.models import UserSession


def bearer_token(rt, user_id: int, role: str, minutes: int = 15) -> str:
    sid = secrets.token_hex(16)
    with rt.db.session() as db:
        db.add(UserSession(id=sid, user_id=user_id))
    return issue_access_token(rt.jwt_key, rt.settings.jwt_issuer, user_id, role, minutes, sid=sid)[0]
