"""End to end: a real Alertmanager posts a firing alert to a running `jarvis serve`, the incident it
opens is sent by the server's own dispatcher to a signed webhook channel, and a loopback receiver
checks the signature; the resolved alert is sent too."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.notifications.receivers import HttpReceiver
from tests.observability.alertmanager_server import Alertmanager
from tests.support import pg
from tests.support.jarvis_server import JarvisServer


@pytest.fixture
def served(tmp_path):
    name = pg.create_database("jarvis_notify")
    (tmp_path / "jarvis").mkdir()
    server = JarvisServer(pg.sqlalchemy_url(name), tmp_path / "jarvis")
    try:
        yield server.start()
    finally:
        server.stop()
        pg.drop_database(name)


def admin_headers(served: JarvisServer) -> dict[str, str]:
    email, password = "ops@example.test", "pw-" + secrets.token_urlsafe(12)
    served.jarvis("user", "add", "--email", email, "--role", "admin", "--password-stdin", stdin=password + "\n")
    login = httpx.post(f"{served.url}/api/auth/login", json={"email": email, "password": password}, timeout=10)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def channel_and_rule(served: JarvisServer, h: dict, receiver_url: str, secret: str, am_token: str) -> None:
    for body in ({"name": "am-main", "type": "alertmanager", "environment": "prod", "config": {},
                  "credentials": {"token": am_token}},
                 {"name": "ops-hook", "type": "notify-webhook", "environment": "prod",
                  "config": {"url": receiver_url}, "credentials": {"secret": secret}}):
        res = httpx.post(f"{served.url}/api/connections", headers=h, json=body, timeout=10)
        assert res.status_code == 201, res.text
    res = httpx.post(f"{served.url}/api/notifications/rules", headers=h, timeout=10, json={
        "name": "prod incidents", "channel": "ops-hook", "events": ["incident.opened", "incident.resolved"],
        "environment": "prod", "max_per_hour": 0})
    assert res.status_code == 201, res.text


def test_a_real_alertmanager_alert_is_notified_to_a_signed_webhook(served, tmp_path):
    secret, am_token = secrets.token_hex(24), secrets.token_hex(32)
    receiver = HttpReceiver(secret=secret).start()
    h = admin_headers(served)
    channel_and_rule(served, h, f"{receiver.url}/jarvis", secret, am_token)
    am = Alertmanager(tmp_path / "am", f"{served.url}/api/alerts/alertmanager", am_token).start()
    try:
        labels = {"alertname": "JarvisNodeDown", "instance": "node-3", "severity": "critical"}
        am.post(labels, {"summary": "node-3 stopped answering"})
        (opened,) = receiver.wait(1, timeout=60)
        assert opened.verified is True
        body = opened.json()
        assert body["event"] == "incident.opened" and body["environment"] == "prod"
        assert body["title"] == "Incident opened: JarvisNodeDown on node-3: node-3 stopped answering"

        am.post(labels, {"summary": "node-3 stopped answering"}, resolved=True)
        resolved = receiver.wait(2, timeout=60)[1]
        assert resolved.verified is True and resolved.json()["event"] == "incident.resolved"
        shown = httpx.get(f"{served.url}/api/notifications/deliveries", headers=h, timeout=10).json()
        assert [d["status"] for d in shown["items"]] == ["sent", "sent"]
        assert secret not in served.log_tail(10**7)
    finally:
        am.stop()
        receiver.stop()
