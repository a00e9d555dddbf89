"""The Logs page in a real browser, on a real Swarm service of this host's engine: opened
pre-filtered from a link, the merged tasks' lines with their task, level and time; a text and a
regex filter; a permalink that reopens the exact range; a download; live follow with pause and
resume (no line twice); opened from a container's panel and from a job; phone and desktop shots."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from playwright.sync_api import expect

from controller.store.models import Job, JobEvent
from tests.logs.conftest import (  # noqa: F401  (fixtures)
    LINES,
    REPLICAS,
    docker,
    docker_conn,
    service,
    ticker,
)
from tests.ui.conftest import PHONE, login_api, shoot

WAIT = 30_000   # ms: the pickers read every docker connection in the database, some unreachable
TOTAL = REPLICAS * (2 * LINES + 1)


def _open(page, context, make_user, **query):
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    page.goto("/logs?" + urlencode(query))


def test_a_services_log_filtered_linked_and_downloaded(page, context, make_user, service, docker_conn):  # noqa: F811
    _open(page, context, make_user, source="service", selector=f"{docker_conn}/{service}")
    view = page.locator("#logs-view")
    expect(view.locator(".line")).to_have_count(TOTAL, timeout=WAIT)
    expect(page.locator("#logs-h")).to_have_text(f"{TOTAL} lines")
    expect(page.locator("#logs-service")).to_have_value(service)
    expect(view.locator(".line.lvl-error")).to_have_count(REPLICAS * LINES)
    expect(view.locator(".line.lvl-warn")).to_have_count(REPLICAS)
    expect(view.locator(".line .task", has_text=f"{service}.1@")).to_have_count(2 * LINES + 1)
    expect(view.locator(".line .ts").first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$"))
    shoot(page, "logs-service-1440")

    page.get_by_label("Timestamps").uncheck()
    expect(view.locator(".line .ts").first).to_be_hidden()
    page.get_by_label("Wrap lines").uncheck()
    expect(view).to_have_class(re.compile(r"\bnowrap\b"))

    page.get_by_label("Filter").fill("out 2 from")
    page.get_by_role("button", name="Show").click()
    expect(view.locator(".line")).to_have_count(REPLICAS)
    expect(page).to_have_url(re.compile(r"q=out\+2\+from"))
    page.get_by_label("Filter").fill(r"^ERROR err [12] \|")
    page.get_by_label("Regex").check()
    page.get_by_role("button", name="Show").click()
    expect(view.locator(".line")).to_have_count(2 * REPLICAS)
    shown = view.locator(".line .text").all_inner_texts()

    page.get_by_label("Filter").fill("(unclosed")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#logs-error")).to_contain_text("not a valid regular expression")
    page.get_by_label("Filter").fill(r"^ERROR err [12] \|")
    page.get_by_role("button", name="Show").click()
    expect(view.locator(".line")).to_have_count(2 * REPLICAS)

    with page.expect_download() as got:
        page.get_by_role("button", name="Download").click()
    text = open(got.value.path()).read().splitlines()
    assert len(text) == 2 * REPLICAS and all(f" stderr {service}." in line for line in text)

    page.get_by_role("button", name="Copy permalink").click()
    link = page.locator("#logs-permalink").get_attribute("data-link")
    assert "since=" in link and "until=" in link and "regex=true" in link
    page.goto(link)
    expect(view.locator(".line")).to_have_count(2 * REPLICAS, timeout=WAIT)
    assert view.locator(".line .text").all_inner_texts() == shown
    expect(page.locator("#logs-range")).to_have_value("custom")
    assert page.js_errors == []


def test_follow_live_pause_and_resume_show_every_line_once(page, context, make_user, ticker, docker_conn):  # noqa: F811
    _open(page, context, make_user, source="service", selector=f"{docker_conn}/{ticker}")
    view = page.locator("#logs-view")
    expect(view.locator(".line").first).to_be_visible(timeout=WAIT)
    page.get_by_label("Follow live").check()
    expect(page.locator("#logs-state")).to_have_text("Live")
    before = view.locator(".line").count()
    expect(view.locator(".line")).not_to_have_count(before, timeout=WAIT)      # live lines arrive
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#logs-state")).to_contain_text("Paused")
    paused = view.locator(".line").count()
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#logs-state")).to_have_text("Live")
    expect(view.locator(".line")).not_to_have_count(paused, timeout=WAIT)      # the lines of the pause, then more
    page.get_by_label("Follow live").uncheck()
    texts = view.locator(".line .text").all_inner_texts()
    assert len(texts) == len(set(texts))                                      # tick <n> <host>: none twice
    for host in {t.split()[2] for t in texts}:
        ticks = [int(t.split()[1]) for t in texts if t.split()[2] == host]
        assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))           # none missing either
    assert page.js_errors == []


def test_opened_from_a_containers_panel_and_from_a_job(page, context, make_user, service, docker_conn, runtime):  # noqa: F811
    viewer = make_user("viewer")
    login_api(context, viewer.email, viewer.password)
    cid = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.swarm.service.name={service}").split()[0]
    page.goto("/containers")
    row = page.locator(f'tr.ctr-row[data-ref="{cid}"][data-connection="{docker_conn}"]')
    expect(row).to_be_visible(timeout=WAIT)
    row.click()
    page.locator("#ctr-panel").get_by_role("link", name="Open in Logs").click()
    expect(page).to_have_url(re.compile(r"/logs\?source=container"))
    expect(page.locator("#logs-source")).to_have_value("container")
    expect(page.locator("#logs-view .line")).to_have_count(2 * LINES + 1, timeout=WAIT)
    expect(page.locator("#logs-container")).to_have_value(cid)

    page.goto("/containers")
    expect(row).to_be_visible(timeout=WAIT)
    row.click()
    page.locator("#ctr-panel").get_by_role("link", name="Service log").click()
    expect(page.locator("#logs-view .line")).to_have_count(TOTAL, timeout=WAIT)

    t0 = datetime.now(UTC) - timedelta(minutes=2)
    with runtime.db.session() as db:
        job = Job(runbook="logs-ui", title="logs ui", status="success")
        db.add(job)
        db.flush()
        job_id = job.id
        for i in range(1, 4):
            db.add(JobEvent(job_id=job_id, counter=i, type="runner_on_ok", host="web1", task="t",
                            stdout=f"job line {i}" + (" ERROR" if i == 2 else ""), created=t0 + timedelta(seconds=i)))
    page.goto(f"/jobs/{job_id}")
    page.get_by_role("link", name="Open in Logs").click()
    expect(page.locator("#logs-source")).to_have_value("job")
    expect(page.locator("#logs-job")).to_have_value(str(job_id))
    expect(page.locator("#logs-view .line .text")).to_have_text(["job line 1", "job line 2 ERROR", "job line 3"])
    expect(page.locator("#logs-view .line.lvl-error")).to_have_count(1)
    assert page.js_errors == []


def test_the_page_on_a_phone(page, context, make_user, service, docker_conn):  # noqa: F811
    page.set_viewport_size(PHONE)
    _open(page, context, make_user, source="service", selector=f"{docker_conn}/{service}")
    expect(page.locator("#logs-view .line")).to_have_count(TOTAL, timeout=WAIT)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px"
    shoot(page, "logs-service-390")
    assert page.js_errors == []
