"""Runbook forms know the live state (issue 12): an input marked `x-jarvis-choices: swarm.services`
offers the services the last observation saw (free text still allowed), resolved server-side."""

from __future__ import annotations

from playwright.sync_api import expect

from controller import connections
from controller.store.models import TargetStatus
from tests.ui.conftest import PHONE, shoot


def _observed(rt) -> None:
    with rt.db.session() as db:
        for conn, services in (("engine-a", ["web", "api"]), ("engine-b", ["worker"])):
            connections.create(db, rt.secrets, name=conn, type="docker", environment="test",
                               config={"base_url": "tcp://10.0.0.9:2376"}, credentials={}, created_by="t")
            db.add(TargetStatus(target=f"swarm:{conn}", kind="swarm", connection=conn,
                                health={"services": {s: {"running": 1, "desired": 1} for s in services}}))
        db.add(TargetStatus(target="cloudflare:cf", kind="cloudflare", connection="cf",
                            health={"services": {"not-a-swarm-service": {}}}))


def test_the_service_input_offers_the_observed_services(fresh_site):
    rt, signed_in = fresh_site
    _observed(rt)
    page = signed_in("operator")
    res = page.request.get("/api/runbooks/swarm-logs/choices")
    assert res.json() == {"choices": {"service": ["api", "web", "worker"]}}, res.text()
    assert page.request.get("/api/runbooks/swarm-logs/choices?connection=engine-b").json() == {
        "choices": {"service": ["worker"]}}
    assert page.request.get("/api/runbooks/backup-postgres/choices").json() == {"choices": {}}
    assert page.request.get("/api/runbooks/no-such/choices").status == 404

    page.goto("/runbooks?run=swarm-logs")
    dialog = page.locator("#run-dialog")
    expect(dialog).to_be_visible()
    service = dialog.get_by_label("Service")
    list_id = service.get_attribute("list")
    assert list_id
    options = page.locator(f"datalist#{list_id} option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["api", "web", "worker"]
    expect(dialog.locator('.field[data-field="service"] .hint')).to_contain_text("Observed: 3 to choose from")
    service.fill("not-observed-yet")                    # free text is still allowed
    assert service.evaluate("i => i.checkValidity()") is True
    shoot(page, "runbook-choices-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "runbook-choices-390")
    assert page.js_errors == []


def test_nothing_observed_says_so(fresh_site):
    rt, signed_in = fresh_site
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name="engine-c", type="docker", environment="test",
                           config={"base_url": "tcp://10.0.0.9:2376"}, credentials={}, created_by="t")
    page = signed_in("operator")
    page.goto("/runbooks?run=swarm-scale")
    dialog = page.locator("#run-dialog")
    expect(dialog).to_be_visible()
    assert dialog.get_by_label("Service").get_attribute("list") is None
    expect(dialog.locator('.field[data-field="service"] .hint')).to_have_text(
        "Nothing observed yet to choose from: type the name.")
