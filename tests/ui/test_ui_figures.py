"""Figures for the closing note of the web UI issue, measured in the real browser and written to
test-output/figures.json (and printed): bytes transferred for /login and /dashboard uncached, and
the time from a job's start to its first log line shown on the job page. Nothing here asserts a
duration; the tests assert only that what is measured is the real thing (no foreign request, the
dashboard API answering 200 with data, a log line on the page)."""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.ui.conftest import OUTPUT, login_api

FIGURES = OUTPUT / "figures.json"
JOB_RUNS = 3
# Marks <html data-first-line-at> the moment the job page's first log line is in the DOM (epoch ms,
# the browser's clock); an attribute because the page's CSP forbids the eval of wait_for_function.
FIRST_LINE_PROBE = """(() => {
  const obs = new MutationObserver(() => {
    const line = document.querySelector('#job-log .line');
    if (!document.documentElement.dataset.firstLineAt && line) {
      document.documentElement.dataset.firstLineAt = String(Date.now());
      document.documentElement.dataset.firstLineCounter = line.dataset.counter;
      obs.disconnect();
    }
  });
  obs.observe(document, { childList: true, subtree: true });
})();"""


def _record(key: str, value, capsys) -> None:
    """Merges one figure into test-output/figures.json and prints it past pytest's capture."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[key] = value
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    with capsys.disabled():
        print(f"\n[figure] {key}: {json.dumps(value, indent=2)}")


def _recorder(cdp):
    urls, sizes = {}, {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    return urls, sizes


def test_bytes_for_login_and_dashboard_uncached(browser, live, make_user, synced_world, capsys):
    """No CDN, no web font: every request stays on the Jarvis origin. The dashboard is measured with
    real data behind it (a synced source, its plan, drift and history) and /api/dashboard answering."""
    user = make_user("admin")
    figures = {}
    for name in ("login", "dashboard"):
        ctx = browser.new_context(base_url=live.url)
        if name != "login":
            login_api(ctx, user.email, user.password)
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        urls, sizes = _recorder(cdp)
        last_call = "**/api/auth/refresh" if name == "login" else "**/api/dashboard"   # the page's own API call
        with page.expect_response(last_call) as answer:
            page.goto(f"/{name}")
        page.wait_for_load_state("load")
        if name == "dashboard":
            assert answer.value.status == 200, answer.value.text()
            assert answer.value.json()["sources"], "the dashboard should be measured with data"
            expect(page.locator("#src-body")).to_contain_text(synced_world.source_name)
            expect(page.locator(".skeleton:visible")).to_have_count(0)
        foreign = [u for u in urls.values() if not u.startswith((live.url, "data:", "ws://127.0.0.1"))]
        assert foreign == [], foreign
        per_path = {urlsplit(urls[r]).path: n for r, n in sizes.items() if r in urls}
        figures[name] = {"bytes": sum(sizes.values()), "requests": len(urls), "per_request": per_path}
        ctx.close()
    _record("uncached_transfer_bytes", figures, capsys)


def _epoch_ms(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def _execute_from_form(page):
    """Runs the test runbook from its generated form; answers (job id, epoch ms the execute call returned)."""
    page.goto("/runbooks?q=ui-count")
    page.get_by_role("button", name="Execute Count lines (UI test)").click()
    dialog = page.locator("#run-dialog")
    dialog.get_by_label("Count").fill("5")
    dialog.get_by_label("Pause").fill("0.01")
    dialog.get_by_role("textbox", name="Tags item 1", exact=True).fill("alpha")
    dialog.get_by_role("button", name="Add tags item").click()
    dialog.get_by_role("textbox", name="Tags item 2", exact=True).fill("beta")
    dialog.get_by_label("Token").fill("figure-token")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/execute")) as answer:
        dialog.get_by_role("button", name="Execute").click()
    res = answer.value
    assert res.ok, res.text()
    res.finished()
    timing = res.request.timing
    returned_at = timing["startTime"] + timing["responseEnd"]
    expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    return page.url.rsplit("/", 1)[1], returned_at


def test_time_from_job_start_to_its_first_log_line(jobs_page, capsys):
    """Each run: execute from the form, open the job page, note when its first log line is shown.
    Browser, server and worker share this machine's clock, so started_at compares with it."""
    page = jobs_page
    page.add_init_script(FIRST_LINE_PROBE)
    runs = []
    for _ in range(JOB_RUNS):
        job_id, returned_at = _execute_from_form(page)
        root = page.locator("html")
        expect(root).to_have_attribute("data-first-line-at", re.compile(r"^\d+$"), timeout=120_000)
        shown_at = int(root.get_attribute("data-first-line-at"))
        expect(page.locator("#job-log")).to_have_attribute("data-state", "ended", timeout=120_000)
        job = page.request.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "success", job
        counter = int(root.get_attribute("data-first-line-counter"))
        events = page.request.get(f"/api/jobs/{job_id}/events?after={counter - 1}&limit=1").json()["events"]
        assert events and events[0]["counter"] == counter, events
        started, event_at = _epoch_ms(job["started_at"]), _epoch_ms(events[0]["created"])
        runs.append({
            "job": job_id,
            "execute_returned_to_first_line_ms": round(shown_at - returned_at),
            "started_at_to_first_line_ms": round(shown_at - started),
            # where the time goes: the runner producing its first output, then the UI showing it
            "started_at_to_first_event_created_ms": round(event_at - started),
            "first_event_created_to_shown_ms": round(shown_at - event_at),
            "created_to_started_ms": round(started - _epoch_ms(job["created_at"])),
        })
    summary = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key.endswith("_ms")}
    _record("job_start_to_first_log_line", {"median": summary, "runs": runs,
                                            "note": "embedded worker, ansible-runner, the ui-count test runbook"},
            capsys)
