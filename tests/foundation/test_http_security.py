"""Validation errors, body limits, security headers, client IP and proxies, and a database that goes away."""

from __future__ import annotations

import socket
import threading

import pytest
from fastapi.testclient import TestClient

from api.middleware import TrustedProxies
from tests.support import relay


def test_validation_errors_name_the_field(client, admin):
    r = client.post("/api/connections", headers=admin.headers,
                    json={"name": "x", "type": "docker", "bogus": 1})
    assert r.status_code == 422
    assert any(e["field"] == "bogus" for e in r.json()["errors"])
    r = client.post("/api/connections", headers=admin.headers, json={"name": 5, "type": 7})
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"name", "type"} <= fields
    r = client.post("/api/connections", headers={**admin.headers, "content-type": "application/json"},
                    content=b"{not json")
    assert r.status_code == 422


def test_oversized_bodies_are_refused(client, admin, runtime):
    big = "x" * (runtime.settings.max_body_bytes + 10)
    r = client.post("/api/connections", headers=admin.headers, content=big.encode())
    assert r.status_code == 413
    r = client.post("/api/connections", headers=admin.headers, json={"name": "n" * 500, "type": "docker"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


def test_security_headers(client):
    r = client.get("/healthz")
    for h in ("x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy",
              "x-request-id"):
        assert h in r.headers
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    p = TrustedProxies(["10.0.0.0/8"])
    assert p.client_ip("10.0.0.5", "203.0.113.9") == "203.0.113.9"
    assert p.client_ip("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7") == "203.0.113.9"
    assert p.client_ip("192.0.2.1", "203.0.113.9") == "192.0.2.1"   # untrusted peer: header ignored


def test_audit_records_the_proxied_client_ip(client, admin, runtime):
    # the TestClient peer is "testclient", which is no trusted proxy: its header must be ignored
    client.post("/api/connections", headers={**admin.headers, "X-Forwarded-For": "203.0.113.50"},
                json={"name": "ip-check", "type": "docker", "config": {"base_url": "unix:///var/run/docker.sock"}})
    r = client.get("/api/audit", params={"action": "connections.write"}, headers=admin.headers)
    assert r.json()["items"][0]["ip"] == "testclient"


class _Relay:
    """A TCP relay in front of the real PostgreSQL that can be cut, to take the database away."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.up = True
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                c.close()
                continue
            u = socket.create_connection(self.target)
            self.conns += [c, u]
            relay.join(c, u)

    def cut(self):
        self.up = False
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.conns = []

    def restore(self):
        self.up = True


@pytest.fixture
def relayed_app(pg_url, tmp_path):
    from api.app import create_app
    from controller.runtime import Runtime
    from tests.conftest import make_settings

    relay = _Relay()
    url = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    rt = Runtime.start(make_settings(tmp_path, url), first_admin=False)
    yield create_app(rt, background=False), relay, rt
    relay.restore()
    rt.close()


def test_database_down_gives_503_and_recovers(relayed_app, make_user):
    app, relay, rt = relayed_app
    u = make_user("viewer")
    with TestClient(app) as c:
        token = c.post("/api/auth/login", json={"email": u.email, "password": u.password}).json()["access_token"]
        u.token = token
        assert c.get("/readyz").status_code == 200
        assert c.get("/api/auth/me", headers=u.headers).status_code == 200
        relay.cut()
        assert c.get("/readyz").status_code == 503
        assert c.get("/healthz").status_code == 200
        assert c.get("/api/auth/me", headers=u.headers).status_code == 503
        relay.restore()
        assert c.get("/readyz").status_code == 200
        assert c.get("/api/auth/me", headers=u.headers).status_code == 200
