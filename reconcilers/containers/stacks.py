"""Redeploy a stack: the same operation for the API and the runbooks, on a docker connection or a
Portainer environment.

A Swarm stack's services are each rolled with their own spec (`ForceUpdate` raised by one, as
`docker service update --force` does), so Swarm replaces their tasks by their update config (order,
parallelism, rollback on failure); nothing of the desired state changes, so nothing drifts. A compose
project (a standalone engine) has no update mechanism: its containers are restarted one by one.
A stack is addressed like a container: its name on a docker connection, `<endpoint id>:<name>` on a
Portainer one.
"""

from __future__ import annotations

import re
import time
from typing import Any

from controller.contract import ConnectionInfo
from controller.errors import Invalid, NotFound

from . import views
from .engines import Engine
from .service import _engine_for, _entry_of

STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
POLL_S = 0.5


def _split(ref: str) -> str:
    name = ref.rpartition(":")[2]
    if not STACK_NAME.match(name):
        raise Invalid(f"not a stack name: {ref!r} (letters, digits, '.', '_' and '-', at most 63)")
    return name


def redeploy_stack(conn: ConnectionInfo, ref: str) -> dict[str, Any]:
    """Rolls every service of the stack (Swarm) or restarts every container of the project (compose).
    Returns what was done: the services with the spec version each update was made from, or the
    containers with their new start times. A stack with neither is not found."""
    name = _split(ref)
    with _engine_for(conn, ref, noun="stack") as (env, engine, _):
        base = {"connection": conn.name, "environment": env.name, "stack": name, "ref": ref}
        services = sorted(engine.services(f"{views.STACK_LABELS[0]}={name}"), key=lambda s: s["Spec"]["Name"])
        if services:
            rolled = []
            for svc in services:
                spec = svc["Spec"]
                spec["TaskTemplate"]["ForceUpdate"] = int(spec["TaskTemplate"].get("ForceUpdate") or 0) + 1
                engine.update_service(svc["ID"], svc["Version"]["Index"], spec)
                rolled.append({"id": svc["ID"], "name": spec["Name"], "force_update": spec["TaskTemplate"]["ForceUpdate"]})
            return {**base, "mode": "swarm", "services": rolled, "containers": []}
        entries = sorted(engine.containers_labelled(f"{views.STACK_LABELS[1]}={name}"),
                         key=lambda e: (e.get("Names") or [""])[0])
        if not entries:
            raise NotFound(f"{env.name}: no stack {name!r} (no Swarm service and no compose container carries it)")
        restarted = []
        for entry in entries:
            engine.restart(entry["Id"])
            after = engine.inspect(entry["Id"])
            c = views.summary(_entry_of(after), after)
            restarted.append({"id": c["id"], "name": c["name"], "state": c["state"], "started": c["started"]})
        return {**base, "mode": "compose", "services": [], "containers": restarted}


def wait_rolled(conn: ConnectionInfo, done: dict[str, Any], timeout: float) -> dict[str, Any]:
    """After `redeploy_stack` on a Swarm stack: waits until every service's update has completed (its
    tasks replaced), or one is paused or rolled back. The runbook's answer to "did it work"."""
    if done["mode"] != "swarm":
        return {"failed": False, "msg": f"stack {done['stack']}: {len(done['containers'])} containers restarted"}
    deadline = time.monotonic() + timeout
    with _engine_for(conn, done["ref"], noun="stack") as (_env, engine, _):
        pending = {s["id"]: s["name"] for s in done["services"]}
        states: dict[str, str] = {}
        while pending:
            for sid in list(pending):
                state, message = _update_state(engine, sid)
                states[pending[sid]] = state
                if state == "completed":
                    pending.pop(sid)
                elif state in ("paused", "rollback_started", "rollback_completed", "rollback_paused"):
                    return {"failed": True, "states": states,
                            "msg": f"stack {done['stack']}: service {pending[sid]}: update {state} ({message})"}
            if pending and time.monotonic() > deadline:
                return {"failed": True, "states": states,
                        "msg": f"stack {done['stack']}: not rolled after {timeout:.0f}s: "
                               + ", ".join(f"{n} {states[n] or 'waiting'}" for n in sorted(pending.values()))}
            if pending:
                time.sleep(POLL_S)
    return {"failed": False, "states": states,
            "msg": f"stack {done['stack']}: {len(done['services'])} services rolled"}


def _update_state(engine: Engine, sid: str) -> tuple[str, str]:
    status = engine.inspect_service(sid).get("UpdateStatus") or {}
    return status.get("State", ""), status.get("Message", "")
