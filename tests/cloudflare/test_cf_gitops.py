"""Cloudflare DNS through the whole GitOps path: a git push, a plan, the worker's apply job against
the emulator (token from the encrypted connection), the verifying observation, and healing drift."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import select

from api.processes import jobs_service
from controller import connections
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import DriftItem, JobEvent, PlanRow, Source
from tests.cloudflare.conftest import TOKEN
from tests.conftest import make_settings
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job

MANIFEST = textwrap.dedent("""\
    apiVersion: jarvis/v1
    name: site
    policy: {sync: auto, prune: true}
    connections: {dns: cf-e2e}
    dns:
      zone: example.com
      records:
        - {name: www, type: A, content: 192.0.2.10}
        - {name: api, type: CNAME, content: www.example.com, proxied: true}
        - {name: "@", type: TXT, content: "v=spf1 -all"}
        - {name: "@", type: MX, content: mail.example.com, priority: 10}
    """)


@pytest.fixture
def rt(pg_url, tmp_path):
    runtime = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    jobs = jobs_service(runtime)
    jobs.start_worker()
    yield runtime
    runtime.close()


def test_push_plan_apply_verify_and_heal(rt, emulator, tmp_path):
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name="cf-e2e", type="cloudflare", environment="prod",
                           config={"base_url": emulator.url}, credentials={"api_token": TOKEN}, created_by="t")
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, {"dns/orch.yaml": MANIFEST}, "dns")
    with rt.db.session() as db:
        src = Source(name=f"cf-site-{tmp_path.name[-8:]}", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id

    res = sync_source(rt, sid, "test")
    assert res.error == "" and len(res.job_ids) == 1
    job = wait_job(rt, res.job_ids[0])
    assert job.status == "success", job.reason
    names = {(r["type"], r["name"]) for r in emulator.zone_records("example.com")}
    assert {("A", "www.example.com"), ("CNAME", "api.example.com"), ("TXT", "example.com"),
            ("MX", "example.com")} <= names
    with rt.db.session() as s:
        events = " ".join(e.stdout + str(e.data) for e in s.scalars(select(JobEvent).where(JobEvent.job_id == job.id)))
    assert TOKEN not in events

    res = sync_source(rt, sid, "verify")
    assert not res.plan_ids
    with rt.db.session() as s:
        plan = s.get(PlanRow, s.scalar(select(PlanRow.id).where(PlanRow.source_id == sid)))
        assert plan.status == "applied" and plan.converged is True
        states = {d.status for d in s.scalars(select(DriftItem).where(DriftItem.source_id == sid))}
    assert states == {"in_sync"}

    # someone changes the A record by hand in Cloudflare: the next observation heals it
    (rec,) = [r for r in emulator.zone_records("example.com") if r["name"] == "www.example.com"]
    emulator.update(emulator.zone_id("example.com"), rec["id"], {"content": "198.51.100.7"}, merge=True)
    res = sync_source(rt, sid, "drift")
    assert len(res.job_ids) == 1 and wait_job(rt, res.job_ids[0]).status == "success"
    (rec,) = [r for r in emulator.zone_records("example.com") if r["name"] == "www.example.com"]
    assert rec["content"] == "192.0.2.10"
