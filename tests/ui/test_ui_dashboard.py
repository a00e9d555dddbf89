"""The dashboard in a real browser: it says plainly when no controller is running (none runs in these
tests), counts the plans waiting for approval, and highlights the sources in alert."""

from __future__ import annotations

import re

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
