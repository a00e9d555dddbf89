"""Statuses that tell the truth, in a real browser: a source with invalid manifests says how many on
the source list, in its history and on the dashboard, whose drift card lists such errors apart from
the drift bar (a broken manifest is not drift, and is not "nothing to compare"); and records whose target
could not be observed are unknown everywhere they are counted, never in sync."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.cloudflare.site import Site
from tests.emulators.cloudflare import CloudflareEmulator
from tests.gitops.conftest import World
from tests.support.gitserver import commit
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot

BROKEN = "apiVersion: jarvis/v1\nname: [unclosed\n"
DEGRADED = "degraded: 2 of 3 manifests invalid"


def test_a_degraded_source_says_how_many_manifests_are_invalid(page, context, make_user, runtime, tmp_path,
                                                              filestore_registered):
    w = World(runtime, tmp_path)
    commit(w.repo, {"a/orch.yaml": w.manifest({"web": {}}, name="a"), "b/orch.yaml": BROKEN, "c/orch.yaml": BROKEN},
           "two of three broken")
    w.sync()
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)

    page.goto("/gitops#sources")
    row = page.locator(f'#sources-body tbody[data-name="{w.source_name}"]')
    expect(row.locator("td.status .badge").first).to_have_text(DEGRADED)
    expect(row.locator("td.status .badge.degraded")).to_have_count(1)
    row.get_by_role("button", name=f"History of {w.source_name}").click()
    expect(row.locator(".history-panel tbody tr").first.locator(".badge").first).to_have_text(DEGRADED)
    shoot(page, "sources-degraded-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "sources-degraded-390")

    page.set_viewport_size(DESKTOP)
    page.goto("/dashboard")
    expect(page.locator("#dash-updated")).to_contain_text("Updated")
    expect(page.locator(f'#src-body tr[data-source="{w.source_name}"] .badge').first).to_have_text(DEGRADED)
    errors = page.locator("#drift-body .drift-errors")
    expect(errors).to_be_visible()
    expect(errors.locator(f'li[data-source="{w.source_name}"]')).to_contain_text(DEGRADED)
    expect(page.locator("#drift-body .drift-bar .seg.error")).to_have_count(0)   # errors are not drawn as drift
    page.locator("#drift-body").scroll_into_view_if_needed()
    shoot(page, "dashboard-drift-errors-1440")
    page.set_viewport_size(PHONE)
    page.locator("#drift-body").scroll_into_view_if_needed()
    shoot(page, "dashboard-drift-errors-390")
    assert page.js_errors == []


def test_records_of_a_target_that_cannot_be_observed_show_unknown(page, context, make_user, runtime, tmp_path,
                                                                  filestore_registered):
    """Cloudflare refuses the connection's token: the records the manifest declares are shown unknown
    (on the drift tab, in its filter, on the dashboard's bar and target), never in sync."""
    emu = CloudflareEmulator().start()
    try:
        emu.add_zone("example.com")        # and no valid token: every request is an authentication error
        w = Site(runtime, tmp_path, emu, token="cf-refused-token-0123456789")
        w.push(text=w.with_dns(), message="dns and a stack")
        assert w.sync().error == ""
    finally:
        emu.stop()
    assert not emu.violations, emu.violations
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)

    page.goto("/gitops")
    page.get_by_role("tab", name="Drift").click()
    page.locator("#drift-q").fill(w.source_name)
    mine = page.locator("#drift-body details.drift")
    expect(mine.locator("summary .badge.unknown")).to_have_count(2)
    expect(mine.locator("summary .badge.in_sync")).to_have_count(0)
    expect(mine.filter(has_text="record/www.example.com/A").locator(".badge")).to_have_text("unknown")
    page.locator("#drift-status").select_option("unknown")
    expect(mine).to_have_count(2)
    unknown = page.request.get("/api/drift").json()["summary"]["unknown"]
    cards = page.locator("#drift-summary .card").filter(has_text="Unknown")
    expect(cards.locator(".badge.unknown")).to_have_text(str(unknown))
    mine.first.locator("summary").click()
    expect(mine.first.locator(".notice")).to_contain_text("not observed: target unavailable")
    shoot(page, "drift-unknown-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "drift-unknown-390")

    page.set_viewport_size(DESKTOP)
    page.goto("/dashboard")
    expect(page.locator("#dash-updated")).to_contain_text("Updated")
    data = page.request.get("/api/dashboard").json()
    assert data["drift"]["unknown"] == unknown
    expect(page.locator("#drift-body .drift-bar .seg.unknown")).to_have_count(1)
    strip = page.locator("#drift-body .summary-strip > div").filter(has_text="Unknown")
    expect(strip.locator(".badge.unknown")).to_have_text(str(unknown))
    target = page.locator(f'#targets-body li[data-target="{w.target}"]')
    expect(target.locator(".badge").first).to_have_text("down")
    expect(target.locator(".badge.unknown")).to_have_text("2 unknown")
    target.scroll_into_view_if_needed()
    shoot(page, "dashboard-unknown-1440")
    page.set_viewport_size(PHONE)
    target.scroll_into_view_if_needed()
    expect(target).to_be_in_viewport()
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")   # painted
    shoot(page, "dashboard-unknown-390")
    assert page.js_errors == []
