"""Swarm through the whole GitOps path: a git push, an auto plan, the worker's apply job on the real
engine, the verifying observation, then an image change; a Docker secret's value is never stored plain."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from sqlalchemy import select, text

from api.processes import jobs_service
from controller import connections
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import PlanRow, Source
from tests.conftest import make_settings
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job

SECRET_VALUE = "swarm-secret-value-never-stored-4711"


def manifest(name: str, image: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: {name}
        policy: {{sync: auto, prune: true}}
        connections: {{swarm: swarm-e2e}}
        services:
          web:
            image: {image}
            replicas: 1
            env: {{MODE: e2e}}
            secrets: [token]
        secrets:
          token: {{from: "env:E2E_SWARM_SECRET"}}
        """)


@pytest.fixture
def rt(pg_url, tmp_path, swarm_engine, monkeypatch):
    monkeypatch.setenv("E2E_SWARM_SECRET", SECRET_VALUE)
    runtime = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    jobs = jobs_service(runtime)
    jobs.start_worker()
    with runtime.db.session() as db:
        connections.create(db, runtime.secrets, name="swarm-e2e", type="docker", environment="test",
                           config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="t")
    yield runtime
    with runtime.db.session() as db:
        db.delete(connections.by_name(db, "swarm-e2e"))
        for src in db.scalars(select(Source).where(Source.name == "test-src")):
            db.delete(src)
    runtime.close()


def test_swarm_push_apply_verify_update(rt, tmp_path, swarm_engine):
    name = f"e2e{uuid.uuid4().hex[:6]}"
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, {"app/orch.yaml": manifest(name, "jarvis-test/sleep:1")}, "first")
    with rt.db.session() as db:
        src = Source(name="test-src", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id

    res = sync_source(rt, sid, "test")
    assert res.error == "" and len(res.job_ids) == 1, res
    job = wait_job(rt, res.job_ids[0], timeout=240)
    assert job.status == "success", job.reason
    (svc,) = [s for s in swarm_engine.api.services() if s["Spec"]["Name"] == "web"]
    assert svc["Spec"]["Labels"]["jarvis.managed"] == "true"
    assert svc["Spec"]["Labels"]["jarvis.manifest"] == name
    secrets = [s for s in swarm_engine.api.secrets() if (s["Spec"].get("Labels") or {}).get("jarvis.source") == "test-src"]
    assert secrets and secrets[0]["Spec"]["Name"].startswith("token_")

    res = sync_source(rt, sid, "verify")
    assert not res.plan_ids and not res.job_ids
    with rt.db.session() as db:
        assert db.scalar(select(PlanRow.converged).where(PlanRow.id == job.plan_id)) is True
        # the secret's value is in no table in plain text: plans, jobs, steps, events
        for table in ("plans", "jobs", "job_steps", "job_events", "manifests"):
            rows = db.execute(text(f"SELECT * FROM {table}")).all()
            assert SECRET_VALUE not in repr(rows), table

    commit(repo, {"app/orch.yaml": manifest(name, "jarvis-test/sleep:2")}, "new image")
    res = sync_source(rt, sid, "webhook")
    assert len(res.job_ids) == 1
    assert wait_job(rt, res.job_ids[0], timeout=240).status == "success"
    (svc,) = [s for s in swarm_engine.api.services() if s["Spec"]["Name"] == "web"]
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].startswith("jarvis-test/sleep:2")


def test_a_service_that_cannot_converge_opens_an_incident(rt, tmp_path, swarm_engine):
    from controller.store.models import Incident

    name = f"e2e{uuid.uuid4().hex[:6]}"
    # the same manifest with a second service whose image exits with an error
    text = manifest(name, "jarvis-test/sleep:1").replace(
        "secrets:\n  token:", "  broken:\n    image: jarvis-test/fail:1\n    replicas: 1\nsecrets:\n  token:", 1)
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, {"app/orch.yaml": text}, "with a broken service")
    with rt.db.session() as db:
        src = Source(name="test-src", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id
    res = sync_source(rt, sid, "test")
    assert res.error == "" and res.job_ids, res
    job = wait_job(rt, res.job_ids[0], timeout=300)
    assert job.status == "error"
    with rt.db.session() as db:
        (inc,) = db.scalars(select(Incident).where(Incident.job_id == job.id)).all()
        assert inc.resource == "service/broken" and inc.detail["errors"]
    # the healthy service of the same manifest still runs
    assert [s for s in swarm_engine.api.services() if s["Spec"]["Name"] == "web"]
    # the next observation shows each service's health in the drift view, and the dashboard counts errors
    from fastapi.testclient import TestClient

    from api.app import create_app
    from controller.accounts import users
    from tests.support.tokens import bearer_token

    sync_source(rt, sid, "verify")
    with rt.db.session() as db:
        u = users.create(db, f"v{uuid.uuid4().hex[:6]}@example.test", "viewer-password-1", "viewer")
        uid = u.id
    token = bearer_token(rt, uid, "viewer", 5)
    with TestClient(create_app(rt, background=False)) as c:
        h = {"Authorization": f"Bearer {token}"}
        items = {i["resource"]: i for i in c.get("/api/drift", params={"source_id": sid}, headers=h).json()["items"]}
        assert items["service/broken"]["health"]["errors"]
        swarm = next(k for k in c.get("/api/dashboard", headers=h).json()["kinds"] if k["kind"] == "swarm")
        (target,) = [t for t in swarm["targets"] if t["target"] == "swarm:swarm-e2e"]
        assert target["counts"]["containers with errors"] >= 1 and target["problems"] >= 1 and target["health"] == "degraded"


def test_one_engine_read_per_sync_is_shared_by_every_manifest_on_it(rt, tmp_path, swarm_engine):
    names = [f"e2e{uuid.uuid4().hex[:6]}" for _ in range(3)]
    repo = tmp_path / "repo"
    make_repo(repo)
    texts = {f"{n}/orch.yaml": manifest(n, "jarvis-test/sleep:1").replace("sync: auto", "sync: detect")
             .replace("  web:", f"  {n}-web:") for n in names}
    commit(repo, texts, "three manifests on one engine")
    with rt.db.session() as db:
        src = Source(name="test-src", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id
    res = sync_source(rt, sid, "test")
    assert res.error == "" and len(res.planned) == 3 and len(res.plan_ids) == 3, res
    assert res.reads == {"swarm:swarm-e2e": 1}
    with rt.db.session() as db:
        creates = {c["resource"] for p in db.scalars(select(PlanRow).where(PlanRow.id.in_(res.plan_ids)))
                   for c in p.changes if c["action"] == "create"}
    assert {f"service/{n}-web" for n in names} <= creates
