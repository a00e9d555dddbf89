"""Job and GitOps flows in a real browser, against a server with a worker that runs jobs (the
`jobs_live` / `jobs_page` fixtures of tests/ui/conftest.py).

- run a runbook from its generated form and watch the log reach the end;
- a server 422 lands next to its field;
- kill the WebSocket mid-stream: the log completes with no gap and no repeat;
- approve a plan (the `pending_plan` fixture must create one: see its docstring).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import shoot


def _run_from_form(page, count: int, pause: float) -> str:
    page.goto("/runbooks?q=ui-count")
    page.get_by_role("button", name="Execute Count lines (UI test)").click()
    dialog = page.locator("#run-dialog")
    dialog.get_by_label("Count").fill(str(count))
    dialog.get_by_label("Pause").fill(str(pause))
    dialog.get_by_role("textbox", name="Tags item 1", exact=True).fill("alpha")
    dialog.get_by_role("button", name="Add tags item").click()
    dialog.get_by_role("textbox", name="Tags item 2", exact=True).fill("beta")
    dialog.get_by_label("Token").fill("very-secret-token")
    shoot(page, "runbook-form-1440")
    dialog.get_by_role("button", name="Execute").click()
    expect(page).to_have_url(re.compile(r"/jobs/[^/]+$"))
    return page.url.rsplit("/", 1)[1]


def _shown_counters(page) -> list[int]:
    return page.evaluate("Jarvis.jobView.counters")


def _all_counters(page, job_id) -> list[int]:
    res = page.request.get(f"/api/jobs/{job_id}/events?after=0&limit=10000")
    assert res.ok, res.text()
    return [e["counter"] for e in res.json()["events"]]


def test_run_a_runbook_from_its_form_and_watch_the_log_end(jobs_page):
    page = jobs_page
    job_id = _run_from_form(page, count=20, pause=0.02)
    expect(page.locator("#job-log")).to_contain_text("line 20", timeout=120_000)
    expect(page.locator("#job-log")).to_have_attribute("data-state", "ended", timeout=120_000)
    expect(page.locator("#job-status .badge")).to_have_text("success")
    assert _shown_counters(page) == _all_counters(page, job_id)
    expect(page.locator("#job-input")).not_to_contain_text("very-secret-token")
    expect(page.locator("#job-log")).not_to_contain_text("very-secret-token")
    shoot(page, "job-1440")


def test_server_validation_lands_next_to_the_field(jobs_page):
    page = jobs_page
    page.goto("/runbooks?q=ui-count")
    page.get_by_role("button", name="Execute Count lines (UI test)").click()
    dialog = page.locator("#run-dialog")
    dialog.get_by_role("textbox", name="Tags item 1", exact=True).fill("only-one")   # minItems 2: only the server knows
    dialog.get_by_role("button", name="Execute").click()
    expect(dialog.locator('.field[data-field="tags"] .error')).not_to_be_empty()
    expect(page).to_have_url(re.compile(r"/runbooks"))


def test_killed_websocket_resumes_without_gap_or_repeat(jobs_page):
    page = jobs_page
    job_id = _run_from_form(page, count=80, pause=0.05)
    expect(page.locator("#job-log .line").nth(5)).to_be_attached(timeout=120_000)
    page.evaluate("Jarvis.jobView.log.socket && Jarvis.jobView.log.socket.close()")   # drop it mid-stream
    expect(page.locator("#job-log")).to_have_attribute("data-state", "ended", timeout=180_000)
    shown = _shown_counters(page)
    assert len(shown) == len(set(shown)), "a line was shown twice"
    assert shown == _all_counters(page, job_id), "a line is missing"
    assert page.evaluate("Jarvis.jobView.log.reconnects") >= 1
    expect(page.locator("#job-log")).to_contain_text("line 80")


@pytest.fixture
def pending_plan(jobs_runtime, tmp_path, filestore_registered):
    """A pending plan with two changes: a source over a real git repository whose manifest (manual
    policy) asks for two stacks the live target (the file-store test reconciler) does not have."""
    from sqlalchemy import select

    from controller.store.models import PlanRow
    from tests.gitops.conftest import World

    world = World(jobs_runtime, tmp_path)
    world.push({"web": {}, "api": {}})
    world.sync()
    with jobs_runtime.db.session() as s:
        row = s.scalar(select(PlanRow).where(PlanRow.source_id == world.source_id, PlanRow.status == "pending"))
        return {"id": row.id, "changes": row.changes}


def test_approve_a_plan_showing_exactly_its_changes(jobs_page, pending_plan):
    page = jobs_page
    page.goto("/gitops#plans")
    plan = page.locator(f"#plan-{pending_plan['id']}")
    plan.get_by_role("button", name="Show the changes").click()
    expect(plan.locator(".change")).to_have_count(len(pending_plan["changes"]))
    shoot(page, "gitops-plan-1440")
    plan.get_by_role("button", name="Approve these changes").click()
    expect(plan).to_contain_text("Approved.")
    status = page.request.get(f"/api/plans/{pending_plan['id']}").json()["status"]
    assert status in ("approved", "applied")


def test_an_apply_job_names_its_plan_and_is_re_planned_not_rerun(jobs_page, pending_plan, jobs_runtime):
    """An apply job's page says which plan and revision it applies and links to it; "Rerun" is not
    offered (re-applying a stale plan could undo later changes), "Plan again" syncs the source."""
    from tests.support.jobs import wait_job

    page = jobs_page
    csrf = {"X-CSRF-Token": next(c["value"] for c in page.context.cookies() if c["name"] == "jarvis_csrf")}
    plan = page.request.get(f"/api/plans/{pending_plan['id']}").json()
    res = page.request.post(f"/api/plans/{plan['id']}/approve", headers=csrf, data={"checksum": plan["checksum"]})
    assert res.ok, res.text()
    job_id = res.json()["job_id"]
    wait_job(jobs_runtime, job_id)
    page.goto(f"/jobs/{job_id}")
    link = page.locator("#job-plan")
    expect(link).to_contain_text(f"plan {plan['id']}")
    expect(link).to_contain_text(plan["revision"][:10])
    expect(link).to_contain_text(plan["manifest"])
    expect(page.locator("#job-rerun")).to_be_hidden()
    expect(page.locator("#job-replan")).to_be_visible()
    rerun = page.request.post(f"/api/jobs/{job_id}/rerun", headers=csrf, data={})
    assert rerun.status == 409 and "plan again" in rerun.json()["detail"], rerun.text()
    shoot(page, "job-apply-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "job-apply-390")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.locator("#job-replan").click()
    expect(page.locator("#job-replan-note")).to_be_visible()
    link.get_by_role("link").click()
    expect(page.locator(f"#plan-{plan['id']}")).to_be_visible()
    expect(page.locator(f"#plan-{plan['id']} .change")).to_have_count(len(pending_plan["changes"]))
    shoot(page, "gitops-linked-plan-1440")
