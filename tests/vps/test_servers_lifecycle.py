"""A server's life through plan → approve → apply against the Hetzner emulator's real servers
(issue 14): created and reached over SSH (host key pinned), resized (power off, new type, power on:
same server, address and host key), replaced for a new location (the old machine deleted, a new one
created and pinned anew; high risk, held even under `auto`), and pruned: deleted, while a protected
server is held by the plan and refused by the apply, and stays."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from controller import connections
from controller.gitops.loop import sync_source
from controller.store.models import JobStep, Source
from reconcilers.vps import hostkeys
from tests.gitops.conftest import git_rt  # noqa: F401  (the runtime with a worker)
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job
from tests.vps.test_hetzner_emulator import client
from tests.vps.test_servers_gitops import _headers

pytestmark = pytest.mark.docker


def _manifest(conn: str, *, policy: str = "manual", prune: bool = False, app: dict | None = None,
              keep: bool = True) -> str:
    servers = []
    if app is not None:
        servers.append(f"  - {{name: app-1, type: {app['type']}, image: debian-12, location: {app['location']}}}")
    if keep:
        servers.append("  - {name: keep-1, type: cx22, image: debian-12, location: fsn1, protected: true}")
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: fleet
        policy: {{sync: {policy}, prune: {str(prune).lower()}}}
        connections: {{servers: {conn}}}
        """) + ("servers:\n" + "\n".join(servers) + "\n" if servers else "servers: []\n")


def _steps(rt, job_id: int) -> dict[str, tuple[str, str, str]]:
    """{resource: (status, logs, step name)} of a job's steps."""
    with rt.db.session() as db:
        return {s.resource: (s.status, s.logs, s.step_name) for s in db.query(JobStep).filter_by(job_id=job_id)}


@pytest.mark.timeout(600)
def test_create_resize_replace_and_prune_through_approved_plans(git_rt, hetzner, keypair, tmp_path):  # noqa: F811
    rt = git_rt
    hc = client(hetzner)
    repo = tmp_path / "repo"
    make_repo(repo)
    conn = f"hz-{uuid.uuid4().hex[:6]}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=conn, type="hetzner", environment="test",
                           config={"base_url": hetzner.base_url},
                           credentials={"api_token": "hetzner-test-token",
                                        "private_key": keypair.private_path.read_text()}, created_by="test")
        src = Source(name=f"life-{uuid.uuid4().hex[:6]}", url=str(repo), branch="main", paths=["**/orch.yaml"],
                     poll_interval=60)
        db.add(src)
        db.flush()
        source_id = src.id

    with TestClient(create_app(rt, background=False)) as c:
        viewer, operator = _headers(rt, "viewer"), _headers(rt, "operator")

        def planned(message: str, text: str) -> dict:
            commit(repo, {"fleet/orch.yaml": text}, message)
            res = sync_source(rt, source_id, "test")
            assert res.error == "" and len(res.plan_ids) == 1 and not res.job_ids, res
            return c.get(f"/api/plans/{res.plan_ids[0]}", headers=viewer).json()

        def approved(plan: dict):
            r = c.post(f"/api/plans/{plan['id']}/approve", headers=operator, json={"checksum": plan["checksum"]})
            assert r.status_code == 202, r.text
            return wait_job(rt, r.json()["job_id"], timeout=240)

        # created, reached over SSH, pinned
        plan = planned("two servers", _manifest(conn, app={"type": "cx22", "location": "fsn1"}))
        assert sorted((ch["resource"], ch["action"]) for ch in plan["changes"]) == [
            ("server/app-1", "create"), ("server/keep-1", "create")]
        job = approved(plan)
        assert job.status == "success", (job.reason, _steps(rt, job.id))
        app = hc.servers.get_by_name("app-1")
        ip, pin, container = app.public_net.ipv4.ip, app.labels[hostkeys.LABEL], hetzner.containers[app.id]
        assert pin == hostkeys.scan(ip).pin
        assert hc.servers.get_by_name("keep-1").protection["delete"] is True

        # resized: medium risk, the same server, address and host key
        plan = planned("resize", _manifest(conn, app={"type": "cx32", "location": "fsn1"}))
        (change,) = plan["changes"]
        assert (change["resource"], change["action"], change["risk"]) == ("server/app-1", "update", "medium")
        assert change["reason"].startswith("resize") and not plan["held_reasons"]
        job = approved(plan)
        assert job.status == "success", (job.reason, _steps(rt, job.id))
        resized = hc.servers.get_by_id(app.id)
        assert (resized.server_type.name, resized.status, resized.public_net.ipv4.ip) == ("cx32", "running", ip)
        assert resized.labels[hostkeys.LABEL] == pin and hetzner.containers[app.id] == container
        assert [a["command"] for a in hetzner.actions.values() if a["resources"][0]["id"] == app.id][-3:] == [
            "stop_server", "change_server_type", "start_server"]

        # replaced for a new location: held even under `auto`, then a new server and host key
        commit(repo, {"fleet/orch.yaml": _manifest(conn, policy="auto", app={"type": "cx32", "location": "nbg1"})},
               "move app-1")
        res = sync_source(rt, source_id, "test")
        assert len(res.plan_ids) == 1 and not res.job_ids, res          # not applied by `auto`
        plan = c.get(f"/api/plans/{res.plan_ids[0]}", headers=viewer).json()
        (change,) = plan["changes"]
        assert (change["action"], change["risk"]) == ("update", "high") and change["reason"].startswith("replace")
        assert plan["status"] == "held" and any("replace" in r for r in plan["held_reasons"]), plan
        job = approved(plan)
        assert job.status == "success", (job.reason, _steps(rt, job.id))
        moved = hc.servers.get_by_name("app-1")
        assert moved.id != app.id and moved.location.name == "nbg1" and moved.server_type.name == "cx32"
        assert not hetzner.machines.running(container) and app.id not in hetzner.servers
        assert moved.labels[hostkeys.LABEL] == hostkeys.scan(moved.public_net.ipv4.ip).pin != pin
        assert _steps(rt, job.id)["server/app-1"][2] == "server app-1: replace (delete, create)"

        # pruned: app-1 deleted; keep-1 is protected: held by the plan, refused by the apply, kept
        plan = planned("prune", _manifest(conn, prune=True, app=None, keep=False))
        assert sorted((ch["resource"], ch["action"], ch["protected"]) for ch in plan["changes"]) == [
            ("server/app-1", "delete", False), ("server/keep-1", "delete", True)]
        assert plan["status"] == "held" and "server/keep-1 is protected" in plan["held_reasons"]
        job = approved(plan)
        steps = _steps(rt, job.id)
        assert steps["server/app-1"][0] == "success", steps
        assert steps["server/keep-1"][0] == "error" and "protected" in steps["server/keep-1"][1], steps
        assert hc.servers.get_by_name("app-1") is None
        assert hc.servers.get_by_name("keep-1") is not None
