"""The Containers page in a real browser, on a real container of this host's engine: the tree and the
table find it, the search filters it, its panel shows details (env names, never values) and its log,
an operator restarts it after a confirmation naming it and its environment (its start time changes),
and a viewer sees the log but no Restart."""

from __future__ import annotations

import re
import subprocess
import uuid

import pytest
from playwright.sync_api import expect

from tests.containers.conftest import SECRET_VALUE, container, docker_conn  # noqa: F401  (fixtures)
from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot

WAIT = 30_000   # ms: the list reads every docker connection in the database, some unreachable


def _started(cid: str) -> str:
    return subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}}", cid], check=True,
                          capture_output=True, text=True).stdout.strip()


def _row(page, ref: str, connection: str):
    """The container's row under this test's connection: other tests' connections to the same local
    engine list the same container under their own names, so a ref alone is not one row."""
    return page.locator(f'tr.ctr-row[data-ref="{ref}"][data-connection="{connection}"]')


def _open_page(page, context, user, container, connection):  # noqa: F811
    login_api(context, user.email, user.password)
    page.goto("/containers")
    row = _row(page, container["id"], connection)
    expect(row).to_be_visible(timeout=WAIT)
    return row


def test_operator_finds_inspects_and_restarts_a_container(page, context, make_user, container, docker_conn):  # noqa: F811
    operator = make_user("operator")
    row = _open_page(page, context, operator, container, docker_conn)
    expect(page.locator("#ctr-tree")).to_contain_text(docker_conn)
    expect(row).to_contain_text("jarvis-test/sleep:1")
    page.get_by_label("Search", exact=True).fill(container["name"])
    # the search leaves only this container (listed once per connection to this engine) ...
    expect(page.locator(f'tr.ctr-row:not([data-ref="{container["id"]}"])')).to_have_count(0)
    # ... and choosing its environment in the tree leaves one row
    page.locator("#ctr-tree button.tree-item", has_text=docker_conn).first.click()
    expect(page.locator("tr.ctr-row")).to_have_count(1)
    shoot(page, "containers-list-1440")

    row.click()
    panel = page.locator("#ctr-panel")
    expect(panel.get_by_role("heading", name=container["name"])).to_be_visible()
    expect(panel.locator("#ctr-facts")).to_contain_text("API_TOKEN", timeout=WAIT)
    expect(panel.locator("#ctr-facts")).to_contain_text(container["volume"])
    expect(panel.locator("#ctr-log")).to_contain_text("out-one")
    expect(panel.locator("#ctr-log .line.stderr")).to_have_text("err-one")
    panel.get_by_label("Search the log").fill("two")
    expect(panel.locator("#ctr-log .line")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text(SECRET_VALUE)
    shoot(page, "containers-panel-1440")

    before = _started(container["id"])
    panel.get_by_role("button", name="Restart…").click()
    confirm = page.locator("#ctr-confirm")
    expect(confirm).to_contain_text(f"Restart {container['name']} in environment {docker_conn}")
    shoot(page, "containers-restart-confirm-1440")
    confirm.get_by_role("button", name="Restart", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text(f"{container['name']} restarted", timeout=WAIT)
    assert _started(container["id"]) != before
    assert page.js_errors == []


def test_viewer_reads_the_log_and_has_no_restart_and_the_phone_layout(page, context, make_user, container,  # noqa: F811
                                                                      docker_conn):  # noqa: F811
    viewer = make_user("viewer")
    page.set_viewport_size(PHONE)
    row = _open_page(page, context, viewer, container, docker_conn)
    page.get_by_label("Search", exact=True).fill(container["name"])
    shoot(page, "containers-list-390")
    row.click()
    panel = page.locator("#ctr-panel")
    expect(panel.locator("#ctr-log")).to_contain_text("out-two", timeout=WAIT)
    expect(panel.locator("#ctr-facts")).to_contain_text("API_TOKEN", timeout=WAIT)
    expect(panel.get_by_role("button", name="Restart…")).to_have_count(0)
    expect(page.locator(".mutating")).to_have_count(0)
    shoot(page, "containers-panel-390")
    page.set_viewport_size(DESKTOP)
    assert page.js_errors == []


@pytest.fixture
def failed_container():
    """A container that exited with an error (jarvis-test/fail:1 exits 3)."""
    name = f"ctrfail-{uuid.uuid4().hex[:8]}"
    cid = subprocess.run(["docker", "run", "-d", "--name", name, "jarvis-test/fail:1"], check=True,
                         capture_output=True, text=True).stdout.strip()
    subprocess.run(["docker", "wait", cid], check=True, capture_output=True)
    yield {"id": cid, "name": name}
    subprocess.run(["docker", "rm", "-f", cid], capture_output=True)


def test_the_dashboard_counts_containers_with_errors_and_leads_to_them(page, context, make_user, failed_container,
                                                                       docker_conn):  # noqa: F811
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    page.goto("/dashboard")
    tile = page.locator('[data-metric="container_errors"]')
    expect(tile).to_have_text(re.compile(r"^[1-9]\d*"), timeout=WAIT)
    shoot(page, "dashboard-container-errors-1440")
    page.locator("#w-containers").click()
    expect(page).to_have_url(re.compile(r"/containers\?state=errors$"))
    row = _row(page, failed_container["id"], docker_conn)
    expect(row).to_be_visible(timeout=WAIT)
    expect(row).to_contain_text("exited")
    expect(page.locator("tr.ctr-row .badge", has_text="running")).to_have_count(0)
    assert page.js_errors == []
