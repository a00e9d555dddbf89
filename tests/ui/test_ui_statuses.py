"""Statuses that tell the truth, in a real browser: a source with invalid manifests says how many on
the source list, in its history and on the dashboard, whose drift card lists such errors apart from
the drift bar (a broken manifest is not drift, and is not "nothing to compare")."""

from __future__ import annotations

from playwright.sync_api import expect

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
