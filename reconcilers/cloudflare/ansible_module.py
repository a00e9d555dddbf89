"""What the `jarvis_cloudflare` ansible module does; the module file in `playbooks/library/` is a
thin shim so the logic lives in importable, tested code (ansible runs the module with the venv's
python, where this package is installed).

`connection` is the job's `jarvis_connection`, passed on unchanged: its API token comes from the
environment (put there by the worker; see controller.jobs.step_connection), never from module
arguments, so it never shows in job output.
"""

from __future__ import annotations

from typing import Any

from controller.jobs import step_connection

from .apply import apply_changes
from .client import CloudflareClient, CloudflareError
from .normalise import fqdn, zone_name
from .reconciler import client_for

ARGUMENT_SPEC: dict[str, Any] = {
    "action": {"type": "str", "required": True, "choices": ["apply", "purge_cache", "set_proxied"]},
    "connection": {"type": "dict", "required": True},
    "zone": {"type": "str", "required": True},
    "zone_id": {"type": "str", "default": ""},
    "changes": {"type": "list", "elements": "dict", "default": []},
    "urls": {"type": "list", "elements": "str", "default": []},
    "name": {"type": "str", "default": "@"},
    "type": {"type": "str", "default": "A"},
    "proxied": {"type": "bool", "default": True},
    "backoff": {"type": "float", "default": 0.5},
}


def run(params: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    """Returns the module result (`failed`, `msg` on error); never raises for API errors."""
    try:
        client = client_for(step_connection.read(params["connection"]), backoff=float(params.get("backoff", 0.5)))
    except (step_connection.ConnectionShapeError, CloudflareError) as exc:
        return {"failed": True, "msg": str(exc)}
    zone = zone_name(params["zone"])
    with client:
        try:
            zone_id = params.get("zone_id") or client.zone(zone)["id"]
            if params["action"] == "apply":
                result = apply_changes(client, zone_id, zone, params.get("changes") or [])
                return {"changed": result["applied"] > 0, "failed": result["failed"] > 0,
                        "msg": f"{result['applied']} applied, {result['failed']} failed", **result}
            if params["action"] == "purge_cache":
                if check_mode:
                    return {"changed": True, "msg": "would purge"}
                client.purge_cache(zone_id, params.get("urls") or None)
                what = f"{len(params['urls'])} URL(s)" if params.get("urls") else "everything"
                return {"changed": True, "msg": f"purged {what} in {zone}", "calls": client.calls}
            return _set_proxied(client, zone_id, zone, params, check_mode)
        except CloudflareError as exc:
            return {"failed": True, "msg": str(exc), "calls": client.calls}


def _set_proxied(client: CloudflareClient, zone_id: str, zone: str, params: dict[str, Any],
                 check_mode: bool) -> dict[str, Any]:
    name, rtype, want = fqdn(params["name"], zone), params["type"].upper(), bool(params["proxied"])
    if rtype not in ("A", "AAAA", "CNAME"):
        return {"failed": True, "msg": f"{rtype} records cannot be proxied (only A, AAAA, CNAME)"}
    records = client.list_records(zone_id, name=name, type=rtype)
    if not records:
        return {"failed": True, "msg": f"no {rtype} record named {name} in {zone}"}
    changed = [r for r in records if bool(r.get("proxied")) != want]
    if not check_mode:
        for r in changed:
            client.patch_record(zone_id, r["id"], {"type": r["type"], "name": r["name"],
                                                   "content": r["content"], "proxied": want})
    return {"changed": bool(changed), "records": len(records), "updated": len(changed),
            "msg": f"{name} {rtype}: proxied={want} ({len(changed)} of {len(records)} changed)",
            "calls": client.calls}
