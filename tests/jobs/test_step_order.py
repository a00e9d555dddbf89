"""Steps declare their order (wave, depends_on) and hand outputs to later steps: run by the real worker
and ansible-runner, on test playbooks. "Create the server, then harden it, then publish its DNS record"
with the server's address feeding the record is the case the order exists for."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from controller.errors import Invalid
from controller.jobs import ordering
from controller.jobs.service import JobsService
from controller.jobs.submit import JobRequest
from controller.store.models import JobStep
from tests.jobs.conftest import wait_job

STEP = str(Path(__file__).parent / "step_playbooks" / "step.yml")


def step(name, trail, wave=0, depends_on=(), **vars_):
    return {"name": name, "playbook": STEP, "resource": name, "wave": wave, "depends_on": list(depends_on),
            "continue_on_error": True, "vars": {"trail": str(trail), "label": name, **vars_}}


def run(rt, steps):
    with rt.db.session() as db:
        job = JobsService.of(rt).enqueue(db, JobRequest(runbook="test:ordered", title="ordered steps", steps=steps))
        job_id = job.id
    job = wait_job(rt, job_id)
    with rt.db.session() as db:
        rows = {r.step_name: (r.status, (r.result or {}).get("error", ""))
                for r in db.scalars(select(JobStep).where(JobStep.job_id == job_id))}
    return job, rows


def test_waves_and_dependencies_order_the_run_and_an_output_feeds_a_later_step(jobs_client, jobs_rt, tmp_path):
    trail, record = tmp_path / "trail", tmp_path / "record"
    # listed backwards on purpose: the declared order, not the list, decides
    steps = [
        step("publish dns", trail, wave=2, depends_on=["harden server"],
             dest=str(record), content=ordering.output_ref("create server", "ipv4")),
        step("harden server", trail, wave=1, depends_on=["create server"]),
        step("create server", trail, wave=0, publish={"ipv4": "203.0.113.7", "id": 42}),
    ]
    job, rows = run(jobs_rt, steps)
    assert job.status == "success", job.reason
    assert trail.read_text().split() == ["create", "server", "harden", "server", "publish", "dns"]
    assert record.read_text() == "203.0.113.7"
    assert job.output_json["outputs"]["create server"] == {"ipv4": "203.0.113.7", "id": 42}
    assert {n: s for n, (s, _) in rows.items()} == {"create server": "success", "harden server": "success",
                                                   "publish dns": "success"}


def test_a_failed_step_skips_what_depends_on_it_and_nothing_else(jobs_client, jobs_rt, tmp_path, make_user):
    trail, record = tmp_path / "trail", tmp_path / "record"
    steps = [
        step("create server", trail, wave=0, fail=True, publish={"ipv4": "203.0.113.8"}),
        step("harden server", trail, wave=1, depends_on=["create server"]),
        step("publish dns", trail, wave=2, dest=str(record), content=ordering.output_ref("create server", "ipv4")),
        step("unrelated", trail, wave=1),
    ]
    job, rows = run(jobs_rt, steps)
    assert job.status == "error"
    assert "harden server: skipped: create server did not succeed (error)" in job.reason
    assert trail.read_text().split() == ["create", "server", "unrelated"]
    assert not record.exists()
    assert rows["harden server"] == ("skipped", "skipped: create server did not succeed (error)")
    assert rows["publish dns"][0] == "skipped" and rows["unrelated"][0] == "success"
    assert "create server" not in job.output_json["outputs"]
    # the job's page says why a step did not run
    shown = jobs_client.get(f"/api/jobs/{job.id}", headers=make_user("viewer").headers).json()
    assert {s["step_name"]: s["error"] for s in shown["steps"] if s["status"] == "skipped"} == {
        "harden server": "skipped: create server did not succeed (error)",
        "publish dns": "skipped: create server did not succeed (error)"}


def test_a_reference_to_an_output_never_published_names_what_was(jobs_client, jobs_rt, tmp_path):
    trail = tmp_path / "trail"
    steps = [step("create server", trail, publish={"ipv4": "203.0.113.9"}),
             step("publish dns", trail, wave=1, dest=str(tmp_path / "r"),
                  content=ordering.output_ref("create server", "ipv6"))]
    job, rows = run(jobs_rt, steps)
    assert job.status == "error"
    assert rows["publish dns"] == ("skipped", "not run: step 'create server' published no output 'ipv6' "
                                              "(it published: ipv4)")
    assert not (tmp_path / "r").exists()


def test_an_order_that_cannot_be_honoured_is_refused_before_a_job_exists(jobs_rt, tmp_path):
    bad = [
        ([step("a", tmp_path, depends_on=["nope"])], "depends on 'nope', which is not a step of this job"),
        ([step("a", tmp_path, wave=0, depends_on=["b"]), step("b", tmp_path, wave=1)], "runs in a later wave (1)"),
        ([step("a", tmp_path, depends_on=["b"]), step("b", tmp_path, depends_on=["a"])], "cycle: a, b"),
        ([step("a", tmp_path), step("a", tmp_path), step("c", tmp_path, depends_on=["a"])], "several steps have"),
    ]
    for steps, words in bad:
        with jobs_rt.db.session() as db, pytest.raises(Invalid) as err:
            JobsService.of(jobs_rt).enqueue(db, JobRequest(runbook="test:bad", title="bad", steps=steps))
        assert words in str(err.value), err.value


def test_run_order_is_by_wave_then_as_listed():
    steps = [{"name": "x", "wave": 1}, {"name": "y"}, {"name": "z", "wave": 1, "depends_on": ["w"]}, {"name": "w"}]
    assert [steps[i]["name"] for i in ordering.run_order(steps)] == ["y", "w", "x", "z"]
    # a dependency inside a wave runs first, whatever the listing
    steps = [{"name": "b", "depends_on": ["a"]}, {"name": "a"}]
    assert ordering.run_order(steps) == [1, 0]
    assert ordering.run_order([{"name": "only"}]) == [0]
