"""What the `jarvis_portainer` ansible module does; the module file in `playbooks/library/` is a thin
shim so the logic lives in importable, tested code. Its connection is the job's `jarvis_connection`
(credentials from the environment, controller.jobs.step_connection), never a module argument."""

from __future__ import annotations

from typing import Any

from controller.jobs import step_connection

from .apply import apply_change
from .client import PortainerError
from .reconciler import client_for

ARGUMENT_SPEC: dict[str, Any] = {
    "connection": {"type": "dict", "required": True},
    "change": {"type": "dict", "required": True},
    "owner": {"type": "str", "required": True},
}


def run(params: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    """The module result (`failed`, `msg` on error); never raises for API errors."""
    change = params["change"]
    if check_mode:
        return {"changed": True, "msg": f"would {change['action']} stack {change['name']}"}
    try:
        client = client_for(step_connection.read(params["connection"]))
    except (step_connection.ConnectionShapeError, PortainerError) as exc:
        return {"failed": True, "msg": str(exc)}
    with client:
        try:
            result = apply_change(client, change, params["owner"])
        except PortainerError as exc:
            return {"failed": True, "msg": str(exc), "calls": client.calls}
        return {"changed": result["status"] == "applied", "msg": result["detail"], "calls": client.calls,
                "writes": client.writes, **result}
