"""The Incidents page in a real browser: an operator opens an incident from its link, acknowledges
it, adds a note and resolves it with a cause and an action; the timeline shows each step with who;
the header's light reads the open incidents; a viewer sees no button that changes anything."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from controller import incidents
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot


def _incident(runtime, severity: str = "critical") -> tuple[int, str]:
    title = f"NodeDown on node-{uuid.uuid4().hex[:6]}: node is down"
    with runtime.db.session() as db:
        inc, _ = incidents.open_or_update(
            db, f"ui:{uuid.uuid4().hex}", title=title, origin="alertmanager", severity=severity,
            target="prod", resource="node-1", actor="alertmanager:am-main",
            detail={"labels": {"alertname": "NodeDown", "instance": "node-1"}, "errors": ["no heartbeat for 5m"]})
        return inc.id, title


def test_an_operator_acknowledges_annotates_and_resolves_an_incident(page, context, make_user, runtime):
    operator = make_user("operator")
    login_api(context, operator.email, operator.password)
    inc_id, title = _incident(runtime)

    page.goto("/dashboard")
    page.locator(f'#inc-body a[href="/incidents/{inc_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/incidents/{inc_id}$"))
    detail = page.locator("#inc-detail")
    expect(detail.locator("#inc-title")).to_have_text(title)
    expect(detail).to_contain_text("no heartbeat for 5m")
    expect(detail).to_contain_text("alertname=NodeDown")
    expect(page.locator(f'#inc-list tr[data-incident="{inc_id}"]')).to_have_class("selected")
    light = page.locator("#status-light")
    expect(light).to_have_attribute("data-state", "error")     # an open critical incident
    expect(light).to_contain_text("open incident")
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        shoot(page, f"incidents-open-{label}")
    page.set_viewport_size(DESKTOP)

    page.locator("#inc-ack").click()
    expect(detail.locator("[data-state=acknowledged]")).to_be_visible()
    expect(detail).to_contain_text(f"Acknowledged{operator.email}")

    page.fill("#inc-note-text", "node-1 lost power in rack 4")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#inc-timeline")).to_contain_text("node-1 lost power in rack 4")

    page.locator("#inc-resolve").click()
    dialog = page.locator("#resolve-dialog")
    expect(dialog).to_be_visible()
    page.fill("#rf-cause", "   ")                     # only spaces: the server refuses it, next to the field
    page.fill("#rf-action", "power restored, node rejoined the swarm")
    dialog.get_by_role("button", name="Resolve").click()
    expect(dialog.locator('[data-field="resolution.cause"] .error')).to_contain_text("cause is required")
    page.fill("#rf-cause", "power loss in rack 4")
    page.fill("#rf-runbook", "restart-service")
    dialog.get_by_role("button", name="Resolve").click()
    expect(dialog).to_be_hidden()
    expect(detail.locator("[data-state=resolved]")).to_be_visible()
    expect(page.locator("#inc-cause")).to_have_text("power loss in rack 4")
    kinds = page.locator("#inc-timeline li strong").all_inner_texts()
    assert kinds == ["opened", "acknowledged", "note", "resolved"]
    expect(page.locator("#inc-timeline")).to_contain_text(operator.email)
    expect(page.locator("#inc-reopen")).to_be_visible()
    shoot(page, "incidents-resolved-1440")

    with runtime.db.session() as db:
        stored = incidents.get(db, inc_id)
        assert stored.state == "resolved" and stored.resolved_by == operator.email
        assert stored.resolution["cause"] == "power loss in rack 4" and stored.resolution["runbook"] == "restart-service"

    # the resolved one has left the default list ("not resolved") and is under "resolved"
    page.goto("/incidents")
    expect(page.locator("#inc-list")).not_to_contain_text(title)
    page.select_option("#if-state", "resolved")
    expect(page.locator("#inc-list")).to_contain_text(title)
    assert "state=resolved" in page.url
    assert page.js_errors == []


def test_a_viewer_reads_incidents_but_has_no_button_that_changes_them(page, context, make_user, runtime):
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    inc_id, title = _incident(runtime, severity="warning")
    page.goto(f"/incidents/{inc_id}")
    expect(page.locator("#inc-title")).to_have_text(title)
    expect(page.locator("#inc-timeline")).to_contain_text("alertmanager:am-main")
    for button in ("#inc-ack", "#inc-resolve", "#inc-reopen", "#inc-note-text"):
        expect(page.locator(button)).to_have_count(0)
    page.goto("/incidents/999999999")
    expect(page.locator("#inc-detail")).to_contain_text("Incident 999999999 does not exist.")
    assert page.js_errors == []
