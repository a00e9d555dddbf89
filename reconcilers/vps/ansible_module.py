"""What the `jarvis_vps` ansible module does (the file in `playbooks/library/` is a thin shim).

`ensure`: create the server (with Jarvis's key and cloud-init) or bring an owned one to the spec,
wait for sshd, check its host key against the `jarvis-hostkey` pin (pinning it on first contact)
and hand the hardening play the address and a known_hosts holding only the verified key.
`ensure` with `replace`: delete the owned server `live_id` first (refused when protected; already
gone is fine, so a re-run after a failed create goes on), then create it anew: a new image or
location, a new disk, address and host key (pinned again on first contact).
`delete`: delete an owned, unprotected server. The token never leaves the environment.
"""

from __future__ import annotations

from typing import Any

from hcloud import APIException

from controller.jobs import step_connection

from . import access, hetzner, hostkeys
from .servers import ownership_labels_of

ARGUMENT_SPEC: dict[str, Any] = {
    "action": {"type": "str", "required": True, "choices": ["ensure", "delete"]},
    "connection": {"type": "dict", "required": True},
    "name": {"type": "str", "required": True},
    "spec": {"type": "dict", "default": {}},
    "live_id": {"type": "str", "default": ""},
    "replace": {"type": "bool", "default": False},
}


def run(params: dict[str, Any]) -> dict[str, Any]:
    try:
        connection = step_connection.read(params["connection"])
        hc = hetzner.client_for(connection)
        name, spec = params["name"], params.get("spec") or {}
        if params["action"] == "delete":
            hetzner.delete(hc, int(params["live_id"]), name)
            return {"changed": True, "msg": f"server {name} deleted"}
        live_id = params.get("live_id") or ""
        if params.get("replace") and live_id:
            hetzner.delete(hc, int(live_id), name, missing_ok=True)
            live_id = ""
        return _ensure(hc, connection, name, spec, live_id)
    except (step_connection.ConnectionShapeError, hetzner.HetznerError, hostkeys.HostKeyError) as exc:
        return {"failed": True, "msg": str(exc)}
    except APIException as exc:
        return {"failed": True, "msg": f"server {params['name']}: Hetzner API {hetzner.describe(exc)}"}


def _ensure(hc, connection, name: str, spec: dict[str, Any], live_id: str) -> dict[str, Any]:
    if live_id:
        server = hetzner.update(hc, int(live_id), name, spec, hc.servers.get_by_id(int(live_id)).labels)
        what = "updated"
    else:
        taken = hc.servers.get_by_name(name)
        if taken is not None:
            if ownership_labels_of(taken.labels) != ownership_labels_of(spec.get("labels") or {}):
                return {"failed": True, "msg": f"server {name}: the name is taken by a server Jarvis does not own"}
            server, what = taken, "found"
        else:
            server, what = hetzner.create(hc, name, spec, hetzner.public_key(connection)), "created"
    host = server.public_net.ipv4.ip
    access.wait_for_sshd(host)
    pin = server.labels.get(hostkeys.LABEL)
    key = hostkeys.verified(host, pin)
    if not pin:
        hetzner.set_label(hc, server, hostkeys.LABEL, key.pin)
    return {"changed": True, "msg": f"server {name} {what} at {host}; host key {key.fingerprint}"
            + ("" if pin else " pinned on first contact"),
            "server": {"name": name, "host": host}, "fingerprint": key.fingerprint,
            "ssh_args": access.ssh_args(access.known_hosts(key))}
