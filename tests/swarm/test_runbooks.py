"""The Swarm runbooks through real ansible-runner against the real Swarm."""

from __future__ import annotations

from pathlib import Path

import yaml
from swarm_steps import apply_plan, plan_for, run_playbook

from reconcilers.swarm import SwarmReconciler

RUNBOOKS = Path(__file__).resolve().parents[2] / "reconcilers" / "swarm" / "runbooks"


def _run(name: str, connection, **input_):
    meta = yaml.safe_load((RUNBOOKS / name / "runbook.yaml").read_text())
    assert meta["name"] == name and meta["connection_type"] == "docker"
    assert set(meta["input"]["required"]) <= set(input_)
    r, events, stdout = run_playbook(str(RUNBOOKS / name / meta["playbook"]), {"input": input_},
                                     connection=connection)
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

    status, out, stdout = _run("swarm-logs", connection, service="rb", lines=5)
    assert status == "successful", stdout
    assert Path(out["artifact"]).exists() and len(out["lines"]) <= 5


def test_runbook_on_missing_service_says_why(connection, swarm_engine):
    status, out, stdout = _run("swarm-restart", connection, service="no-such-service-here")
    assert status == "failed"
    assert "no-such-service-here" in out["msg"] and "restart failed" in out["msg"]
