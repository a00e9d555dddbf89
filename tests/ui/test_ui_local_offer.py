"""Embedded Jarvis next to a Swarm manager offers admins, on the dashboard and the GitOps page, to create
the docker connection `local` that examples/local needs: one click, and the open pages follow (issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.swarm.conftest import swarm_engine  # noqa: F401  (the real engine, in swarm mode)
from tests.ui.conftest import DESKTOP, PHONE, shoot


@pytest.fixture
def embedded(fresh_site, swarm_engine):  # noqa: F811
    """Embedded, no connection yet, and this host's Swarm answers."""
    return fresh_site


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
