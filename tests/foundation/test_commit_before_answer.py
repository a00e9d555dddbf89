"""A request's writes are committed before its answer leaves the server: a client that acts on an
answer at once (uses a login's token, reads what a 201 created) finds the rows there.

The database is made slow to commit (a listener that waits), so an answer sent before the commit
reaches the client while the row is still missing."""

from __future__ import annotations

import time

import httpx
import jwt
from sqlalchemy import event, select

from controller.store.models import UserSession
from tests.ui.conftest import serve


def test_a_login_answers_only_once_its_session_is_stored(runtime, make_user):
    user = make_user("viewer")
    server = serve(runtime)

    def slow_commit(conn):
        time.sleep(0.3)   # a slow database, not a wait for a condition

    event.listen(runtime.db.engine, "commit", slow_commit)
    try:
        r = httpx.post(f"{server.url}/api/auth/login", json={"email": user.email, "password": user.password},
                       timeout=30)
        assert r.status_code == 200, r.text
        sid = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["sid"]
        with runtime.db.session() as db:
            assert db.scalar(select(UserSession.id).where(UserSession.id == sid)) == sid
        # and the token works straight away, on the next request
        me = httpx.get(f"{server.url}/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"},
                       timeout=30)
        assert me.status_code == 200, me.text
    finally:
        event.remove(runtime.db.engine, "commit", slow_commit)
        server.stop()
