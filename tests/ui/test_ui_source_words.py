"""The source list's words (issue 12): a poll interval in whole units ("every 5 min", not "5 min 0 s"),
and a folder source without a branch shown as one, not with a dangling "@"."""

from __future__ import annotations

from playwright.sync_api import expect

from controller.store.models import Source
from tests.ui.conftest import PHONE, shoot


def test_source_rows_say_the_interval_and_what_is_read(fresh_site, tmp_path):
    rt, signed_in = fresh_site
    with rt.db.session() as db:
        db.add(Source(name="folder-src", url=str(tmp_path), branch="", paths=["**/orch.yaml"], poll_interval=300))
        db.add(Source(name="repo-src", url="https://git.example.test/app.git", branch="main", paths=["orch.yaml"],
                      poll_interval=90))
        db.add(Source(name="hourly-src", url="https://git.example.test/ops.git", branch="prod", paths=["orch.yaml"],
                      poll_interval=3600))
    page = signed_in("viewer")
    page.goto("/gitops")
    rows = page.locator("#sources-body tbody")
    expect(rows).to_have_count(3)
    folder = page.locator("tbody[data-name='folder-src']")
    expect(folder).to_contain_text(f"{tmp_path} (files as saved on disk)")
    expect(folder).not_to_contain_text(" @ ")
    expect(folder).to_contain_text("every 5 min")
    expect(folder).not_to_contain_text("0 s")
    expect(page.locator("tbody[data-name='repo-src']")).to_contain_text("https://git.example.test/app.git @ main")
    expect(page.locator("tbody[data-name='repo-src']")).to_contain_text("every 1 min 30 s")
    hourly = page.locator("tbody[data-name='hourly-src']")
    expect(hourly).to_contain_text("every 1 h")
    expect(hourly).not_to_contain_text("0 min")
    shoot(page, "gitops-source-words-1440")
    page.set_viewport_size(PHONE)
    shoot(page, "gitops-source-words-390")
    assert page.js_errors == []
