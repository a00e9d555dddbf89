"""Embedded Jarvis next to a Swarm manager offers admins, on the dashboard and the GitOps page, to create
the docker connection `local` that examples/local needs: one click, and the open pages follow (issue 12)."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from controller.accounts import users
from tests.swarm.conftest import swarm_engine  # noqa: F401  (the real engine, in swarm mode)
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot


@pytest.fixture
def embedded(browser, tmp_path, swarm_engine):  # noqa: F811
    """A server of its own over a new database: embedded, no connection yet, this host's Swarm answers."""
    from controller.runtime import Runtime
    from tests.conftest import make_settings
    from tests.support import pg
    from tests.ui.conftest import serve

    name = pg.create_database("jarvis_ui_offer")
    rt = Runtime.start(make_settings(tmp_path / "data", pg.sqlalchemy_url(name)), first_admin=False)
    server = serve(rt)
    contexts = []

    def signed_in(role: str):
        with rt.db.session() as db:
            users.create(db, email := f"{role}-{secrets.token_hex(3)}@example.test", "the-password-1", role)
        ctx = browser.new_context(base_url=server.url, viewport=DESKTOP)
        contexts.append(ctx)
        login_api(ctx, email, "the-password-1")
        page = ctx.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        return page

    try:
        yield rt, signed_in
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()
        rt.close()
        pg.drop_database(name)


def test_an_admin_creates_the_local_connection_with_one_click(embedded):
    rt, signed_in = embedded
    operator = signed_in("operator")
    operator.goto("/dashboard")
    expect(operator.locator("#dash-updated")).to_contain_text("Updated")
    expect(operator.locator("#local-offer")).to_have_count(0)          # admins only
    assert operator.request.get("/api/connections/local-offers").status == 403

    page = signed_in("admin")
    page.goto("/gitops")
    offer = page.locator("#local-offer")
    expect(offer).to_be_visible()
    expect(offer).to_contain_text("This machine runs a Docker Swarm (swarm manager")
    expect(offer).to_contain_text("unix:///var/run/docker.sock")
    page.goto("/dashboard")
    expect(page.locator("#dash-updated")).to_contain_text("Updated")
    expect(offer).to_be_visible()
    tile = page.locator('[data-metric="target_problems"]')
    expect(tile).to_have_text("No target connection yet")
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        shoot(page, f"dashboard-local-offer-{label}")
    page.set_viewport_size(DESKTOP)

    offer.get_by_role("button", name="Create connection local").click()
    expect(offer).to_contain_text("Connection local created.")
    expect(tile).to_contain_text("Not observed yet: docker connection added")   # the tiles follow at once
    shoot(page, "dashboard-local-offer-accepted-1440")
    (conn,) = page.request.get("/api/connections").json()
    assert (conn["name"], conn["type"], conn["config"]) == ("local", "docker", {"base_url": "unix:///var/run/docker.sock"})
    page.goto("/gitops")                                                 # offered no more
    expect(page.locator("#sources-body")).not_to_contain_text("Loading")
    expect(page.locator("#local-offer")).to_be_hidden()
    assert page.request.get("/api/connections/local-offers").json() == []
    assert page.js_errors == [] and operator.js_errors == []
