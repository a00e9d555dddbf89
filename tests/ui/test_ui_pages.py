"""Every page in a real browser: it loads without script errors or CSP violations, its form fields
are labelled, its screenshots at desktop and phone sizes, and a viewer sees no mutating control."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import DESKTOP, PHONE, login_api, shoot

PAGES = ["dashboard", "gitops", "runbooks", "jobs", "infra", "containers", "logs", "assistant", "settings"]
# the accessible name of every form control on the page that has none (should be empty)
UNLABELLED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labels = el.labels ? Array.from(el.labels).map(l => l.textContent.trim()).join(' ') : '';
    const name = (el.getAttribute('aria-label') || '').trim() || labels ||
      (el.getAttribute('aria-labelledby') || '').split(' ').map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim() ||
      (el.getAttribute('title') || '').trim();
    if (!name) bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
}"""


def _settle(page) -> None:
    page.wait_for_load_state("load")
    expect(page.locator(".skeleton:visible")).to_have_count(0)


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_labelled_and_screenshotted(page, context, make_user, name):
    user = make_user("admin")
    login_api(context, user.email, user.password)
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"/{name}")
        expect(page).to_have_url(re.compile(f"/{name}"))
        _settle(page)
        assert page.evaluate(UNLABELLED) == []
        shoot(page, f"{name}-{label}")
    assert page.js_errors == []


def test_login_screenshots(page):
    for label, size in (("1440", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        page.goto("/login")
        page.wait_for_load_state("load")
        assert page.evaluate(UNLABELLED) == []
        shoot(page, f"login-{label}")
    assert page.js_errors == []


def test_pages_need_a_session(page):
    for name in PAGES:
        page.goto(f"/{name}")
        expect(page).to_have_url(re.compile(rf"/login\?next=%2F{name}$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard$"))
