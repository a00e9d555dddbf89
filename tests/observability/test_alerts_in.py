"""Alerts in: Alertmanager's webhook opens, updates and resolves incidents, authenticated by an
`alertmanager` connection's token; a real Alertmanager posts to a running Jarvis."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from controller.store.db import Database
from controller.store.models import AuditEntry, Incident, IncidentEvent
from tests.deploy.fullstack import wait_for
from tests.observability.alertmanager_server import Alertmanager
from tests.support import pg
from tests.support.jarvis_server import JarvisServer

URL = "/api/alerts/alertmanager"


def _connection(client, admin, token: str) -> str:
    name = f"am-{uuid.uuid4().hex[:8]}"
    res = client.post("/api/connections", headers=admin.headers, json={
        "name": name, "type": "alertmanager", "environment": "prod",
        "config": {"url": "https://alertmanager.example.com"}, "credentials": {"token": token}})
    assert res.status_code == 201, res.text
    return name


def _webhook(*alerts: dict) -> dict:
    return {"version": "4", "status": alerts[0]["status"], "receiver": "jarvis", "groupKey": "{}:{}",
            "truncatedAlerts": 0, "externalURL": "http://am.test", "alerts": list(alerts)}


def _alert(fp: str, status: str = "firing", **labels) -> dict:
    return {"status": status, "labels": {"alertname": "NodeDown", "instance": "node-1", "severity": "critical",
                                         **labels},
            "annotations": {"summary": "node-1 is down"}, "startsAt": "2026-12-03T07:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": fp}


@pytest.fixture
def am_token(client, admin):
    token = secrets.token_hex(32)
    return _connection(client, admin, token), token


def _incidents(runtime, name_fp: str) -> list[Incident]:
    with runtime.db.session() as db:
        return list(db.scalars(select(Incident).where(Incident.fingerprint.like(f"alert:%:{name_fp}"))))


def test_firing_opens_once_then_updates_and_resolved_resolves(client, runtime, am_token):
    name, token = am_token
    fp = uuid.uuid4().hex[:16]
    h = {"Authorization": f"Bearer {token}"}
    res = client.post(URL, headers=h, json=_webhook(_alert(fp)))
    assert res.status_code == 200, res.text
    assert res.json() == {"connection": name, "opened": 1, "updated": 0, "resolved": 0, "ignored": 0}
    assert client.post(URL, headers=h, json=_webhook(_alert(fp))).json()["updated"] == 1
    (inc,) = _incidents(runtime, fp)
    assert (inc.state, inc.occurrences, inc.severity, inc.origin) == ("open", 2, "critical", "alertmanager")
    assert inc.title == "NodeDown on node-1: node-1 is down" and inc.target == "prod"

    res = client.post(URL, headers=h, json=_webhook(_alert(fp, "resolved")))
    assert res.json()["resolved"] == 1
    (inc,) = _incidents(runtime, fp)
    assert inc.state == "resolved" and inc.resolved_by == f"alertmanager:{name}"
    # resolved again (Alertmanager repeats itself): nothing to resolve, said so
    assert client.post(URL, headers=h, json=_webhook(_alert(fp, "resolved"))).json()["ignored"] == 1


def test_no_token_or_a_wrong_one_is_refused_before_the_body_is_read(client, runtime, am_token):
    fp = uuid.uuid4().hex[:16]
    for headers in ({}, {"Authorization": "Bearer " + "x" * 64}, {"Authorization": f"Basic {am_token[1]}"}):
        res = client.post(URL, headers=headers, json=_webhook(_alert(fp)))
        assert res.status_code == 401, res.text
        # a wrong token with a body that is not even JSON: still 401, the body never parsed
        assert client.post(URL, headers=headers, content=b"{" * 100_000).status_code == 401
    assert _incidents(runtime, fp) == []
    with runtime.db.session() as db:
        refused = db.scalars(select(AuditEntry).where(AuditEntry.action == "alerts.alertmanager",
                                                      AuditEntry.result == "denied")).all()
    assert refused and all(am_token[1] not in str(e.detail) for e in refused)


def test_a_body_that_is_not_an_alertmanager_webhook_names_what_is_wrong(client, runtime, am_token):
    h = {"Authorization": f"Bearer {am_token[1]}"}
    res = client.post(URL, headers=h, json={"version": "4", "status": "firing", "alerts": [{"status": "firing"}]})
    assert res.status_code == 422
    assert "alerts.0.fingerprint" in {e["field"] for e in res.json()["errors"]}
    res = client.post(URL, headers=h, json=_webhook(_alert("not-hex!")))
    assert res.status_code == 422 and "fingerprint" in res.text
    assert client.post(URL, headers=h, content=b"[" * 10_000).status_code == 422


def test_two_alertmanagers_with_the_same_alert_keep_separate_incidents(client, runtime, admin, am_token):
    other = secrets.token_hex(32)
    _connection(client, admin, other)
    fp = uuid.uuid4().hex[:16]
    for token in (am_token[1], other):
        assert client.post(URL, headers={"Authorization": f"Bearer {token}"},
                           json=_webhook(_alert(fp))).json()["opened"] == 1
    assert len(_incidents(runtime, fp)) == 2


def test_the_token_is_never_shown(client, admin, am_token):
    name, token = am_token
    listed = client.get("/api/connections", headers=admin.headers)
    assert listed.status_code == 200 and name in listed.text and token not in listed.text


def test_a_short_token_is_refused_when_the_connection_is_made(client, admin):
    res = client.post("/api/connections", headers=admin.headers, json={
        "name": f"am-{uuid.uuid4().hex[:8]}", "type": "alertmanager", "environment": "prod",
        "config": {}, "credentials": {"token": "short"}})
    assert res.status_code == 422 and "credentials.token" in res.text and "short" not in res.text


@pytest.fixture
def served(tmp_path):
    name = pg.create_database("jarvis_am")
    (tmp_path / "jarvis").mkdir()
    server = JarvisServer(pg.sqlalchemy_url(name), tmp_path / "jarvis")
    try:
        yield server.start()
    finally:
        server.stop()
        pg.drop_database(name)


def test_a_real_alertmanager_opens_then_resolves_an_incident(served, tmp_path):
    email, password, token = "ops@example.test", "pw-" + secrets.token_urlsafe(12), secrets.token_hex(32)
    served.jarvis("user", "add", "--email", email, "--role", "admin", "--password-stdin", stdin=password + "\n")
    login = httpx.post(f"{served.url}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    assert login.status_code == 200, login.text
    h = {"Authorization": f"Bearer {login.json()['access_token']}"}
    res = httpx.post(f"{served.url}/api/connections", headers=h, timeout=10, json={
        "name": "am-main", "type": "alertmanager", "environment": "prod", "config": {},
        "credentials": {"token": token}})
    assert res.status_code == 201, res.text

    am = Alertmanager(tmp_path / "am", f"{served.url}{URL}", token).start()
    db = Database(served.env["JARVIS_DATABASE_URL"])
    try:
        labels = {"alertname": "JarvisQueueStuck", "instance": "jarvis-api:8080", "severity": "critical"}
        am.post(labels, {"summary": "a job has waited for an hour"})

        def incident(state: str) -> Incident | None:
            with db.session() as s:
                return s.scalar(select(Incident).where(Incident.origin == "alertmanager", Incident.state == state))

        opened = wait_for(lambda: incident("open"), 30, f"an incident opened; alertmanager said {am.log_tail()}")
        assert opened.title == "JarvisQueueStuck on jarvis-api:8080: a job has waited for an hour"
        assert opened.severity == "critical" and opened.detail["labels"]["alertname"] == "JarvisQueueStuck"

        am.post(labels, {"summary": "a job has waited for an hour"}, resolved=True)
        resolved = wait_for(lambda: incident("resolved"), 30, f"the incident resolved; {am.log_tail()}")
        assert resolved.id == opened.id and resolved.resolved_by == "alertmanager:am-main"
        with db.session() as s:
            kinds = s.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == opened.id)
                              .order_by(IncidentEvent.id)).all()
        assert kinds[0] == "opened" and kinds[-1] == "resolved"
        assert token not in served.log_tail(10**7)
    finally:
        am.stop()
        db.dispose()


def test_the_deployed_alertmanager_config_is_valid_and_sends_to_jarvis():
    config = Path(__file__).resolve().parents[2] / "deploy" / "alertmanager" / "alertmanager.yml"
    done = subprocess.run([shutil.which("amtool"), "check-config", str(config)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    (hook,) = yaml.safe_load(config.read_text())["receivers"][0]["webhook_configs"]
    assert hook["url"].endswith(URL) and hook["send_resolved"] is True
