"""Notifications out: channels as connections, rules per event and environment, deliveries sent off the
request path with retries, against a real SMTP server (aiosmtpd) and real HTTP receivers on loopback."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import apprise
import pytest
from sqlalchemy import select

from controller.contract import ConnectionInfo
from controller.notifications import channels, delivery, events
from controller.store.models import Job, NotificationDelivery, PlanRow, utcnow
from tests.notifications.receivers import HttpReceiver, SmtpReceiver
from tests.support.redis_server import free_port

AM_URL = "/api/alerts/alertmanager"


@pytest.fixture
def env() -> str:
    """An environment of this test's own: other tests' events never match its rules."""
    return f"env-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make(client, admin, env):
    made: list[str] = []

    def connection(type: str, config: dict, credentials: dict | None = None) -> dict:
        res = client.post("/api/connections", headers=admin.headers, json={
            "name": f"ch-{uuid.uuid4().hex[:8]}", "type": type, "environment": env, "config": config,
            "credentials": credentials or {}})
        assert res.status_code == 201, res.text
        return res.json()

    def rule(channel: str, events: list[str], **extra) -> dict:
        res = client.post("/api/notifications/rules", headers=admin.headers, json={
            "name": f"rule-{uuid.uuid4().hex[:8]}", "channel": channel, "events": events, "environment": env, **extra})
        assert res.status_code == 201, res.text
        made.append(res.json()["id"])
        return res.json()

    yield connection, rule
    for rule_id in made:       # no rule of a finished test matches anything again
        client.delete(f"/api/notifications/rules/{rule_id}", headers=admin.headers)


@pytest.fixture
def receiver():
    secret = secrets.token_hex(24)
    r = HttpReceiver(secret=secret).start()
    r.secret_given = secret
    yield r
    r.stop()


def _webhook(make, url: str, secret: str) -> dict:
    connection, _ = make
    return connection("notify-webhook", {"url": url}, {"secret": secret})


def _deliveries(runtime, rule_id: int) -> list[NotificationDelivery]:
    with runtime.db.session() as db:
        return list(db.scalars(select(NotificationDelivery).where(NotificationDelivery.rule_id == rule_id)
                               .order_by(NotificationDelivery.id)))


def _emit(runtime, env: str, event: str = "job.failed", key: str = "k", title: str = "Job 1 error: deploy") -> None:
    with runtime.db.session() as db:
        events.emit(db, event, key=key, title=title, body="the play failed", environment=env, link="/jobs/1")
        db.commit()


def test_a_webhook_delivery_is_signed_and_the_receiver_verifies_it(runtime, make, env, receiver):
    ch = _webhook(make, f"{receiver.url}/hook", receiver.secret_given)
    rule = make[1](ch["name"], ["job.failed"])
    _emit(runtime, env)
    (pending,) = _deliveries(runtime, rule["id"])
    assert pending.status == "pending" and receiver.received == []     # nothing is sent on the way in

    delivery.deliver_due(runtime)
    (got,) = receiver.wait(1)
    assert got.verified is True and got.path == "/hook"
    body = got.json()
    assert body["event"] == "job.failed" and body["title"] == "Job 1 error: deploy"
    assert body["environment"] == env and body["link"].endswith("/jobs/1") and body["delivery_id"] == pending.id
    assert got.headers["X-Jarvis-Event"] == "job.failed" and got.headers["X-Jarvis-Signature"].startswith("sha256=")
    (sent,) = _deliveries(runtime, rule["id"])
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert "answered 200" in sent.response


def test_a_wrong_secret_is_refused_by_the_receiver_and_the_delivery_is_retried(runtime, make, env, receiver):
    ch = _webhook(make, receiver.url, "not-the-receivers-" + secrets.token_hex(8))
    rule = make[1](ch["name"], ["job.failed"])
    _emit(runtime, env)
    delivery.deliver_due(runtime)
    (got,) = receiver.wait(1)
    assert got.verified is False
    (row,) = _deliveries(runtime, rule["id"])
    assert row.status == "retrying" and "answered 401" in row.last_error and row.next_attempt_at is not None


def test_an_unreachable_channel_is_retried_with_backoff_until_failed_and_nothing_else_stops(
        runtime, make, env, receiver, client, operator):
    dead = f"http://127.0.0.1:{free_port()}/hook"        # nothing listens there
    bad = make[1](_webhook(make, dead, secrets.token_hex(16))["name"], ["job.failed"])
    good = make[1](_webhook(make, receiver.url, receiver.secret_given)["name"], ["job.failed"])
    _emit(runtime, env)
    start = utcnow()
    delivery.deliver_due(runtime, now=start)
    receiver.wait(1)
    assert _deliveries(runtime, good["id"])[0].status == "sent"
    (row,) = _deliveries(runtime, bad["id"])
    assert row.status == "retrying" and row.attempts == 1
    assert "could not be reached" in row.last_error and "127.0.0.1" in row.last_error
    base = dt.timedelta(seconds=runtime.settings.notify_retry_base_seconds)
    assert row.next_attempt_at == start + base

    # not due yet: left alone; then each later attempt waits twice as long as the one before
    assert row.id not in delivery.deliver_due(runtime, now=start + base / 2)
    now = start
    for attempt in range(2, runtime.settings.notify_max_attempts + 1):
        now = _deliveries(runtime, bad["id"])[0].next_attempt_at
        assert row.id in delivery.deliver_due(runtime, now=now)
        after = _deliveries(runtime, bad["id"])[0]
        assert after.attempts == attempt
        if attempt < runtime.settings.notify_max_attempts:
            assert after.status == "retrying" and after.next_attempt_at == now + base * 2 ** (attempt - 1)
    failed = _deliveries(runtime, bad["id"])[0]
    assert failed.status == "failed" and failed.next_attempt_at is None and "could not be reached" in failed.last_error

    shown = client.get("/api/notifications/deliveries", headers=operator.headers,
                       params={"status": "failed", "rule_id": bad["id"]})
    assert shown.status_code == 200 and shown.json()["items"][0]["last_error"] == failed.last_error
    again = client.post(f"/api/notifications/deliveries/{row.id}/retry", headers=operator.headers)
    assert again.status_code == 200 and again.json()["status"] == "pending" and again.json()["attempts"] == 0


def test_email_is_delivered_to_a_real_smtp_server(runtime, make, env):
    smtp = SmtpReceiver().start()
    try:
        ch = make[0]("notify-email", {"host": "127.0.0.1", "port": smtp.port, "security": "none",
                                      "from": "jarvis@example.test", "to": ["ops@example.test"]})
        rule = make[1](ch["name"], ["backup.missed", "job.failed"])
        _emit(runtime, env, title="Job 7 error: backup-volume")
        delivery.deliver_due(runtime)
        (msg,) = smtp.messages
        assert msg.rcpt_tos == ["ops@example.test"] and msg.mail_from == "jarvis@example.test"
        text = msg.content.decode()
        assert "Subject: Job 7 error: backup-volume" in text and "the play failed" in text
        assert _deliveries(runtime, rule["id"])[0].status == "sent"
    finally:
        smtp.stop()


def test_ntfy_goes_through_apprise_to_an_http_server(runtime, make, env):
    ntfy = HttpReceiver().start()
    try:
        ch = make[0]("notify-ntfy", {"url": ntfy.url, "topic": "jarvis-alerts", "priority": "high"},
                     {"token": "tk_" + secrets.token_hex(8)})
        rule = make[1](ch["name"], ["job.failed"])
        _emit(runtime, env)
        delivery.deliver_due(runtime)
        (got,) = ntfy.wait(1)
        assert got.json()["topic"] == "jarvis-alerts" and "the play failed" in got.json()["message"]
        assert got.headers["Authorization"].startswith("Bearer tk_")
        assert _deliveries(runtime, rule["id"])[0].status == "sent"
    finally:
        ntfy.stop()


@pytest.mark.parametrize(("type", "config", "credentials", "schema"), [
    ("notify-slack", {}, {"webhook_url": "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXX"}, "slack"),
    ("notify-discord", {}, {"webhook_url": "https://discord.com/api/webhooks/12345/abcdefABCDEF"}, "discord"),
    ("notify-telegram", {"chat_id": "-1001234567890"}, {"bot_token": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"},
     "tgram"),
    ("notify-ntfy", {"topic": "ops"}, {}, "ntfys"),
])
def test_each_apprise_channel_makes_an_address_apprise_takes(type, config, credentials, schema):
    sender = apprise.Apprise()
    assert sender.add(channels.apprise_url(ConnectionInfo(name="c", type=type, config=config, secrets=credentials)))
    (server,) = list(sender)
    assert server.url().startswith(f"{schema}://")


def test_send_a_test_is_the_connection_test_and_says_why_it_failed(client, admin, operator, make, receiver):
    ok = _webhook(make, receiver.url, receiver.secret_given)
    res = client.post(f"/api/connections/{ok['id']}/test", headers=operator.headers)
    assert res.status_code == 200 and res.json()["ok"] is True, res.text
    (got,) = receiver.wait(1)
    assert got.verified is True and got.json()["event"] == "test"

    secret = secrets.token_hex(16)
    dead = _webhook(make, f"http://127.0.0.1:{free_port()}/x", secret)
    res = client.post(f"/api/connections/{dead['id']}/test", headers=operator.headers)
    assert res.status_code == 200 and res.json()["ok"] is False
    assert "could not be reached" in res.json()["message"] and secret not in res.text


def test_duplicates_and_a_rate_limit_are_suppressed_and_shown(runtime, make, env, receiver):
    ch = _webhook(make, receiver.url, receiver.secret_given)
    rule = make[1](ch["name"], ["job.failed"], dedupe_seconds=600, max_per_hour=2)
    _emit(runtime, env, key="a")
    _emit(runtime, env, key="a")
    _emit(runtime, env, key="b")
    _emit(runtime, env, key="c")
    first, dup, second, over = _deliveries(runtime, rule["id"])
    assert (first.status, second.status) == ("pending", "pending")
    assert dup.status == "suppressed" and dup.last_error.startswith(f"duplicate of delivery {first.id}")
    assert over.status == "suppressed" and "rate limit" in over.last_error and "2 an hour" in over.last_error
    delivery.deliver_due(runtime)
    assert len(receiver.wait(2)) == 2


def test_rules_choose_events_and_environment(runtime, make, env, receiver, client, admin, viewer):
    ch = _webhook(make, receiver.url, receiver.secret_given)
    rule = make[1](ch["name"], ["incident.opened"])
    _emit(runtime, env, event="job.failed")                 # not an event of the rule
    _emit(runtime, "elsewhere-" + env, event="incident.opened")   # not its environment
    assert _deliveries(runtime, rule["id"]) == []
    _emit(runtime, env, event="incident.opened")
    assert len(_deliveries(runtime, rule["id"])) == 1

    listed = client.get("/api/notifications/rules", headers=viewer.headers)
    assert listed.status_code == 200
    assert {"id": rule["id"], "channel": ch["name"]}.items() <= next(r for r in listed.json() if r["id"] == rule["id"]).items()
    res = client.patch(f"/api/notifications/rules/{rule['id']}", headers=admin.headers, json={"enabled": False})
    assert res.status_code == 200 and res.json()["enabled"] is False
    _emit(runtime, env, event="incident.opened", key="other")
    assert len(_deliveries(runtime, rule["id"])) == 1
    assert client.patch(f"/api/notifications/rules/{rule['id']}", headers=viewer.headers,
                        json={"enabled": True}).status_code == 403


def test_a_rule_must_name_a_channel_and_known_events(client, admin, make):
    am = make[0]("alertmanager", {}, {"token": secrets.token_hex(16)})
    res = client.post("/api/notifications/rules", headers=admin.headers,
                      json={"name": "r-" + uuid.uuid4().hex[:6], "channel": am["name"], "events": ["job.failed"]})
    assert res.status_code == 422 and "notify-" in res.text and res.json()["errors"][0]["field"] == "channel"
    res = client.post("/api/notifications/rules", headers=admin.headers,
                      json={"name": "r-" + uuid.uuid4().hex[:6], "channel": "nope", "events": ["coffee.ready"]})
    assert res.status_code == 422 and "events" in res.text
    events_listed = client.get("/api/notifications/events", headers=admin.headers).json()
    assert {e["name"] for e in events_listed} == set(events.EVENTS)


def test_an_alertmanager_post_opens_an_incident_that_notifies(runtime, client, make, env, receiver):
    token = secrets.token_hex(32)
    am = make[0]("alertmanager", {}, {"token": token})
    rule = make[1](_webhook(make, receiver.url, receiver.secret_given)["name"], ["incident.opened", "incident.resolved"])
    fp = uuid.uuid4().hex[:16]
    alert = {"status": "firing", "labels": {"alertname": "NodeDown", "instance": "node-9", "severity": "critical"},
             "annotations": {"summary": "node-9 is down"}, "startsAt": "2026-12-04T07:00:00Z",
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": fp}
    post = {"version": "4", "status": "firing", "receiver": "jarvis", "groupKey": "{}", "truncatedAlerts": 0,
            "externalURL": "http://am", "alerts": [alert]}
    h = {"Authorization": f"Bearer {token}"}
    assert client.post(AM_URL, headers=h, json=post).json()["opened"] == 1
    assert client.post(AM_URL, headers=h, json=post).json()["updated"] == 1     # seen again: no second message
    delivery.deliver_due(runtime)
    (opened,) = receiver.wait(1)
    body = opened.json()
    assert body["event"] == "incident.opened" and body["environment"] == env and opened.verified
    assert body["title"] == "Incident opened: NodeDown on node-9: node-9 is down" and body["data"]["severity"] == "critical"
    assert am["environment"] == env

    resolved = {**post, "status": "resolved", "alerts": [{**alert, "status": "resolved"}]}
    assert client.post(AM_URL, headers=h, json=resolved).json()["resolved"] == 1
    delivery.deliver_due(runtime)
    assert receiver.wait(2)[1].json()["event"] == "incident.resolved"
    assert [d.status for d in _deliveries(runtime, rule["id"])] == ["sent", "sent"]


def test_a_failed_job_and_a_plan_waiting_notify(runtime, make, env, receiver):
    connection, rule = make
    target = connection("notify-webhook", {"url": receiver.url}, {"secret": receiver.secret_given})
    r = rule(target["name"], ["job.failed", "plan.awaiting_approval", "drift.detected"])
    with runtime.db.session() as db:
        job = Job(runbook="deploy-app", title="Deploy app", status="error", reason="task failed: pull image",
                  connection=target["name"])
        db.add(job)
        db.flush()
        events.job_finished(db, job.id, "error")
        events.job_finished(db, job.id, "success")        # a success notifies nobody
        for status in ("pending", "detected", "approved"):
            events.plan_recorded(db, PlanRow(id=1, source_id=None, manifest_path="orch.yaml", manifest_name="app",
                                             target="prod-swarm", connection=target["name"], status=status,
                                             checksum=status, counts={"update": 2}, held_reasons=[]))
        db.commit()
    rows = _deliveries(runtime, r["id"])
    assert [d.event for d in rows] == ["job.failed", "plan.awaiting_approval", "drift.detected"]
    assert rows[0].title.startswith(f"Job {job.id} error") and rows[0].body == "task failed: pull image"
    assert rows[1].body == "app → prod-swarm: update 2"


def test_a_failed_backup_notifies_in_its_repositorys_environment(runtime, make, env, receiver):
    from controller.backups import schedule
    from controller.store.models import BackupSchedule

    connection, rule = make
    repo = connection("backup-repository", {"repository": "/var/backups/jarvis-test"}, {"password": "pw-123456"})
    r = rule(connection("notify-webhook", {"url": receiver.url}, {"secret": receiver.secret_given})["name"],
             ["backup.failed"])
    with runtime.db.session() as db:
        job = Job(runbook="backup-volume", title="Backup app-data", status="error", reason="restic: repository locked")
        db.add(job)
        db.flush()
        row = BackupSchedule(key=f"notify-test:{uuid.uuid4().hex}", name="app-data", runbook="backup-volume",
                             schedule="0 3 * * *", input={"repository": repo["name"], "volume": "app-data"},
                             last_job_id=job.id)
        db.add(row)
        db.flush()
        schedule.job_finished(db, job.id, "error")
        db.commit()
        backup_id = row.id
    (d,) = _deliveries(runtime, r["id"])
    assert (d.event, d.environment, d.title) == ("backup.failed", env, "Backup app-data failed")
    assert d.body == "restic: repository locked" and d.link == f"/backups/{backup_id}"
