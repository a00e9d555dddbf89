"""What the full stack relies on from one API process: it names itself, drains before it stops,
and answers 503 (not 500) while Redis is away."""

from __future__ import annotations

import signal
import socket

import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from api.server import DrainingServer
from controller.runtime import Runtime
from tests.conftest import make_settings
from tests.deploy.fullstack import wait_for


def test_every_response_names_the_instance_that_served_it(client):
    for path in ("/healthz", "/api/auth/me", "/no-such-page"):
        assert client.get(path).headers["x-jarvis-instance"] == socket.gethostname()


def test_readyz_is_503_while_draining_and_healthz_stays_200(app):
    with TestClient(app) as c:
        assert c.get("/readyz").status_code == 200
        app.state.draining = True
        try:
            res = c.get("/readyz")
            assert res.status_code == 503 and res.json()["status"] == "draining"
            assert c.get("/healthz").status_code == 200   # alive: Swarm must not kill it for this
        finally:
            app.state.draining = False


def test_sigterm_drains_first_and_a_second_signal_stops_at_once(app):
    server = DrainingServer(uvicorn.Config(app), app, drain_seconds=0.5)
    server.handle_exit(signal.SIGTERM, None)
    assert app.state.draining and not server.should_exit      # still serving
    wait_for(lambda: server.should_exit, 10, "the server told to stop after the drain")

    quick = DrainingServer(uvicorn.Config(app), app, drain_seconds=60)
    quick.handle_exit(signal.SIGTERM, None)
    quick.handle_exit(signal.SIGTERM, None)
    assert quick.should_exit
    app.state.draining = False


def test_redis_down_is_503_with_retry_after(pg_url, tmp_path, viewer):
    with socket.socket() as s:        # a port nothing listens on: Redis is away
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    rt = Runtime.start(make_settings(tmp_path, pg_url, redis_url=f"redis://127.0.0.1:{dead}/0"), first_admin=False)
    try:
        with TestClient(create_app(rt, background=False)) as c:
            res = c.get("/api/auth/me", headers=viewer.headers)
        assert res.status_code == 503 and res.headers["retry-after"] == "5", res.text
        assert res.json()["code"] == "unavailable"
    finally:
        rt.close()


def test_replicas_migrating_together_apply_the_schema_once(caplog):
    """Every replica calls upgrade at start; under the lock exactly one changes the schema."""
    import threading

    from controller.store.db import Database
    from controller.store.migrate import upgrade_locked
    from tests.support import pg

    name = pg.create_database("jarvis_migrate_once")
    dbs = [Database(pg.sqlalchemy_url(name)) for _ in range(3)]
    results: list[tuple] = []
    try:
        with caplog.at_level("INFO", logger="controller.store.migrate"):
            threads = [threading.Thread(target=lambda d=d: results.append(upgrade_locked(d))) for d in dbs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
        changed = [r for r in results if r[0] != r[1]]
        assert len(results) == 3 and len(changed) == 1 and changed[0][0] is None
        assert len({r[1] for r in results}) == 1
        assert [r.event for r in caplog.records if getattr(r, "event", "") == "db.migrated"] == ["db.migrated"]
    finally:
        for d in dbs:
            d.dispose()
        pg.drop_database(name)
