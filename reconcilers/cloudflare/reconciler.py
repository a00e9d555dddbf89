"""`CloudflareReconciler`: the `dns:` section of orch.yaml against Cloudflare's API v4.

desired  manifest records → normalised specs; a bad record becomes an error naming it, and the
         rest of the zone still reconciles (its live namesake is left alone, even when pruning)
observe  every page of every zone's records; root NS records are left out; a record is owned
         when its comment ends with this manifest's marker `jarvis:<source>/<manifest>`
diff     pure (diffing.diff_records)
steps    one playbook run per zone: `playbooks/apply.yml` with the module in `playbooks/library`
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from controller.contract import (
    BaseReconciler,
    ConnectionCheck,
    ConnectionInfo,
    DesiredState,
    InvalidDesiredState,
    LiveState,
    Scope,
    Step,
    TargetSummary,
    TargetUnavailable,
)
from controller.plans import Change, Plan, Resource

from .client import DEFAULT_BASE_URL, CloudflareClient, CloudflareError, ZoneNotFound
from .connection import CLOUDFLARE, TOKEN_KEY
from .diffing import RECORD, conflicts, diff_records, record_keys
from .normalise import (
    SUPPORTED_TYPES,
    RecordError,
    api_body,
    desired_spec,
    fqdn,
    live_spec,
    owner_marker,
    split_comment,
    zone_name,
)

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


def dns_section(manifest: Any) -> list[dict[str, Any]]:
    """The `dns` section as a list of {zone, records}, from a pydantic manifest or a plain dict."""
    data = manifest.model_dump(mode="json", exclude_none=True) if hasattr(manifest, "model_dump") else manifest
    dns = (data or {}).get("dns")
    if not dns:
        return []
    return [dns] if isinstance(dns, Mapping) else list(dns)


def client_for(connection: ConnectionInfo, **kwargs: Any) -> CloudflareClient:
    token = connection.secrets.get(TOKEN_KEY, "")
    if not token:
        raise CloudflareError(0, [{"code": 0, "message": f"connection {connection.name} has no {TOKEN_KEY}"}],
                              "connection")
    return CloudflareClient(token, connection.config.get("base_url") or DEFAULT_BASE_URL, **kwargs)


def _zone_records(zone: str, records: list[Any], where: str) -> tuple[list[dict[str, Any]], list[dict], list[str]]:
    """(specs, manifest records, errors) for one zone, with the cross-record rules applied."""
    specs: list[dict[str, Any]] = []
    sources: list[dict] = []
    errors: list[str] = []
    for i, rec in enumerate(records):
        label = f"{where}.records[{i}] ({rec.get('name', '@')} {rec.get('type', '?')})"
        try:
            specs.append(desired_spec(rec, zone))
            sources.append(dict(rec, _label=label))
        except RecordError as exc:
            errors.append(f"{label}: {exc}")
            sources.append(dict(rec, _label=label, _error=True))
            specs.append({})
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(specs):
        if s:
            by_name[s["name"]].append(i)
    for name, idxs in by_name.items():
        types = {specs[i]["type"] for i in idxs}
        if "CNAME" in types and len(idxs) > 1:
            apex = " at the zone apex" if name == zone else ""
            for i in idxs:
                errors.append(f"{sources[i]['_label']}: a CNAME{apex} cannot share the name {name} with "
                              f"other records ({', '.join(sorted(specs[i2]['type'] for i2 in idxs))})")
                sources[i]["_error"] = True
    seen: dict[tuple[str, str, str], int] = {}
    for i, s in enumerate(specs):
        if s and not sources[i].get("_error"):
            key = (s["name"], s["type"], str(s.get("content", s.get("data"))))
            if key in seen:
                errors.append(f"{sources[i]['_label']}: duplicates {sources[seen[key]]['_label']}")
                sources[i]["_error"] = True
            seen.setdefault(key, i)
    return specs, sources, errors


class CloudflareReconciler(BaseReconciler):
    kind: ClassVar[str] = "cloudflare"
    title: ClassVar[str] = "Cloudflare DNS"
    settings_defaults: ClassVar[Mapping[str, Any]] = {"max_retries": 5}   # retries of a rate-limited or failed call
    sections: ClassVar[tuple[str, ...]] = ("dns",)
    connection_type: ClassVar[str] = CLOUDFLARE.name
    connection_schema: ClassVar = CLOUDFLARE
    connection_key: ClassVar[str] = "dns"
    runbooks_dir: ClassVar[Path] = Path(__file__).resolve().parent / "runbooks"

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        resources: list[Resource] = []
        errors: list[str] = []
        zones: list[str] = []
        adopt: list[str] = []
        skip: list[str] = []
        for zi, entry in enumerate(dns_section(manifest)):
            zone = zone_name(str(entry.get("zone") or ""))
            where = f"dns[{zi}]"
            if not zone:
                errors.append(f"{where}: zone is missing")
                continue
            zones.append(zone)
            specs, sources, errs = _zone_records(zone, list(entry.get("records") or []), f"{where} {zone}")
            errors += errs
            good = [(s, src) for s, src in zip(specs, sources, strict=True) if s and not src.get("_error")]
            for src in sources:
                if src.get("_error"):
                    try:
                        skip.append(f"{fqdn(str(src.get('name', '@')), zone)}/{str(src.get('type', '')).upper()}")
                    except RecordError:
                        pass
            for key, (spec, src) in zip(record_keys([s for s, _ in good]), good, strict=True):
                resources.append(Resource(type=RECORD, name=key, spec=spec, owned=True,
                                          protected=bool(src.get("protected", False))))
                if src.get("adopt"):
                    adopt.append(f"{RECORD}/{key}")
        return DesiredState(resources=tuple(resources), errors=tuple(errors),
                            options={"zones": zones, "adopt": adopt, "skip": skip,
                                     "marker": owner_marker(scope.source, scope.manifest)})

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        owner = f"{scope.source}/{scope.manifest}"
        wanted = desired.options.get("zones", [])
        resources: list[Resource] = []
        errors: list[str] = []
        zones: dict[str, dict[str, Any]] = {}
        try:
            client = self.client(connection, client_for, max_retries=int(self.settings["max_retries"]))
        except CloudflareError as exc:
            raise TargetUnavailable(str(exc)) from exc
        with client:
            for zone in wanted:
                try:
                    info = client.zone(zone)
                    records = client.list_records(info["id"])
                except CloudflareError as exc:
                    if _unreachable(exc):   # no zone can be read: nothing is compared, the target is down
                        raise TargetUnavailable(f"Cloudflare (connection {connection.name}): {exc}") from exc
                    if not isinstance(exc, ZoneNotFound):
                        errors.append(f"zone {zone}: {exc}")
                        zones[zone] = {"status": "error"}
                        continue
                    errors.append(f"zone {zone}: not visible to the token of connection {connection.name}; "
                                  "its records are not reconciled")
                    zones[zone] = {"status": "not visible"}
                    continue
                zones[zone] = {"id": info["id"], "status": info.get("status", "")}
                specs, ids, owned = [], [], []
                for rec in records:
                    if rec["type"] not in SUPPORTED_TYPES:
                        continue
                    spec = live_spec(rec, zone)
                    if spec["type"] == "NS" and spec["name"] == zone:
                        continue   # the zone's own name servers: Cloudflare's, never Jarvis's
                    specs.append(spec)
                    ids.append(rec["id"])
                    owned.append(split_comment(rec.get("comment"))[1] == owner)
                for key, spec, rid, mine in zip(record_keys(specs), specs, ids, owned, strict=True):
                    resources.append(Resource(type=RECORD, name=key, spec=spec, owned=mine, id=rid))
            calls = client.calls
        # a zone that could not be read: its declared records are unknown, not in sync
        unread = {z for z, info in zones.items() if "id" not in info}
        return LiveState(resources=tuple(resources), errors=tuple(errors), health={"zones": zones, "calls": calls},
                         unobserved=tuple(r.key for r in desired.resources if r.spec["zone"] in unread))

    def diff(self, desired: DesiredState, live: LiveState, *, target: str, prune: bool) -> list[Change]:
        """Records match by value within a (name, type) group, not by key: Cloudflare keeps its own
        pairing (diffing.diff_records) instead of the generic diff; zones not visible plan nothing."""
        zones = live.health.get("zones")
        wanted = [r for r in desired.resources if zones is None or "id" in zones.get(r.spec["zone"], {})]
        return diff_records(target, wanted, live.resources, prune=prune,
                            adopt=desired.options.get("adopt", ()), skip=desired.options.get("skip", ()))

    def summarise(self, live: LiveState) -> TargetSummary:
        zones = dict(live.health.get("zones") or {})
        visible = sum(1 for z in zones.values() if "id" in z)
        records = sum(1 for r in live.resources if r.owned)
        problems = len(live.errors)
        return TargetSummary(health="ok" if not problems else ("down" if zones and not visible else "degraded"),
                             counts={"zones": len(zones), "zones visible": visible, "records managed": records},
                             problems=problems, errors=tuple(live.errors),
                             resources={f"zone/{name}": {"status": z.get("status", "")} for name, z in sorted(zones.items())})

    def conflicts(self, desired: DesiredState, live: LiveState) -> list[str]:
        """Desired records a foreign record holds (reported next to the plan, never applied)."""
        return conflicts(desired.resources, live.resources, desired.options.get("adopt", ()))

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        """One playbook run per zone."""
        marker = owner_marker(plan.source, plan.manifest)
        by_zone: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for ch in plan.changes:
            zone = change_zone(ch)
            item: dict[str, Any] = {"action": str(ch.action), "resource": ch.resource, "live_id": ch.live_id}
            if ch.desired is not None:
                item["body"] = api_body(ch.desired, marker)
            by_zone[zone].append(item)
        # the connection is not a step variable: the worker hands it to every step (step_connection)
        return [Step(name=f"cloudflare {zone}: {len(items)} record change(s)",
                     playbook=str(PLAYBOOKS / "apply.yml"),
                     vars={"zone": zone, "changes": items},
                     resource=f"zone/{zone}")
                for zone, items in sorted(by_zone.items())]

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        try:
            with client_for(connection, max_retries=2) as client:
                token = client.verify_token()
                zones = client.zones()
        except CloudflareError as exc:
            return ConnectionCheck(ok=False, message=f"Cloudflare: {exc}")
        names = sorted(z["name"] for z in zones)
        return ConnectionCheck(ok=token.get("status") == "active",
                               message=f"token {token.get('status')}; {len(names)} zone(s) visible",
                               details={"token_status": token.get("status"), "zones": names})

    def status(self, connection: ConnectionInfo) -> dict[str, Any]:
        """For the dashboard widget: token validity and each visible zone's status."""
        try:
            with client_for(connection, max_retries=1) as client:
                token = client.verify_token()
                zones = client.zones()
        except CloudflareError as exc:
            return {"token_valid": False, "error": str(exc), "zones": []}
        return {"token_valid": token.get("status") == "active",
                "zones": [{"name": z["name"], "status": z.get("status", ""), "paused": z.get("paused", False)}
                          for z in sorted(zones, key=lambda z: z["name"])]}


def change_zone(change: Change) -> str:
    """The zone a change belongs to: from its desired spec, or the `zone` field a delete removes."""
    if change.desired is not None:
        return str(change.desired["zone"])
    for f in change.fields:
        if f.path == "zone":
            return str(f.before)
    raise InvalidDesiredState(f"{change.resource}: cannot tell which zone it belongs to")


def _unreachable(exc: CloudflareError) -> bool:
    """The API itself failed (no answer, the token refused, a server error), not one zone. Cloudflare
    answers a token it does not accept with 403 and error 10000 ("Authentication error")."""
    return exc.status in (0, 401) or exc.status >= 500 or (exc.status == 403 and 10000 in exc.codes)
