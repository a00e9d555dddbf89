"""Every mutating request and every login is in the audit log, which cannot be changed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from controller.store.db import Database
from controller.store.migrate import upgrade


def test_logins_and_mutations_are_audited(client, make_user, admin):
    u = make_user("viewer")
    client.post("/api/auth/login", json={"email": u.email, "password": "wrong"})
    client.post("/api/auth/login", json={"email": u.email, "password": u.password})
    client.post("/api/connections", headers=admin.headers, json={"name": "audited", "type": "docker", "config": {"base_url": "unix:///var/run/docker.sock"}})
    client.post("/api/connections", headers=u.headers, json={"name": "refused", "type": "docker"})
    items = client.get("/api/audit", params={"user": u.email, "limit": 10}, headers=admin.headers).json()["items"]
    results = [(i["action"], i["result"]) for i in items]
    assert ("auth.login", "failure") in results or ("auth.login", "denied") in results
    assert ("auth.login", "success") in results
    assert ("connections.write", "denied") in results
    mine = client.get("/api/audit", params={"action": "connections.*", "user": admin.email},
                      headers=admin.headers).json()
    assert mine["items"][0]["target"] == "connection/audited" and mine["items"][0]["ip"]
    assert client.get("/api/audit", headers=u.headers).status_code == 403


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_audit_rows_cannot_be_changed(backend, pg_url, tmp_path):
    url = pg_url if backend == "postgresql" else f"sqlite:///{tmp_path}/a.db"
    upgrade(url)
    db = Database(url)
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO audit_log (at, user_email, role, action, target, ip, result, status, request_id, detail)"
                       " VALUES (CURRENT_TIMESTAMP, 'a', 'admin', 'x', '', '', 'success', 200, '', '{}')"))
    for stmt in ("UPDATE audit_log SET action='y'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError), db.engine.begin() as c:
            c.execute(text(stmt))
    db.dispose()


def _audited(runtime, response) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from controller.store.models import AuditEntry

    with runtime.db.session() as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.request_id == response.headers["x-request-id"]))
        return [(r.action, r.result) for r in rows]


def test_a_silent_refresh_without_a_session_is_not_an_audited_event(client, runtime):
    """Every view of the login page tries a silent refresh; with no session cookie nothing happened
    worth auditing. A refresh token that is presented and refused still is."""
    r = client.post("/api/auth/refresh")
    assert r.status_code == 401
    assert _audited(runtime, r) == []
    r = client.post("/api/auth/refresh", json={"refresh_token": "stolen-or-made-up-token"})
    assert r.status_code == 401
    assert _audited(runtime, r) == [("auth.refresh", "denied")]
