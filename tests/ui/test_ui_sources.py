"""GitOps → Sources in a real browser: administrators add, edit and delete sources through the form
(server errors land next to their fields, the webhook secret is write-only), viewers and operators
find no admin control, and each source's reconcile history expands under its row."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import BrowserContext, expect

from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot


def _csrf(context: BrowserContext) -> dict[str, str]:
    return {"X-CSRF-Token": next(c["value"] for c in context.cookies() if c["name"] == "jarvis_csrf")}


def _api(context: BrowserContext, method: str, path: str, data=None):
    res = context.request.fetch(path, method=method, headers=_csrf(context), data=data)
    assert res.ok, f"{method} {path}: {res.status} {res.text()}"
    return res.json() if res.status != 204 else None


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def _source_row(page, name: str):
    return page.locator(f'#sources-body tbody[data-name="{name}"]')


def test_admin_adds_a_source_through_the_form(page, context, make_user):
    admin = make_user("admin")
    login_api(context, admin.email, admin.password)
    ssh, docker = _unique("ssh-git"), _unique("docker-not-git")
    for name, kind, config, credentials in ((ssh, "ssh", {"ssh_user": "git"}, {"private_key": "k" * 40}),
                                            (docker, "docker", {"base_url": "tcp://10.0.0.9:2376"}, {})):
        _api(context, "POST", "/api/connections", {"name": name, "type": kind, "environment": "production",
                                                   "config": config, "credentials": credentials})
    page.goto("/gitops#sources")
    page.get_by_role("button", name="Add source").click()
    dialog = page.locator("#source-dialog")
    expect(dialog).to_be_visible()
    name = _unique("ui-src")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Repository URL").fill("https://git.example.test/acme/infra.git")
    dialog.get_by_label("Branch").fill("release")
    dialog.get_by_label("Manifest paths").fill("apps/**/orch.yaml, infra/orch.yaml\nedge/orch.yaml")
    dialog.get_by_label("Poll interval (seconds)").fill("30")
    connection = dialog.get_by_label("Connection")
    expect(connection.locator(f'option[value="{ssh}"]')).to_have_count(1)
    expect(connection.locator(f'option[value="{docker}"]')).to_have_count(0)   # only github / ssh can clone
    connection.select_option(ssh)
    dialog.get_by_label("Webhook secret").fill("hook-secret-value-1")
    shoot(page, "gitops-add-source-1440")
    dialog.get_by_role("button", name="Add source").click()
    expect(dialog).to_be_hidden()

    row = _source_row(page, name)
    expect(row).to_be_visible()
    saved = next(s for s in _api(context, "GET", "/api/sources") if s["name"] == name)
    assert saved["paths"] == ["apps/**/orch.yaml", "infra/orch.yaml", "edge/orch.yaml"]
    assert (saved["branch"], saved["poll_interval"], saved["connection"]) == ("release", 30, ssh)
    assert saved["has_webhook_secret"] and saved["enabled"]
    expect(row.locator("td.status .badge").first).to_have_text(saved["status"])
    expect(row).to_contain_text("@ release")
    expect(row).to_contain_text("secret set")
    expect(row.locator(".alert-reason")).to_have_text(saved["alert_reason"])   # no controller runs here
    expect(page.locator("#source-alerts")).to_contain_text(name)
    expect(page.locator("body")).not_to_contain_text("hook-secret-value-1")
    shoot(page, "gitops-sources-admin-1440")
    assert page.js_errors == []


def test_server_errors_land_next_to_their_fields(page, context, make_user):
    admin = make_user("admin")
    login_api(context, admin.email, admin.password)
    taken = _unique("ui-taken")
    _api(context, "POST", "/api/sources", {"name": taken, "url": "https://git.example.test/a.git"})
    page.goto("/gitops#sources")
    page.get_by_role("button", name="Add source").click()
    dialog = page.locator("#source-dialog")
    dialog.get_by_label("Name").fill(taken)
    dialog.get_by_label("Repository URL").fill("https://git.example.test/b.git")
    dialog.get_by_label("Manifest paths").fill(" , ")   # no path at all: only the server refuses it
    dialog.get_by_role("button", name="Add source").click()
    expect(dialog.locator('.field[data-field="paths"] .error')).not_to_be_empty()
    expect(dialog.get_by_label("Manifest paths")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("Manifest paths").fill("**/orch.yaml")
    dialog.get_by_role("button", name="Add source").click()
    expect(dialog.locator('.field[data-field="name"] .error')).to_contain_text("already exists")
    expect(dialog.locator('.field[data-field="paths"] .error')).to_be_empty()
    shoot(page, "gitops-source-errors-1440")


def test_admin_edits_and_deletes_a_source(page, context, make_user):
    admin = make_user("admin")
    login_api(context, admin.email, admin.password)
    name = _unique("ui-edit")
    created = _api(context, "POST", "/api/sources", {"name": name, "url": "https://git.example.test/e.git",
                                                     "webhook_secret": "first-hook-secret"})
    page.goto("/gitops#sources")
    page.get_by_role("button", name=f"Edit {name}").click()
    dialog = page.locator("#source-dialog")
    expect(dialog.get_by_label("Name")).to_have_value(name)
    expect(dialog.get_by_label("Name")).not_to_be_editable()
    secret = dialog.get_by_label("Webhook secret")
    expect(secret).to_have_value("")                       # write-only: never sent back
    expect(secret).to_have_attribute("placeholder", re.compile("secret set"))
    dialog.get_by_label("Branch").fill("develop")
    dialog.get_by_label("Enabled").uncheck()
    dialog.get_by_role("button", name="Save changes").click()
    row = _source_row(page, name)
    expect(row).to_contain_text("@ develop")
    expect(row).to_contain_text("disabled")
    saved = _api(context, "GET", f"/api/sources/{created['id']}")
    assert (saved["branch"], saved["enabled"], saved["has_webhook_secret"]) == ("develop", False, True)

    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(row).to_be_visible()                            # cancelled: nothing happens
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(row).to_have_count(0)
    assert context.request.get(f"/api/sources/{created['id']}").status == 404


def test_viewers_and_operators_get_no_admin_controls(browser, live, make_user):
    admin = make_user("admin")
    name = _unique("ui-roles")
    ctx = browser.new_context(base_url=live.url, viewport=DESKTOP)
    login_api(ctx, admin.email, admin.password)
    _api(ctx, "POST", "/api/sources", {"name": name, "url": "https://git.example.test/r.git"})
    ctx.close()
    for role in ("viewer", "operator"):
        user = make_user(role)
        ctx = browser.new_context(base_url=live.url, viewport=DESKTOP)
        login_api(ctx, user.email, user.password)
        page = ctx.new_page()
        page.goto("/gitops#sources")
        row = _source_row(page, name)
        expect(row).to_be_visible()
        expect(page.get_by_role("button", name="Add source")).to_have_count(0)
        expect(page.locator("#source-dialog")).to_have_count(0)
        expect(page.get_by_role("button", name=re.compile(r"^(Edit|Delete) "))).to_have_count(0)
        expect(row.get_by_role("button", name=f"Sync {name} now")).to_have_count(1 if role == "operator" else 0)
        expect(row.get_by_role("button", name=f"History of {name}")).to_be_visible()
        if role == "viewer":
            expect(page.locator(".mutating")).to_have_count(0)
            shoot(page, "gitops-sources-viewer-1440")
        ctx.close()


def test_history_expands_under_its_source(page, context, make_user, runtime, tmp_path, filestore_registered):
    from tests.gitops.conftest import World

    world = World(runtime, tmp_path)
    world.push({"web": {}, "api": {}})
    world.sync()
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    runs = context.request.get(f"/api/sources/{world.source_id}/history").json()
    assert runs, "the sync should have recorded a reconcile run"
    page.goto("/gitops#sources")
    toggle = page.get_by_role("button", name=f"History of {world.source_name}")
    panel = page.locator(f"#history-{world.source_id}")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(panel).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel.locator("tbody tr")).to_have_count(len(runs))
    expect(panel.locator(".badge").first).to_have_text(runs[0]["result"])
    expect(panel).to_contain_text(f"{runs[0]['plan_summary']['create']} create")
    expect(panel).to_contain_text(runs[0]["revision"][:10])
    shoot(page, "gitops-source-history-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "gitops-source-history-390")
    toggle.click()
    expect(panel).to_be_hidden()
    assert page.js_errors == []
