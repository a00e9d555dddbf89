"""The job page at 1440x900 and 390x844 (issue 12): the log's gutter numbers the lines shown (1, 2, 3...),
not the events' counters, and a long input or output line stays inside its card (wrapped, not cut off)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.ui.conftest import PHONE, shoot

LONG = "a-label-without-any-space-" * 12


def test_the_log_gutter_numbers_lines_and_long_json_stays_in_its_card(jobs_page):
    page = jobs_page
    page.goto("/runbooks?q=ui-count")
    page.get_by_role("button", name="Execute Count lines (UI test)").click()
    dialog = page.locator("#run-dialog")
    dialog.get_by_label("Count").fill("4")
    dialog.get_by_label("Pause").fill("0")
    dialog.get_by_label("Label").fill(LONG)
    dialog.get_by_role("textbox", name="Tags item 1", exact=True).fill("alpha")
    dialog.get_by_role("button", name="Add tags item").click()
    dialog.get_by_role("textbox", name="Tags item 2", exact=True).fill("beta")
    dialog.get_by_role("button", name="Execute").click()
    expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    log = page.locator("#job-log")
    expect(log).to_have_attribute("data-state", "ended", timeout=120_000)
    gutter = [int(t) for t in log.locator(".line .ctr").all_inner_texts()]
    counters = [int(c) for c in log.locator(".line").evaluate_all("ls => ls.map(l => l.dataset.counter)")]
    assert gutter == list(range(1, len(gutter) + 1)), gutter
    assert counters != gutter              # events without text have no line: the counters skip
    expect(page.locator("#job-input")).to_contain_text(LONG.strip("-"))
    for label, size in (("1440", None), ("390", PHONE)):
        if size:
            page.set_viewport_size(size)
        page.locator("#io-h").scroll_into_view_if_needed()
        for box in ("#job-input", "#job-output"):
            fits = page.locator(box).evaluate("""p => {
                const card = p.closest('.card').getBoundingClientRect(), r = p.getBoundingClientRect();
                return {inside: r.right <= card.right + 0.5, hidden: p.scrollWidth - p.clientWidth};
            }""")
            assert fits["inside"] and fits["hidden"] <= 1, (label, box, fits)
        shoot(page, f"job-long-input-{label}")
