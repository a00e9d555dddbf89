"""A plan speaks the manifest's language: through the API, a Swarm plan made against the real engine shows
each field in orch.yaml terms and units (`services.web.update.delay: 10s`) next to the engine's field and
value (`UpdateConfig.Delay: 10000000000`), for a create and, read back from the engine, for an update."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.processes import jobs_service
from controller import connections
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import PlanRow, Source
from tests.conftest import make_settings
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job


def manifest(name: str, conn: str, svc: str, replicas: int, delay: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: {name}
        policy: {{sync: manual}}
        connections: {{swarm: {conn}}}
        services:
          {svc}:
            image: jarvis-test/sleep:1
            replicas: {replicas}
            env: {{MODE: terms}}
            update: {{delay: {delay}, order: start-first}}
            resources: {{limits: {{memory: 64M, cpus: 0.25}}}}
        """)


@pytest.fixture
def world(pg_url, tmp_path, swarm_engine):
    suffix = uuid.uuid4().hex[:6]
    w = {"conn": f"swarm-terms-{suffix}", "svc": f"terms{suffix}", "source": f"terms-src-{suffix}",
         "repo": tmp_path / "repo"}
    rt = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    jobs_service(rt).start_worker()
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=w["conn"], type="docker", environment="test",
                           config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="t")
    make_repo(w["repo"])
    commit(w["repo"], {"app/orch.yaml": manifest(f"m{suffix}", w["conn"], w["svc"], 1, "10s")}, "first")
    with rt.db.session() as db:
        src = Source(name=w["source"], url=str(w["repo"]), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        w["source_id"] = src.id
    w["rt"] = rt
    yield w
    for s in swarm_engine.api.services(filters={"name": w["svc"]}):
        swarm_engine.api.remove_service(s["ID"])
    with rt.db.session() as db:
        db.delete(connections.by_name(db, w["conn"]))
        for src in db.scalars(select(Source).where(Source.name == w["source"])):
            db.delete(src)
    rt.close()


def _pending(rt, source_id: int) -> int:
    with rt.db.session() as db:
        return db.scalar(select(PlanRow.id).where(PlanRow.source_id == source_id, PlanRow.status == "pending"))


def test_create_and_update_plans_in_orch_yaml_terms(world, make_user):
    from api.app import create_app

    rt, svc = world["rt"], world["svc"]
    viewer, operator = make_user("viewer"), make_user("operator")
    assert sync_source(rt, world["source_id"], "test").error == ""
    with TestClient(create_app(rt, background=False)) as client:
        plan = client.get(f"/api/plans/{_pending(rt, world['source_id'])}", headers=viewer.headers).json()
        (change,) = plan["changes"]
        assert (change["resource"], change["action"]) == (f"service/{svc}", "create")
        rows = {f["manifest_path"]: f for f in change["fields"]}
        p = f"services.{svc}"
        assert rows[f"{p}.update.delay"]["manifest_after"] == "10s"
        assert (rows[f"{p}.update.delay"]["path"], rows[f"{p}.update.delay"]["after"]) == \
            ("UpdateConfig.Delay", 10_000_000_000)
        assert rows[f"{p}.update.order"]["manifest_after"] == "start-first"
        assert rows[f"{p}.resources.limits.memory"]["manifest_after"] == "64M"
        assert rows[f"{p}.resources.limits.cpus"]["manifest_after"] == 0.25
        assert rows[f"{p}.replicas"]["manifest_after"] == 1
        assert rows[f"{p}.env.MODE"]["manifest_after"] == "terms"
        assert rows[f"{p}.image"]["manifest_after"] == "jarvis-test/sleep:1"
        # nothing in orch.yaml terms is a nanosecond count; Jarvis's own labels are not orch.yaml's
        durations = [f for k, f in rows.items() if k.split(".")[-1] in ("delay", "monitor", "window")]
        assert durations and all(isinstance(f["manifest_after"], str) for f in durations)
        assert not [k for k in rows if "jarvis." in k]
        # the engine spec, on demand
        assert change["desired"]["UpdateConfig"]["Delay"] == 10_000_000_000

        res = client.post(f"/api/plans/{plan['id']}/approve", headers=operator.headers,
                          json={"checksum": plan["checksum"]})
        assert res.status_code == 202, res.text
        assert wait_job(rt, res.json()["job_id"], timeout=240).status == "success"

        # the live service, read back from the engine, against a new revision
        commit(world["repo"], {"app/orch.yaml": manifest(plan["manifest_name"], world["conn"], svc, 2, "20s")},
               "more")
        assert sync_source(rt, world["source_id"], "test").error == ""
        plan = client.get(f"/api/plans/{_pending(rt, world['source_id'])}", headers=viewer.headers).json()
        (change,) = plan["changes"]
        assert change["action"] == "update"
        terms = {f["manifest_path"]: (f["manifest_before"], f["manifest_after"]) for f in change["fields"]}
        assert terms == {f"{p}.replicas": (1, 2), f"{p}.update.delay": ("10s", "20s")}, change["fields"]
        engine = {f["path"]: (f["before"], f["after"]) for f in change["fields"]}
        assert engine == {"Mode.Replicated.Replicas": (1, 2),
                          "UpdateConfig.Delay": (10_000_000_000, 20_000_000_000)}

        drift = client.get(f"/api/drift?source_id={world['source_id']}", headers=viewer.headers).json()
        (item,) = [i for i in drift["items"] if i["resource"] == f"service/{svc}"]
        assert {f["manifest_path"]: f["manifest_after"] for f in item["fields"]} == \
            {f"{p}.replicas": 2, f"{p}.update.delay": "20s"}
