"""The embedded default on SQLite: first start, login, connections, a runbook job to the end."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app
from controller.runtime import Runtime
from tests.conftest import make_settings
from tests.jobs.conftest import RUNBOOKS


def test_embedded_sqlite_end_to_end(tmp_path, capsys):
    settings = make_settings(tmp_path, "", secret_key="", runbook_paths=[RUNBOOKS], run_worker=True)
    assert settings.sqlalchemy_url.startswith("sqlite:///")
    rt = Runtime.start(settings)
    out = capsys.readouterr().out
    password = out.split("password:")[1].split()[0]
    try:
        with TestClient(create_app(rt)) as c:
            t = c.post("/api/auth/login", json={"email": settings.first_admin_email, "password": password}).json()
            h = {"Authorization": f"Bearer {t['access_token']}"}
            assert t["scope"] == "self"
            c.post("/api/auth/password", headers=h, json={"current_password": password,
                                                           "new_password": "embedded-admin-pass-1"})
            t = c.post("/api/auth/login", json={"email": settings.first_admin_email,
                                                "password": "embedded-admin-pass-1"}).json()
            h = {"Authorization": f"Bearer {t['access_token']}"}
            r = c.post("/api/connections", headers=h, json={"name": "cf", "type": "cloudflare",
                                                             "credentials": {"api_token": "t" * 40}})
            assert r.status_code == 201
            job = c.post("/api/runbooks/test-echo/execute", headers=h, json={"input": {"message": "sqlite"}}).json()
            deadline = time.time() + 90
            while time.time() < deadline:
                status = c.get(job["url"], headers=h).json()["status"]
                if status not in ("pending", "running"):
                    break
                time.sleep(0.3)
            assert status == "success"
            with c.websocket_connect(job["ws_url"], headers=h) as ws:
                msgs = []
                while (m := ws.receive_json())["type"] != "end":
                    msgs.append(m)
            counters = [e["counter"] for x in msgs if x["type"] == "events" for e in x["events"]]
            assert m["status"] == "success" and counters == list(range(1, m["last_counter"] + 1))
            audit = c.get("/api/audit", headers=h).json()
            assert {"auth.login", "connections.write", "runbooks.execute"} <= {i["action"] for i in audit["items"]}
    finally:
        rt.close()
