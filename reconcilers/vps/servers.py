"""Servers as plain values: a manifest's `servers:` and Hetzner's servers, normalised, and the diff.

Pure: no client, no I/O, so the rules below are tested without a server.

- Jarvis owns a server that carries its labels (`jarvis-managed=true` and this manifest's
  `jarvis-source` / `jarvis-manifest`); it never updates or deletes any other, and a desired name
  taken by a server it does not own is an error for that server alone.
- A change of `type` is a resize (power off, change type, power on): medium risk.
- A change of `image` or `location` replaces the server (its disk and address are lost): always
  high risk and held for a human, whatever the sync policy.
- `ssh_keys` and `user_data` apply at creation only and are never compared (the Terraform
  provider's most reported trap: a changed key list replaced every server).
- `protected: true` turns on Hetzner's own delete protection, so a protected server is refused
  a delete by the API as well as by the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.contract import Scope
from controller.plans import Action, Change, FieldDiff, Resource, Risk, field_diffs

TYPE = "server"
MANAGED = "jarvis-managed"
SOURCE = "jarvis-source"
MANIFEST = "jarvis-manifest"
DEFAULT_LOCATION = "fsn1"
# what the diff compares; everything else on a live server is the provider's
COMPARED = ("type", "image", "location", "labels", "protected", "hardening_drift")
# labels Jarvis sets itself on a live server and never asks for in a manifest
OWN_LABELS = ("jarvis-hostkey",)
# a change of one of these replaces the server (Hetzner cannot change them in place)
REPLACED = frozenset({"image", "location"})
RESIZE = "resize: the server is powered off, given the new type and powered on again"
REPLACE = ("replace: the server is deleted and created again from {what}; its disk and its address are lost, "
           "so this always waits for approval")


def _label_value(text: str) -> str:
    """Hetzner label values: up to 63 characters of [a-zA-Z0-9_.-], starting and ending alphanumeric."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text)[:63].strip("-_.")
    return cleaned or "x"


def ownership_labels(scope: Scope) -> dict[str, str]:
    return {MANAGED: "true", SOURCE: _label_value(scope.source), MANIFEST: _label_value(scope.manifest)}


def ownership_labels_of(labels: Mapping[str, str]) -> dict[str, str]:
    """The ownership labels a server (or a desired spec) carries, to compare owners."""
    return {k: labels[k] for k in (MANAGED, SOURCE, MANIFEST) if k in labels}


def selector(scope: Scope) -> str:
    """The label selector every list uses: only this manifest's servers come back."""
    labels = ownership_labels(scope)
    return ",".join(f"{k}={v}" for k, v in labels.items())


