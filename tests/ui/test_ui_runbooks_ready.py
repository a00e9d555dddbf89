"""The runbook catalog knows what can run now: Execute is disabled, with the reason, while no connection
of a runbook's type exists (issue 12), and a row of cards (runbooks, drift summary) shares its top."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import PHONE, shoot


def _tops(locator) -> list[float]:
    boxes = [locator.nth(i).bounding_box() for i in range(locator.count())]
    first_row = [b for b in boxes if abs(b["y"] - boxes[0]["y"]) < boxes[0]["height"] / 2]
    # tops within a pixel are one top: in a loaded CI run cards of one row were measured 0.1-0.2 px apart
    # (the misalignment this guards against was a whole margin, 10 px and more)
    tops = sorted(b["y"] for b in first_row)
    return ([round(tops[0], 1)] if tops[-1] - tops[0] < 1 else [round(t, 1) for t in tops]), len(first_row)


def test_execute_waits_for_a_connection_of_the_runbooks_type(fresh_site):
    rt, signed_in = fresh_site
    page = signed_in("admin")
    page.goto("/runbooks")
    logs = page.get_by_role("button", name="Execute Show service logs")
    expect(logs).to_be_disabled()
    card = page.locator("article.runbook", has=logs)
    expect(card).to_contain_text("Needs a docker connection, and none exists yet.")
    expect(card.get_by_role("link", name="Add one in Settings → Connections.")).to_have_attribute("href", "/settings#connections")
    expect(page.get_by_role("button", name="Execute Back up a PostgreSQL database")).to_be_enabled()   # needs none
    tops, in_row = _tops(page.locator("#catalog > .card"))
    assert in_row >= 3 and len(tops) == 1, tops          # the first row's cards share their top
    shoot(page, "runbooks-needs-connection-1440")
    page.goto("/runbooks?run=swarm-logs")                  # a link straight to the dialog does not open it
    expect(logs).to_be_disabled()
    expect(page.locator("#run-dialog")).not_to_be_visible()
    page.set_viewport_size(PHONE)
    shoot(page, "runbooks-needs-connection-390")

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "jarvis_csrf")
    res = page.request.post("/api/connections", headers={"X-CSRF-Token": csrf}, data={
        "name": "engine-1", "type": "docker", "environment": "test",
        "config": {"base_url": "tcp://10.0.0.9:2376"}, "credentials": {}})
    assert res.ok, res.text()
    page.goto("/runbooks")
    expect(logs).to_be_enabled()
    logs.click()
    expect(page.locator("#run-dialog")).to_be_visible()
    assert page.js_errors == []


def test_an_operator_is_told_who_adds_the_connection(fresh_site):
    rt, signed_in = fresh_site
    page = signed_in("operator")
    page.goto("/runbooks")
    card = page.locator("article.runbook", has=page.get_by_role("button", name="Execute Scale a service"))
    expect(card.get_by_role("button", name="Execute Scale a service")).to_be_disabled()
    expect(card).to_contain_text("An administrator adds one in Settings → Connections.")


def test_the_drift_summary_cards_share_their_top(fresh_site):
    rt, signed_in = fresh_site
    page = signed_in("viewer")
    page.goto("/gitops#drift")
    cards = page.locator("#drift-summary > .card")
    expect(cards).to_have_count(5)
    tops, in_row = _tops(cards)
    assert in_row == 5 and len(tops) == 1, tops
    shoot(page, "gitops-drift-summary-1440")
