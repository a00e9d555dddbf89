"""`VpsReconciler`: the `servers:` section of orch.yaml against Hetzner Cloud, hardened over SSH.

desired  servers.desired_servers (pure)
observe  the manifest's servers by label selector, the catalogue (types, locations, images) to
         refuse an unknown one per server, a name lookup for each desired name it does not own,
         and for each running owned server with `hardening:` the hardening playbook in check mode
         over SSH (host key checked against its pin): the live `hardening_drift`
diff     servers.diff_servers (pure)
steps    one playbook run per server: apply.yml (create/update, pin, harden) or delete.yml
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from hcloud import APIException

from controller.contract import (
    BaseReconciler,
    ConnectionCheck,
    ConnectionInfo,
    DesiredState,
    InvalidDesiredState,
    LiveState,
    Planned,
    Scope,
    Step,
    TargetSummary,
    TargetUnavailable,
)
from controller.plans import Action, Change, Plan, Resource

from . import PLAYBOOKS, access, drift, hetzner, hostkeys
from .connection import HETZNER, PRIVATE_KEY
from .servers import REPLACED, TYPE, desired_servers, diff_servers, live_server, selector


def servers_section(manifest: Any) -> list[dict[str, Any]]:
    data = manifest.model_dump(mode="json", exclude_none=True) if hasattr(manifest, "model_dump") else manifest
    return list((data or {}).get("servers") or [])


def _as_dict(server: Any) -> dict[str, Any]:
    """A bound hcloud server as the API's `server` object (the fields servers.live_server reads)."""
    ipv4 = server.public_net.ipv4.ip if server.public_net and server.public_net.ipv4 else None
    return {"id": server.id, "name": server.name, "status": server.status, "labels": dict(server.labels or {}),
            "server_type": {"name": server.server_type.name}, "location": {"name": server.location.name},
            "image": {"name": server.image.name if server.image else None},
            "protection": dict(server.protection or {}), "public_net": {"ipv4": {"ip": ipv4}}}


