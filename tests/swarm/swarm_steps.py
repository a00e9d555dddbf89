"""Running a plan the way a job does: each step's playbook through real ansible-runner."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

import ansible_runner

from controller.contract import ConnectionInfo, DesiredState, Scope
from controller.jobs import step_connection
from controller.plans import Plan
from reconcilers.swarm import SwarmReconciler

# ansible-runner finds ansible-playbook on PATH: the venv's, whose python imports reconcilers.
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


def run_playbook(playbook: str, extravars: dict[str, Any], envvars: dict[str, str] | None = None,
                 connection: ConnectionInfo | None = None):
    """One ansible-runner run; `connection` is handed over as the worker hands it (step_connection)."""
    if connection is not None:
        extravars = {**extravars, step_connection.VAR: step_connection.to_vars(connection)}
        envvars = {**(envvars or {}), **step_connection.to_env(connection)}
    with tempfile.TemporaryDirectory(prefix="jarvis-test-runner-") as d:
        r = ansible_runner.run(private_data_dir=d, playbook=playbook, extravars=extravars,
                               envvars=envvars or {}, quiet=True)
        events = list(r.events)
        stdout = r.stdout.read()
        return r, events, stdout


def plan_for(rec: SwarmReconciler, manifest: dict, scope: Scope, conn: ConnectionInfo,
             files: dict[str, bytes] | None = None, prune: bool = False) -> tuple[DesiredState, Plan]:
    desired = rec.desired(manifest, scope, files or {})
    live = rec.observe(conn, scope, desired)
    changes = rec.diff(desired, live, target="swarm:local", prune=prune)
    return desired, Plan(target="swarm:local", changes=tuple(changes),
                         errors=tuple(desired.errors) + tuple(live.errors), secrets=desired.secrets)


def apply_plan(rec: SwarmReconciler, plan: Plan, conn: ConnectionInfo) -> list[dict[str, Any]]:
    """Run every step; return per step {resource, status, msg, stdout} (a failed step does not stop the rest)."""
    out = []
    for step in rec.steps(plan, conn):
        env = {f"JARVIS_STEP_{k.upper()}": v for k, v in step.secrets.items()}   # as the worker gives them
        r, events, stdout = run_playbook(step.playbook, dict(step.vars), env, conn)
        msg = ""
        for ev in events:
            res = (ev.get("event_data") or {}).get("res") or {}
            if ev.get("event") in ("runner_on_ok", "runner_on_failed") and "summary" in res:
                msg = res["summary"].get("msg", "") or res.get("msg", "")
                out_res = res
        out.append({"resource": step.resource, "status": r.status, "msg": msg, "stdout": stdout,
                    "rolled_back": bool(locals().get("out_res", {}).get("rolled_back"))})
    return out
