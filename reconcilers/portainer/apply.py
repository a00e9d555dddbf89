"""Applies one planned stack change through Portainer's API, converging from what is live now.

The stack is looked up again before anything is written, so re-running a half-applied plan
converges: a create whose stack already exists (and is ours) becomes an update, a delete of a stack
already gone is done. A stack that is not Jarvis's is never updated or deleted, whatever the plan
says (an adopted stack is the one exception: its plan names its id). The ownership mark
`JARVIS_OWNER` goes into every stack's env.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .client import PortainerClient, PortainerError, env_dict
from .compose import OWNER_ENV
from .reconciler import endpoint_index


def _ours(stack: Mapping[str, Any], owner: str) -> bool:
    return env_dict(stack.get("Env")).get(OWNER_ENV) == owner


def _split(live_id: str | None) -> tuple[int, int] | None:
    if not live_id or ":" not in live_id:
        return None
    sid, eid = live_id.split(":", 1)
    return int(sid), int(eid)


def apply_change(client: PortainerClient, change: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """{status: applied|noop, detail}; raises PortainerError when Portainer refuses or fails."""
    action, name = change["action"], change["name"]
    if action == "delete":
        ids = _split(change.get("live_id"))
        stack = next((s for s in client.stacks() if ids and s["Id"] == ids[0]), None)
        if stack is None:
            return {"status": "noop", "detail": "already deleted"}
        if not _ours(stack, owner):
            raise PortainerError(0, f"stack {name}", "is not Jarvis's (its JARVIS_OWNER changed): not deleted")
        client.delete_stack(stack["Id"], stack["EndpointId"])
        return {"status": "applied", "detail": f"deleted stack {stack['Id']}"}

    env = {**dict(change.get("env") or {}), OWNER_ENV: owner}
    endpoints = endpoint_index(client.endpoints())
    ep = endpoints.get(str(change["endpoint"]))
    if ep is None:
        raise PortainerError(0, f"stack {name}", f"endpoint {change['endpoint']!r} does not exist")
    stacks = client.stacks()
    ids = _split(change.get("live_id"))
    current = next((s for s in stacks if ids and s["Id"] == ids[0]), None) or next(
        (s for s in stacks if s["Name"] == name and _ours(s, owner)), None)
    if current is not None and not _ours(current, owner) and not (ids and current["Id"] == ids[0]):
        raise PortainerError(0, f"stack {name}", "is not Jarvis's: not updated")
    if current is not None and current["EndpointId"] == ep["Id"]:
        client.update_stack(current["Id"], ep["Id"], change["content"], env, prune=True)
        return {"status": "applied", "detail": f"updated stack {current['Id']} on {ep['Name']}"}
    if any(s["Name"] == name and s["EndpointId"] == ep["Id"] for s in stacks):
        raise PortainerError(409, f"stack {name}", f"a stack Jarvis does not own holds the name on {ep['Name']}")
    created = client.create_swarm_stack(ep["Id"], name, change["content"], env, client.swarm_id(ep["Id"]))
    detail = f"created stack {created['Id']} on {ep['Name']}"
    if current is not None:          # the manifest moved it to another environment: the old one goes
        client.delete_stack(current["Id"], current["EndpointId"])
        detail += f", removed stack {current['Id']} from its old environment"
    return {"status": "applied", "detail": detail}
