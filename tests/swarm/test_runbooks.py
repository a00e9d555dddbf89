"""The Swarm runbooks through real ansible-runner against the real Swarm."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml
from sqlalchemy import select
from swarm_steps import apply_plan, plan_for, run_playbook

from api.processes import jobs_service
from controller import connections
from controller.contract import Scope
from controller.runtime import Runtime
from controller.store.models import JobArtifact
from reconcilers.swarm import SwarmReconciler
from tests.conftest import make_settings
from tests.support.jobs import wait_job

RUNBOOKS = Path(__file__).resolve().parents[2] / "reconcilers" / "swarm" / "runbooks"


def _run(name: str, connection, artifacts: Path | None = None, **input_):
    meta = yaml.safe_load((RUNBOOKS / name / "runbook.yaml").read_text())
    assert meta["name"] == name and meta["connection_type"] == "docker"
    assert set(meta["input"]["required"]) <= set(input_)
    extravars = {"input": input_, **({"jarvis_artifacts_dir": str(artifacts)} if artifacts else {})}
    r, events, stdout = run_playbook(str(RUNBOOKS / name / meta["playbook"]), extravars, connection=connection)
    stats = {}
    for ev in events:
        if ev.get("event") == "playbook_on_stats":
            stats = (ev["event_data"].get("artifact_data") or {})
    return r.status, stats.get(name.replace("-", "_"), {}), stdout


def _deploy(connection, scope, **svc):
    rec = SwarmReconciler()
    _, plan = plan_for(rec, {"name": scope.manifest, "services": {"rb": svc}}, scope, connection)
    assert all(r["status"] == "successful" for r in apply_plan(rec, plan, connection))


def test_restart_scale_rollback_and_logs(connection, scope, swarm_engine, tmp_path):
    _deploy(connection, scope, image="jarvis-test/httpd:1", update={"monitor": "1s"})
    api = swarm_engine.api
    before = api.inspect_service("rb")["Spec"]["TaskTemplate"].get("ForceUpdate", 0)

    status, out, stdout = _run("swarm-restart", connection, service="rb")
    assert status == "successful", stdout
    assert "converged" in out["msg"]
    assert api.inspect_service("rb")["Spec"]["TaskTemplate"]["ForceUpdate"] == before + 1

    status, out, stdout = _run("swarm-scale", connection, service="rb", replicas=2)
    assert status == "successful", stdout
    assert api.inspect_service("rb")["Spec"]["Mode"]["Replicated"]["Replicas"] == 2

    status, out, stdout = _run("swarm-rollback", connection, service="rb")
    assert status == "successful", stdout
    assert "rolled back" in out["msg"]
    assert api.inspect_service("rb")["Spec"]["Mode"]["Replicated"]["Replicas"] == 1

    status, out, stdout = _run("swarm-logs", connection, tmp_path, service="rb", lines=5)
    assert status == "successful", stdout
    assert (tmp_path / out["artifact"]).exists() and len(out["lines"]) <= 5


def test_runbook_on_missing_service_says_why(connection, swarm_engine):
    status, out, stdout = _run("swarm-restart", connection, service="no-such-service-here")
    assert status == "failed"
    assert "no-such-service-here" in out["msg"] and "restart failed" in out["msg"]


def test_swarm_logs_job_keeps_its_log_as_its_own_private_artifact(request, pg_url, tmp_path, swarm_engine, connection):
    """Through the worker: the log file lands in the job's artifact folder (0600) and the job lists it;
    nothing is left in a shared, world-readable folder."""
    name = f"firsthour-logs-{uuid.uuid4().hex[:6]}"      # service, manifest and connection: ours alone
    request.node.jarvis_cleanup = [name]
    rec = SwarmReconciler()
    _, plan = plan_for(rec, {"name": name, "services": {name: {"image": "jarvis-test/httpd:1"}}},
                       Scope(source=name, manifest=name), connection)
    assert all(r["status"] == "successful" for r in apply_plan(rec, plan, connection))
    shared = Path(f"/tmp/jarvis-artifacts/{name}.log")
    rt = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    try:
        jobs = jobs_service(rt)
        jobs.start_worker()
        with rt.db.session() as db:
            connections.create(db, rt.secrets, name=name, type="docker", environment="test",
                               config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="t")
        with rt.db.session() as db:
            job_id = jobs.run_runbook(db, "swarm-logs", {"connection": name, "service": name, "lines": 5},
                                      user_email="t@example.test", user_role="operator").id
        job = wait_job(rt, job_id, timeout=180)
        assert job.status == "success", job.reason
        with rt.db.session() as db:
            arts = db.scalars(select(JobArtifact).where(JobArtifact.job_id == job_id)).all()
            assert [a.name for a in arts] == [f"{name}.log"]
            stored = rt.settings.data_dir / "artifacts" / arts[0].path
        assert stored.is_file() and oct(stored.stat().st_mode & 0o777) == "0o600"
        assert job.output_json["swarm_logs"]["artifact"] == f"{name}.log"   # a name, not a path on the worker
        assert not shared.exists()
    finally:
        with rt.db.session() as db:
            db.delete(connections.by_name(db, name))
        rt.close()
