"""TOTP enrolment, login with a code or a recovery code, the required-role policy, password reset by mail."""

from __future__ import annotations

import re
import socket
import time

import pyotp
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


def login(client, email, password, **extra):
    return client.post("/api/auth/login", json={"email": email, "password": password, **extra})


def _enrol(client, account):
    r = client.post("/api/auth/totp/enroll", headers=account.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Jarvis:")
    secret = body["secret"]
    codes = client.post("/api/auth/totp/verify", headers=account.headers,
                        json={"code": pyotp.TOTP(secret).now()})
    assert codes.status_code == 200, codes.text
    return secret, codes.json()["recovery_codes"]


def test_totp_login_flow_with_codes_and_recovery(client, make_user):
    u = make_user("operator")
    secret, recovery = _enrol(client, u)
    assert len(recovery) == 10
    r = login(client, u.email, u.password)
    assert r.status_code == 401 and r.json()["reason"] == "totp_required"
    assert login(client, u.email, u.password, totp="000000").status_code == 401
    # a code already used (the enrolment's) cannot be replayed; wait for the next step
    step = int(time.time() // 30)
    while int(time.time() // 30) == step:
        time.sleep(0.5)
    assert login(client, u.email, u.password, totp=pyotp.TOTP(secret).now()).status_code == 200
    assert login(client, u.email, u.password, totp=recovery[0]).status_code == 200
    assert login(client, u.email, u.password, totp=recovery[0]).status_code == 401   # single use


def test_admin_can_require_totp_for_a_role(client, make_user, admin):
    v = make_user("viewer")
    r = client.put("/api/auth/policy", headers=admin.headers, json={"totp_required_roles": ["viewer"]})
    assert r.status_code == 200
    try:
        t = login(client, v.email, v.password).json()
        assert t["scope"] == "self"
        h = {"Authorization": f"Bearer {t['access_token']}"}
        assert client.get("/api/connections", headers=h).status_code == 403
        assert client.get("/api/auth/me", headers=h).json()["totp_required"] is True
    finally:
        client.put("/api/auth/policy", headers=admin.headers, json={"totp_required_roles": []})
    bad = client.put("/api/auth/policy", headers=admin.headers, json={"totp_required_roles": ["root"]})
    assert bad.status_code == 422


@pytest.fixture
def smtp():
    handler = _Collect()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, handler.messages
    ctl.stop()


class _Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def test_password_reset_by_mail_is_single_use(client, make_user, runtime, smtp):
    port, inbox = smtp
    u = make_user()
    runtime.settings.smtp_host, runtime.settings.smtp_port = "127.0.0.1", port
    try:
        r = client.post("/api/auth/password-reset/request", json={"email": u.email})
        unknown = client.post("/api/auth/password-reset/request", json={"email": "nobody@example.test"})
    finally:
        runtime.settings.smtp_host = ""
    assert r.status_code == unknown.status_code == 202 and r.json() == unknown.json()
    assert len(inbox) == 1 and inbox[0]["To"] == u.email
    token = re.search(r"reset=([A-Za-z0-9_\-]+)", inbox[0].get_payload()).group(1)
    ok = client.post("/api/auth/password-reset/confirm", json={"token": token, "new_password": "brand-new-secret-9"})
    assert ok.status_code == 204
    assert login(client, u.email, u.password).status_code == 401
    assert login(client, u.email, "brand-new-secret-9").status_code == 200
    again = client.post("/api/auth/password-reset/confirm", json={"token": token, "new_password": "another-one-10"})
    assert again.status_code == 422


def test_reset_without_smtp_writes_the_link_to_the_log(client, make_user, caplog):
    u = make_user()
    with caplog.at_level("WARNING"):
        client.post("/api/auth/password-reset/request", json={"email": u.email})
    assert any("reset=" in r.getMessage() for r in caplog.records)


def test_expired_reset_token_is_refused(client, make_user, runtime):
    import datetime as dt

    from controller.accounts import reset
    from controller.store.models import OneTimeToken

    u = make_user()
    with runtime.db.session() as db:
        token = reset.request(db, runtime.settings, u.email)
        for row in db.query(OneTimeToken).filter_by(user_id=u.id):
            row.expires_at = row.created_at - dt.timedelta(seconds=1)
    r = client.post("/api/auth/password-reset/confirm", json={"token": token, "new_password": "brand-new-secret-9"})
    assert r.status_code == 422