def hardening_of(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    hardening = entry.get("hardening")
    if not hardening:
        return None
    return {"ssh": hardening.get("ssh", "strict"), "firewall": sorted({int(p) for p in hardening.get("firewall", [22])}),
            "fail2ban": bool(hardening.get("fail2ban", True))}


def desired_servers(entries: Iterable[Mapping[str, Any]], scope: Scope) -> tuple[list[Resource], list[str]]:
    """(resources, errors) for a manifest's `servers:` (entries as plain dicts, already validated)."""
    resources, errors, seen = [], [], set()
    for entry in entries:
        name = entry["name"]
        if name in seen:
            errors.append(f"server {name}: declared twice")
            continue
        seen.add(name)
        hardening = hardening_of(entry)
        if hardening and 22 not in hardening["firewall"]:
            errors.append(f"server {name}: hardening.firewall {hardening['firewall']} would close port 22, "
                          "and Jarvis manages the server over SSH: add 22")
            continue
        spec = {"type": entry["type"], "image": entry["image"], "location": entry.get("location") or DEFAULT_LOCATION,
                "labels": {**{str(k): str(v) for k, v in (entry.get("labels") or {}).items()}, **ownership_labels(scope)},
                "protected": bool(entry.get("protected", False)),
                "roles": sorted(entry.get("roles") or []), "hardening": hardening,
                "hardening_drift": {}}   # observe fills the live side: {file or rule: what differs}
        resources.append(Resource(TYPE, name, spec, protected=spec["protected"]))
    return resources, errors


def live_server(server: Mapping[str, Any], scope: Scope) -> Resource:
    """A server as the API returns it (the `server` object, as a dict) → a Resource."""
    all_labels = dict(server.get("labels") or {})
    labels = {k: v for k, v in all_labels.items() if k not in OWN_LABELS}
    owned = all(labels.get(k) == v for k, v in ownership_labels(scope).items())
    spec = {"type": server["server_type"]["name"], "image": (server.get("image") or {}).get("name"),
            "location": server["location"]["name"], "labels": labels,
            "protected": bool((server.get("protection") or {}).get("delete")),
            "hardening_drift": {}, "pin": all_labels.get("jarvis-hostkey"),
            "status": server.get("status"), "ipv4": ((server.get("public_net") or {}).get("ipv4") or {}).get("ip")}
    return Resource(TYPE, server["name"], spec, owned=owned, protected=spec["protected"], id=str(server["id"]))


def _compared(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: spec.get(k) for k in COMPARED}


def _by_file(diffs: tuple[FieldDiff, ...]) -> tuple[FieldDiff, ...]:
    """Hardening drift as one row per file or rule (`hardening_drift./etc/ssh/sshd_config`): before is
    what the check found on the server, after the policy."""
    out: list[FieldDiff] = []
    for d in diffs:
        if d.path == "hardening_drift" and isinstance(d.before, Mapping):
            out += [FieldDiff(f"hardening_drift.{k}", v, "as the hardening declares") for k, v in sorted(d.before.items())]
        else:
            out.append(d)
    return tuple(out)


def diff_servers(target: str, desired: Iterable[Resource], live: Iterable[Resource], *,
                 prune: bool) -> tuple[list[Change], list[str]]:
    """(changes, errors). Errors name a server that cannot be planned; the others still are."""
    live_by_name = {r.name: r for r in live}
    changes: list[Change] = []
    errors: list[str] = []
    wanted = sorted(desired, key=lambda r: r.name)
    for want in wanted:
        have = live_by_name.get(want.name)
        if have is None:
            fields = tuple(d for d in field_diffs({}, _compared(want.spec)) if d.path != "hardening_drift")
            changes.append(Change(target, want.key, Action.CREATE, fields=fields,
                                  risk=Risk.LOW, protected=False, desired=dict(want.spec),
                                  reason="create, then harden over SSH"))
            continue
        if not have.owned:
            errors.append(f"server {want.name}: the name is taken by a server Jarvis does not own "
                          "(it carries no jarvis-managed labels of this manifest); rename one of them")
            continue
        diffs = _by_file(field_diffs(_compared(have.spec), _compared(want.spec)))
        if not diffs:
            continue
        paths = {d.path.split(".")[0].split("[")[0] for d in diffs}
        protected = False
        if paths & REPLACED:
            what = " and ".join(sorted(paths & REPLACED))
            risk, reason = Risk.HIGH, REPLACE.format(what=f"the new {what}")
            protected = have.protected     # a replacement deletes: a protected server is held, and the API refuses it
        elif "type" in paths:
            risk, reason = Risk.MEDIUM, RESIZE
        elif paths == {"hardening_drift"}:
            risk, reason = Risk.LOW, "hardening drifted: re-apply it over SSH"
        else:
            risk, reason = Risk.LOW, "labels and protection change in place"
        changes.append(Change(target, want.key, Action.UPDATE, fields=diffs, risk=risk,
                              protected=protected, desired=dict(want.spec), live_id=have.id, reason=reason))
    if prune:
        names = {w.name for w in wanted}
        for have in sorted(live_by_name.values(), key=lambda r: r.name):
            if have.name in names or not have.owned:
                continue
            changes.append(Change(target, have.key, Action.DELETE, fields=tuple(d for d in field_diffs(_compared(have.spec), {})
                                                                    if d.path != "hardening_drift"),
                                  risk=Risk.HIGH, protected=have.protected, live_id=have.id,
                                  reason="protected: never deleted" if have.protected else "delete"))
    return changes, errors
