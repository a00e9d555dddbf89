"""`from: connection:NAME/KEY`: a Swarm secret takes a stored connection's decrypted credential.

Through the whole path on the real engine: the reference is checked when the manifest is read (an
unknown connection or key is an error at its file:line:column, and nothing is planned from that text),
the value is resolved by the registry's resolver, sealed with the plan, delivered to the service's
task, and never appears in a plan, a job's output, the drift view or an API answer.
"""

from __future__ import annotations

import textwrap
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from api.app import create_app
from api.processes import jobs_service
from controller import connections
from controller.accounts import users
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import DriftItem, Source
from tests.conftest import make_settings
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job
from tests.support.tokens import bearer_token

TOKEN = "ghp_connection_ref_value_5521_never_shown"


def manifest(name: str, svc: str, dock: str, ref: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: {name}
        policy: {{sync: auto, prune: true}}
        connections: {{swarm: {dock}}}
        services:
          {svc}:
            image: jarvis-test/sleep:1
            secrets: [api_token]
        secrets:
          api_token: {{from: "{ref}"}}
        """)


@pytest.fixture
def world(pg_url, tmp_path, swarm_engine):
    rt = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    jobs_service(rt).start_worker()
    suffix = uuid.uuid4().hex[:6]
    dock, gh = f"dock-ref-{suffix}", f"gh-ref-{suffix}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=dock, type="docker", environment="test",
                           config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="t")
        connections.create(db, rt.secrets, name=gh, type="github", environment="test", config={},
                           credentials={"token": TOKEN}, created_by="t")
        src = Source(name="test-src", url=str(tmp_path / "repo"), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id
    make_repo(tmp_path / "repo")
    yield rt, tmp_path / "repo", sid, dock, gh, suffix
    with rt.db.session() as db:
        for name in (dock, gh):
            db.delete(connections.by_name(db, name))
        db.delete(db.get(Source, sid))
    rt.close()


def _task_file(engine, service: str, path: str, timeout: float = 120) -> str:
    """The file's content inside the service's running container (read with the engine's exec)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in engine.containers.list(filters={"label": f"com.docker.swarm.service.name={service}"}):
            code, out = c.exec_run(["cat", path])
            if code == 0:
                return out.decode()
        time.sleep(0.5)
    raise AssertionError(f"no running task of {service} within {timeout}s")


def test_a_secret_takes_a_connection_credential(world, swarm_engine):
    rt, repo, sid, dock, gh, suffix = world
    name, svc = f"ref{suffix}", f"ref{suffix}"
    commit(repo, {"app/orch.yaml": manifest(name, svc, dock, f"connection:{gh}/token")}, "first")
    res = sync_source(rt, sid, "test")
    assert res.error == "" and len(res.job_ids) == 1, res
    job = wait_job(rt, res.job_ids[0], timeout=240)
    assert job.status == "success", job.reason
    assert _task_file(swarm_engine, svc, "/run/secrets/api_token") == TOKEN
    (secret,) = [s for s in swarm_engine.api.secrets() if s["Spec"]["Labels"].get("jarvis.manifest") == name]
    assert secret["Spec"]["Labels"]["jarvis.ref"] == f"connection:{gh}/token"   # the reference, not the value

    # the value is nowhere Jarvis stores or shows text: plans, jobs and their output, drift, manifests
    with rt.db.session() as db:
        for table in ("plans", "jobs", "job_steps", "job_events", "drift_items", "manifests", "target_status"):
            assert TOKEN not in repr(db.execute(text(f"SELECT * FROM {table}")).all()), table
        u = users.create(db, f"v{suffix}@example.test", "viewer-password-1", "viewer")
        uid = u.id
    token = bearer_token(rt, uid, "viewer")
    with TestClient(create_app(rt, background=False)) as c:
        h = {"Authorization": f"Bearer {token}"}
        for url in (f"/api/plans?source_id={sid}", f"/api/plans/{job.plan_id}", f"/api/drift?source_id={sid}",
                    f"/api/jobs/{job.id}", f"/api/jobs/{job.id}/events", "/api/dashboard"):
            r = c.get(url, headers=h)
            assert r.status_code == 200 and TOKEN not in r.text, url


def test_an_unknown_connection_or_key_is_an_error_at_its_line(world, swarm_engine):
    rt, repo, sid, dock, gh, suffix = world
    name, svc = f"ref{suffix}", f"ref{suffix}"
    for ref, expect in ((f"connection:{gh}x/token", f"unknown connection '{gh}x'"),
                        (f"connection:{gh}/tokn", f"connection '{gh}' has no credential 'tokn'")):
        commit(repo, {"app/orch.yaml": manifest(name, svc, dock, ref)}, "a bad reference")
        res = sync_source(rt, sid, "test")
        assert not res.plan_ids and not res.job_ids
        with rt.db.session() as db:
            (item,) = db.scalars(select(DriftItem).where(DriftItem.source_id == sid)).all()
        # secrets.api_token.from is on line 10, its value at column 21
        assert f"app/orch.yaml:10:21: secrets.api_token: {expect}" in item.error, item.error
        assert item.status == "error"
    assert not [s for s in swarm_engine.api.services() if s["Spec"]["Name"] == svc]
