"""Portainer stacks through the whole GitOps path: a commit, a manual plan, approval, the worker's
apply job (ansible-runner) against the emulator and the real Swarm, a no-op re-sync that writes
nothing, and a stack edited by hand in Portainer showing as drift."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import select

from api.processes import jobs_service
from controller import connections
from controller.gitops import decisions
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import DriftItem, JobEvent, PlanRow, Source
from tests.conftest import make_settings
from tests.portainer.conftest import PASSWORD, USER, services
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job

COMPOSE = "services:\n  web:\n    image: jarvis-test/sleep:1\n    environment:\n      LEVEL: ${LEVEL}\n"


def manifest(conn: str, names: list[str]) -> str:
    stacks = "\n".join(f"  - {{name: {n}, endpoint: prod, compose: stacks/{n}.yml, env: {{LEVEL: '1'}}}}"
                       for n in names)
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: ops
        policy: {{sync: manual, prune: true}}
        connections: {{stacks: {conn}}}
        stacks:
        """) + stacks + "\n"


@pytest.fixture
def rt(pg_url, tmp_path):
    runtime = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    jobs_service(runtime).start_worker()
    yield runtime
    runtime.close()


def pending(rt, sid):
    with rt.db.session() as s:
        return s.scalars(select(PlanRow).where(PlanRow.source_id == sid, PlanRow.status == "pending")).all()


def drift(rt, sid):
    with rt.db.session() as s:
        return {d.resource: (d.status, d.fields) for d in s.scalars(select(DriftItem).where(DriftItem.source_id == sid))}


def test_sync_plan_approve_apply_noop_and_drift(rt, emulator, tmp_path, name):
    conn = f"ptr-{name}"
    with rt.db.session() as db:     # username and password: the client logs in for a JWT
        connections.create(db, rt.secrets, name=conn, type="portainer", environment="prod",
                           config={"base_url": emulator.url}, credentials={"username": USER, "password": PASSWORD},
                           created_by="t")
    a, b = name + "a", name + "b"
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, {"ops/orch.yaml": manifest(conn, [a, b]), f"ops/stacks/{a}.yml": COMPOSE,
                  f"ops/stacks/{b}.yml": COMPOSE}, "two stacks")
    with rt.db.session() as db:
        src = Source(name=f"ptr-{name}", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id

    res = sync_source(rt, sid, "test")
    assert res.error == ""
    (row,) = pending(rt, sid)
    assert row.counts == {"create": 2, "update": 0, "delete": 0}
    assert emulator.writes() == 0 and services(a) == {}          # manual: nothing applied yet
    with rt.db.session() as s:
        job_id = decisions.approve(rt, s, row.id, row.checksum, "ops@example.test").id
    job = wait_job(rt, job_id)
    assert job.status == "success", job.reason
    assert {s["Name"] for s in emulator.stacks.values()} >= {a, b}
    env = services(a)[f"{a}_web"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert "LEVEL=1" in env                                       # Portainer interpolated the stack env
    with rt.db.session() as s:
        events = " ".join(e.stdout + str(e.data) for e in s.scalars(select(JobEvent).where(JobEvent.job_id == job.id)))
    assert PASSWORD not in events

    # a re-sync of the same revision: in sync, and not one write call
    writes = emulator.writes()
    res = sync_source(rt, sid, "verify")
    assert not res.plan_ids and emulator.writes() == writes
    assert {k: v[0] for k, v in drift(rt, sid).items()} == {f"stack/{a}": "in_sync", f"stack/{b}": "in_sync"}

    # a commit touching one stack's file plans that stack alone
    commit(repo, {f"ops/stacks/{b}.yml": COMPOSE.replace("sleep:1", "sleep:2")}, "b on sleep:2")
    sync_source(rt, sid, "test")
    (row,) = pending(rt, sid)
    assert [(c["action"], c["resource"]) for c in row.changes] == [("update", f"stack/{b}")]
    with rt.db.session() as s:
        assert wait_job(rt, decisions.approve(rt, s, row.id, row.checksum, "ops").id).status == "success"
    assert emulator.writes() == writes + 1
    assert services(b)[f"{b}_web"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "jarvis-test/sleep:2"

    # an operator edits stack a in Portainer's editor: drift, in compose terms
    (sa,) = [s for s in emulator.stacks.values() if s["Name"] == a]
    emulator.edit_stack_file(sa["Id"], emulator.files[sa["Id"]].replace("sleep:1", "sleep:2"))
    sync_source(rt, sid, "drift")
    status, fields = drift(rt, sid)[f"stack/{a}"]
    assert status in ("drifted", "pending")
    assert ("compose.services.web.image", "jarvis-test/sleep:2", "jarvis-test/sleep:1") in {
        (f["path"], f["before"], f["after"]) for f in fields}
    assert drift(rt, sid)[f"stack/{b}"][0] == "in_sync"
