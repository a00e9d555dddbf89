"""A new install watches examples/: the drift page's error of each example says what it needs, as the user
meets it (issue 12). First no connection exists: each error names the connection by its name and type and
where to add it. Once the docker and Cloudflare connections exist, the next errors name the variable
(webapp) and why jarvis-self cannot read its stack file from this source."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from controller.gitops.loop import sync_source
from controller.gitops.service import ensure_examples_source
from controller.store.models import Source
from tests.swarm.conftest import swarm_engine  # noqa: F401  (the real engine, in swarm mode)
from tests.ui.conftest import DESKTOP, PHONE, shoot

ADD = "in Settings → Connections"


def _sync_examples(rt) -> None:
    with rt.db.session() as db:
        (source_id,) = db.query(Source.id).filter(Source.name == "examples").one()
    sync_source(rt, source_id, "test")


def _error_of(page: Page, manifest: str, has_text: str = ""):
    item = page.locator("#drift-body details.drift", has_text=f"examples / {manifest}")
    if has_text:
        item = item.filter(has_text=has_text)
    expect(item).to_have_count(1)
    if item.get_attribute("open") is None:
        item.locator("summary").click()
    return item.locator(".notice")


def _shoot_both(page: Page, name: str) -> None:
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.locator("#drift-body").scroll_into_view_if_needed()
        shoot(page, f"{name}-{label}")
    page.set_viewport_size(DESKTOP)


def test_each_example_says_on_the_drift_page_what_it_needs(fresh_site, swarm_engine, monkeypatch):  # noqa: F811
    monkeypatch.delenv("WEBAPP_DB_PASSWORD", raising=False)
    rt, signed_in = fresh_site
    ensure_examples_source(rt)
    _sync_examples(rt)
    page = signed_in("admin")
    page.goto("/gitops#drift")

    expect(_error_of(page, "local/orch.yaml")).to_contain_text(
        "no connections are defined yet: add a docker connection named 'local' " + ADD)
    webapp = _error_of(page, "webapp/orch.yaml")
    expect(webapp).to_contain_text(f"add a docker connection named 'prod-swarm' {ADD}")
    expect(webapp).to_contain_text(f"add a cloudflare connection named 'cf-main' {ADD}")
    expect(_error_of(page, "fleet/orch.yaml")).to_contain_text(f"add a hetzner connection named 'hetzner-main' {ADD}")
    backups = _error_of(page, "backups/orch.yaml")
    expect(backups).to_contain_text(f"add a docker connection named 'prod-swarm' {ADD}")
    expect(backups).to_contain_text("backups.webapp-uploads.with.repository: unknown connection 'offsite'")
    expect(backups).to_contain_text(f"add a backup-repository connection named 'offsite' {ADD}")
    expect(_error_of(page, "jarvis-self/orch.yaml")).to_contain_text(f"add a docker connection named 'prod-swarm' {ADD}")
    # one error per line, each hint a link to where connections are added; no empty diff, no dangling arrow
    expect(webapp.locator("li")).to_have_count(2)
    expect(backups.locator("li")).to_have_count(4)
    expect(webapp.get_by_role("link", name="Settings → Connections").first).to_have_attribute("href", "/settings#connections")
    item = page.locator("#drift-body details.drift", has_text="examples / webapp/orch.yaml")
    expect(item.locator("summary")).not_to_contain_text("→")
    expect(item).not_to_contain_text("No field difference.")
    _shoot_both(page, "drift-example-needs")

    # the user adds the two connections webapp names; its next need is a variable, jarvis-self's a source
    csrf = {"X-CSRF-Token": next(c["value"] for c in page.context.cookies() if c["name"] == "jarvis_csrf")}
    for body in ({"name": "prod-swarm", "type": "docker", "config": {"base_url": "unix:///var/run/docker.sock"}},
                 {"name": "cf-main", "type": "cloudflare", "config": {"base_url": "http://127.0.0.1:9"},
                  "credentials": {"api_token": "not-a-real-token"}}):
        res = page.request.post("/api/connections", headers=csrf, data=body)
        assert res.status == 201, res.text()
    _sync_examples(rt)
    page.reload()
    expect(_error_of(page, "webapp/orch.yaml", "WEBAPP_DB_PASSWORD")).to_contain_text(
        "secrets.db_password: environment variable WEBAPP_DB_PASSWORD is not set in Jarvis's environment:"
        " export WEBAPP_DB_PASSWORD before starting Jarvis")
    expect(_error_of(page, "jarvis-self/orch.yaml")).to_contain_text(
        "compose: ../../deploy/stack.yml is outside this source's root: a source reads only the files of its own"
        " repository or folder")
    backups = _error_of(page, "backups/orch.yaml")
    expect(backups).to_contain_text("known connections: cf-main, prod-swarm; or add a backup-repository connection"
                                    f" named 'offsite' {ADD}")
    expect(_error_of(page, "fleet/orch.yaml")).to_contain_text(f"add a hetzner connection named 'hetzner-main' {ADD}")
    _shoot_both(page, "drift-example-needs-connected")
    assert page.js_errors == []