class VpsReconciler(BaseReconciler):
    kind: ClassVar[str] = "vps"
    title: ClassVar[str] = "Servers (Hetzner Cloud)"
    sections: ClassVar[tuple[str, ...]] = ("servers",)
    connection_type: ClassVar[str] = HETZNER.name
    connection_schema: ClassVar = HETZNER
    connection_key: ClassVar[str] = "servers"
    settings_defaults: ClassVar[Mapping[str, Any]] = {"check_timeout": 240}   # seconds for one drift check

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        resources, errors = desired_servers(servers_section(manifest), scope)
        return DesiredState(resources=tuple(resources), errors=tuple(errors), options={"selector": selector(scope)})

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        try:
            hc = self.client(connection, hetzner.client_for)
            catalogue = hetzner.catalogue(hc)
            owned = [live_server(_as_dict(s), scope) for s in hc.servers.get_all(label_selector=selector(scope))]
        except (hetzner.HetznerError, APIException) as exc:
            why = hetzner.describe(exc) if isinstance(exc, APIException) else str(exc)
            raise TargetUnavailable(f"Hetzner Cloud (connection {connection.name}): {why}") from exc
        errors: list[str] = []
        invalid: list[str] = []
        names = {r.name for r in owned}
        resources = list(owned)
        for want in desired.resources:
            bad = [f"{field} {want.spec[field]!r} does not exist (known: {', '.join(sorted(catalogue[key]))})"
                   for field, key in (("type", "types"), ("location", "locations"), ("image", "images"))
                   if want.spec.get(field) not in catalogue[key]]
            if bad and want.name not in names:
                errors.append(f"server {want.name}: " + "; ".join(bad))
                invalid.append(want.name)
                continue
            if want.name not in names and (foreign := hc.servers.get_by_name(want.name)) is not None:
                resources.append(Resource(TYPE, want.name, {}, owned=False, id=str(foreign.id)))
                errors.append(f"server {want.name}: the name is taken by a server Jarvis does not own "
                              "(it carries no jarvis-managed labels of this manifest); rename one of them")
                invalid.append(want.name)
        wanted = {r.name: r for r in desired.resources}
        checks: dict[str, dict[str, Any]] = {}
        out: list[Resource] = []
        for r in resources:
            want = wanted.get(r.name)
            if r.owned and want is not None and want.spec.get("hardening") and r.spec.get("status") == "running":
                state = self._hardening(connection, r, want)
                checks[r.name] = state
                if state["error"]:
                    errors.append(f"server {r.name}: {state['error']}")
                r = Resource(r.type, r.name, {**r.spec, "hardening_drift": state["drift"]}, owned=r.owned,
                             protected=r.protected, id=r.id)
            out.append(r)
        return LiveState(resources=tuple(out), errors=tuple(errors),
                         health={"invalid": invalid, "checks": checks})

    def _hardening(self, connection: ConnectionInfo, live: Resource, want: Resource) -> dict[str, Any]:
        """The drift check of one server: {state, drift, error, checked_at, fingerprint}."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        host, pin = live.spec.get("ipv4"), live.spec.get("pin")
        state: dict[str, Any] = {"state": "unknown", "drift": {}, "error": "", "checked_at": now,
                                 "fingerprint": hostkeys.fingerprint_of(pin) if pin else ""}
        if not pin:   # never contacted: the apply step pins its key, then hardens
            state["drift"] = {"host key": "not pinned yet: the server was never hardened"}
            state["state"] = "drifted"
            return state
        try:
            access.wait_for_sshd(host, deadline_s=10)
            key = hostkeys.verified(host, pin)
        except hostkeys.HostKeyError as exc:
            state["error"] = str(exc)
            return state
        public = hetzner.public_key(connection)
        status, found, error = drift.check(
            {"name": live.name, "host": host}, access.hardening_vars(want.spec["hardening"], public),
            ssh_key=connection.secrets.get(PRIVATE_KEY, ""), ssh_args=access.ssh_args(access.known_hosts(key)),
            timeout=int(self.settings["check_timeout"]))
        state.update(state=status, drift=found, error=f"hardening check failed: {error}" if error else "")
        return state

    def plan(self, *args: Any, **kwargs: Any) -> Planned:
        """The base's sequence (whatever it is handed, passed on as it is), with the servers observe
        refused taken out of the desired side, so they show as their error and never as in sync."""
        planned = super().plan(*args, **kwargs)
        invalid = set(planned.live.health.get("invalid") or ())
        kept = tuple(r for r in planned.desired.resources if r.name not in invalid)
        return Planned(dataclasses.replace(planned.desired, resources=kept), planned.live, planned.changes)

    def diff(self, desired: DesiredState, live: LiveState, *, target: str, prune: bool) -> list[Change]:
        invalid = set(live.health.get("invalid") or ())
        changes, _ = diff_servers(target, [r for r in desired.resources if r.name not in invalid],
                                  live.resources, prune=prune)   # its errors are observe's, already reported
        return changes

    def summarise(self, live: LiveState) -> TargetSummary:
        checks = dict(live.health.get("checks") or {})
        owned = [r for r in live.resources if r.owned]
        resources = {}
        for r in owned:
            c = checks.get(r.name, {})
            resources[r.key] = {"status": r.spec.get("status"), "ipv4": r.spec.get("ipv4"), "type": r.spec.get("type"),
                                "location": r.spec.get("location"), "image": r.spec.get("image"),
                                "protected": r.protected, "hardening": c.get("state", "unknown"),
                                "checked_at": c.get("checked_at"), "drift": c.get("drift", {}),
                                "fingerprint": c.get("fingerprint") or (hostkeys.fingerprint_of(r.spec["pin"])
                                                                        if r.spec.get("pin") else "")}
        problems = len(live.errors)
        counts = {"servers": len(owned), "running": sum(1 for r in owned if r.spec.get("status") == "running"),
                  "compliant": sum(1 for c in checks.values() if c.get("state") == "compliant"),
                  "drifted": sum(1 for c in checks.values() if c.get("state") == "drifted")}
        return TargetSummary(health="ok" if not problems else "degraded", counts=counts, problems=problems,
                             errors=tuple(live.errors), resources=resources)

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        try:
            public = hetzner.public_key(connection)
        except hetzner.HetznerError as exc:
            raise InvalidDesiredState(str(exc)) from None
        out = []
        for ch in plan.changes:
            name = ch.resource.split("/", 1)[1]
            if ch.action == Action.DELETE:
                out.append(Step(name=f"server {name}: delete", playbook=str(PLAYBOOKS / "delete.yml"),
                                vars={"vps_name": name, "vps_live_id": ch.live_id}, resource=ch.resource))
                continue
            spec = dict(ch.desired or {})
            replace = ch.action == Action.UPDATE and bool({f.path.split(".")[0] for f in ch.fields} & REPLACED)
            hardening = spec.get("hardening")
            out.append(Step(
                name=f"server {name}: " + ("replace (delete, create)" if replace else str(ch.action))
                     + (" and harden" if hardening else ""),
                playbook=str(PLAYBOOKS / ("apply.yml" if hardening else "ensure.yml")),
                vars={"vps_name": name, "vps_live_id": ch.live_id or "", "vps_replace": replace,
                      "vps_spec": {k: spec.get(k) for k in ("type", "image", "location", "labels", "protected")},
                      **({"hardening": access.hardening_vars(hardening, public)} if hardening else {})},
                resource=ch.resource))
        return out

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        try:
            hetzner.public_key(connection)
            catalogue = hetzner.catalogue(self.client(connection, hetzner.client_for))
        except hetzner.HetznerError as exc:
            return ConnectionCheck(ok=False, message=str(exc))
        except APIException as exc:
            return ConnectionCheck(ok=False, message=f"Hetzner Cloud: {hetzner.describe(exc)}")
        return ConnectionCheck(ok=True, message=f"token accepted; {len(catalogue['locations'])} location(s), "
                               f"{len(catalogue['types'])} server type(s)",
                               details={k: sorted(v) for k, v in catalogue.items()})

