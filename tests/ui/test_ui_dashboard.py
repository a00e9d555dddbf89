"""The dashboard in a real browser: it says plainly when no controller is running (none runs in these
tests), counts the plans waiting for approval, and highlights the sources in alert."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from controller.gitops.leader import LeaderLease
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot

NO_CONTROLLER = re.compile("no controller is running: nothing is being reconciled", re.I)


def _loaded(page) -> None:
    expect(page.locator("#dash-updated")).to_contain_text("Updated")


def test_dashboard_warns_that_no_controller_runs(page, context, make_user, synced_world):
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    page.goto("/dashboard")
    _loaded(page)
    data = page.request.get("/api/dashboard").json()
    assert data["controller"]["running"] is False
    warning = page.locator("#dash-controller")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(NO_CONTROLLER)
    expect(page.locator("#status-light")).to_contain_text("No controller running")

    assert data["plans_waiting"] >= 1   # the synced source's manual plan
    expect(page.locator('[data-metric="plans_waiting"]')).to_have_text(str(data["plans_waiting"]))
    row = page.locator(f'#src-body tr[data-source="{synced_world.source_name}"]')
    expect(row).to_have_class(re.compile(r"\balerting\b"))
    expect(row.locator(".alert-badge")).to_have_attribute("title", NO_CONTROLLER)   # the banner says it in full
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        shoot(page, f"dashboard-no-controller-{label}")
    assert page.js_errors == []


def test_the_warning_goes_once_a_controller_leads(page, context, make_user, runtime):
    """A real leader lease (what a running controller holds) turns the banner off."""
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    lease = LeaderLease(runtime.db, "ui-test-controller", 300)
    assert lease.try_acquire()
    try:
        page.goto("/dashboard")
        _loaded(page)
        assert page.request.get("/api/dashboard").json()["controller"]["running"] is True
        expect(page.locator("#dash-controller")).to_be_hidden()
        expect(page.locator("#status-light")).not_to_contain_text("No controller running")
    finally:
        lease.release()


@pytest.fixture
def fresh_context(browser, tmp_path):
    """A browser context on a server of its own, over a new database: no target observed, no connection."""
    from controller.runtime import Runtime
    from tests.conftest import make_settings
    from tests.support import pg
    from tests.support.live_server import serve

    name = pg.create_database("jarvis_ui_fresh")
    rt = Runtime.start(make_settings(tmp_path / "data", pg.sqlalchemy_url(name)), first_admin=False)
    server = serve(rt)
    ctx = browser.new_context(base_url=server.url, viewport=DESKTOP)
    try:
        yield rt, ctx
    finally:
        ctx.close()
        server.stop()
        rt.close()
        pg.drop_database(name)


def test_tiles_follow_a_new_docker_connection_without_a_reload(fresh_context):
    """Adding a docker connection changes "No target connection yet" on the open dashboard, within its
    refresh, to what is true: the connection exists, its target is not observed yet."""
    import secrets

    from controller.accounts import users

    rt, context = fresh_context
    with rt.db.session() as db:
        users.create(db, email := f"admin-{secrets.token_hex(3)}@example.test", "admin-password-1", "admin")
    login_api(context, email, "admin-password-1")
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto("/dashboard")
    _loaded(page)
    tile = page.locator('[data-metric="target_problems"]')
    expect(tile).to_have_text("No target connection yet")
    expect(page.locator("#targets-body")).to_contain_text("No target connection yet")
    csrf = next(c["value"] for c in context.cookies() if c["name"] == "jarvis_csrf")
    res = context.request.post("/api/connections", headers={"X-CSRF-Token": csrf}, data={
        "name": f"dock-{secrets.token_hex(3)}", "type": "docker", "environment": "production",
        "config": {"base_url": "tcp://10.0.0.9:2376"}, "credentials": {}})
    assert res.ok, res.text()
    expect(tile).to_contain_text("Not observed yet: docker connection added", timeout=15000)
    swarm = page.locator('#targets-body [data-kind="swarm"]')   # one block per kind, from the kinds' summaries
    expect(swarm).to_contain_text("Docker Swarm")
    expect(swarm).to_contain_text("Not observed yet: 1 docker connection(s)")
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        shoot(page, f"dashboard-docker-added-{label}")
    assert page.js_errors == []
