"""The Notifications page in a real browser: an admin adds a rule for a channel, the deliveries show
their state (a sent one, a failed one with its error), "Send a test" reaches a real loopback receiver
and says so, and a viewer sees no button that changes anything."""

from __future__ import annotations

import secrets
import uuid

from playwright.sync_api import expect
from sqlalchemy import select, update

from controller.notifications import delivery, events
from controller.store.models import NotificationDelivery
from tests.notifications.receivers import HttpReceiver
from tests.support.redis_server import free_port
from tests.ui.conftest import login_api, shoot


def _channel(client, admin, url: str, secret: str, env: str) -> str:
    name = f"hook-{uuid.uuid4().hex[:6]}"
    res = client.post("/api/connections", headers=admin.headers, json={
        "name": name, "type": "notify-webhook", "environment": env, "config": {"url": url},
        "credentials": {"secret": secret}})
    assert res.status_code == 201, res.text
    return name


def _send_ours(runtime, env: str) -> None:
    """The dispatcher's claim and attempt, for this test's deliveries only: other tests' due deliveries (to
    channels that do not answer) share the database and would fill the dispatcher's batch first."""
    D = NotificationDelivery
    with runtime.db.session() as db:
        ids = db.scalars(select(D.id).where(D.environment == env, D.status == "pending")).all()
        db.execute(update(D).where(D.id.in_(ids)).values(status="sending", attempts=D.attempts + 1))
        db.commit()
    assert len(ids) == 2, ids      # one per rule: the good channel and the dead one
    for i in ids:
        delivery.attempt(runtime, i)


def test_rules_deliveries_and_send_a_test(page, context, make_user, client, runtime):
    admin = make_user("admin")
    login_api(context, admin.email, admin.password)
    env = f"ui-{uuid.uuid4().hex[:6]}"
    secret = secrets.token_hex(20)
    receiver = HttpReceiver(secret=secret).start()
    try:
        good = _channel(client, admin, receiver.url, secret, env)
        dead = _channel(client, admin, f"http://127.0.0.1:{free_port()}/", secrets.token_hex(20), env)
        res = client.post("/api/notifications/rules", headers=admin.headers, json={
            "name": f"dead-{env}", "channel": dead, "events": ["job.failed"], "environment": env})
        assert res.status_code == 201

        page.goto("/notifications")
        rule = f"ops-{env}"
        form = page.locator("#nt-rule-form")
        form.locator("#nr-name").fill(rule)
        form.locator("#nr-channel").select_option(good)
        form.locator("input[value='job.failed']").check()
        form.locator("#nr-env").fill(env)
        form.locator("button[type=submit]").click()
        expect(page.locator(f'#nt-rules tr[data-rule="{rule}"]')).to_contain_text("job.failed")

        with runtime.db.session() as db:
            events.emit(db, "job.failed", key="ui", title=f"Job 9 error: {env}", environment=env)
            db.commit()
        _send_ours(runtime, env)
        page.reload()
        expect(page.locator("#nt-deliveries tr[data-status=sent]", has_text=env)).to_contain_text(good)
        retrying = page.locator("#nt-deliveries tr[data-status=retrying]", has_text=env)
        expect(retrying).to_contain_text("could not be reached")
        expect(retrying.locator("button", has_text="Send again")).to_be_visible()

        page.locator(f'#nt-channels button[data-channel="{good}"]').click()
        expect(page.locator(".toast").last).to_contain_text(f"test notification sent to {good}")
        assert receiver.wait(2)[-1].json()["event"] == "test"
        shoot(page, "notifications-1440")
        assert page.js_errors == []
    finally:
        receiver.stop()


def test_a_viewer_sees_no_button_that_changes_anything(page, context, make_user):
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    page.goto("/notifications")
    expect(page.locator("#nt-rules")).not_to_contain_text("Loading")
    expect(page.locator("#nt-rule-form")).to_be_hidden()
    expect(page.locator("#nt-channels button, #nt-rules button, #nt-deliveries button")).to_have_count(0)
