"""Changes and plans: the plain values every reconciler produces and the controller acts on.

A `Change` is one resource moving from its live form to its desired form; a `Plan` is the
changes for one target of one manifest at one revision, with a checksum so that approving a
plan runs exactly what was shown. Nothing here does I/O: `diff_resources` is the pure,
field-level diff most reconcilers delegate to once both sides are normalised.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from deepdiff import DeepDiff


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs: a dotted path (`env.N8N_HOST`, `ports[0].published`)."""

    path: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class Resource:
    """A resource as one side of a diff sees it: its normalised spec, and whether Jarvis owns it.

    `spec` holds only fields Jarvis manages, already normalised (server defaults filled in
    on the desired side or stripped from the live side) so equal things compare equal.
    """

    type: str                      # "service", "record", "network", ...
    name: str                      # unique within (target, type)
    spec: Mapping[str, Any]
    owned: bool = True
    protected: bool = False
    ignore: tuple[str, ...] = ()   # field globs another system owns (Argo CD's ignoreDifferences)
    id: str | None = None          # live identifier (service id, record id), when known

    @property
    def key(self) -> str:
        return f"{self.type}/{self.name}"


@dataclass(frozen=True)
class Change:
    target: str                    # "<kind>:<connection>", e.g. "swarm:prod-swarm"
    resource: str                  # "<type>/<name>", e.g. "service/n8n"
    action: Action
    fields: tuple[FieldDiff, ...] = ()
    risk: Risk = Risk.LOW
    protected: bool = False
    desired: Mapping[str, Any] | None = None   # the spec to apply (None for delete)
    live_id: str | None = None                 # what to update or delete
    reason: str = ""                           # why, in words, for plans held or refused

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action"] = str(self.action)
        data["risk"] = str(self.risk)
        data["fields"] = [asdict(f) for f in self.fields]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            target=data["target"],
            resource=data["resource"],
            action=Action(data["action"]),
            fields=tuple(FieldDiff(**f) for f in data.get("fields", ())),
            risk=Risk(data.get("risk", "low")),
            protected=bool(data.get("protected", False)),
            desired=data.get("desired"),
            live_id=data.get("live_id"),
            reason=data.get("reason", ""),
        )


@dataclass(frozen=True)
class SafetyLimits:
    """octoDNS-style plan limits: large destructive plans wait for a human whatever the policy."""

    max_fraction: float = 0.30     # of a target's managed resources updated or deleted
    min_managed: int = 10          # the fraction only applies from this many managed resources


@dataclass(frozen=True)
class Plan:
    target: str
    changes: tuple[Change, ...]
    managed_count: int = 0         # resources Jarvis owns on this target before the plan
    source: str = ""
    manifest: str = ""
    revision: str = ""
    errors: tuple[str, ...] = field(default=())   # resources that could not be planned, in words
    # resolved secret values the steps need (from DesiredState.secrets): not part of the checksum
    secrets: Mapping[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def checksum(self) -> str:
        return changes_checksum(self.changes)

    def counts(self) -> dict[str, int]:
        out = {a.value: 0 for a in Action}
        for c in self.changes:
            out[c.action.value] += 1
        return out

    def held_reasons(self, limits: SafetyLimits = SafetyLimits()) -> list[str]:
        """Why this plan must wait for approval whatever the sync policy (empty: it need not)."""
        reasons = [f"{c.resource} is protected" for c in self.changes if c.protected]
        # a high-risk update destroys what it updates (a server replaced for a new image): a human decides
        reasons += [f"{c.resource}: {c.reason or 'a high-risk update'}" for c in self.changes
                    if c.action is Action.UPDATE and c.risk is Risk.HIGH and not c.protected]
        destructive = sum(1 for c in self.changes if c.action in (Action.UPDATE, Action.DELETE))
        if self.managed_count >= limits.min_managed:
            allowed = math.floor(self.managed_count * limits.max_fraction)
            if destructive > allowed:
                reasons.append(
                    f"{destructive} of {self.managed_count} managed resources would be updated or "
                    f"deleted (limit {limits.max_fraction:.0%})"
                )
        return reasons


def changes_checksum(changes: Iterable[Change]) -> str:
    canonical = json.dumps([c.to_dict() for c in changes], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _path(parts: list[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _ignored(path: str, ignore: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, pat) or path.startswith(pat + ".") or path.startswith(pat + "[")
               for pat in ignore)


def field_diffs(before: Any, after: Any, ignore: Iterable[str] = ()) -> tuple[FieldDiff, ...]:
    """Field-level differences between two normalised specs, sorted by path."""
    ignore = tuple(ignore)
    if before == after and _canonical(before) == _canonical(after):
        return ()   # the common case (nothing drifted) without DeepDiff's cost; 1 vs True still differs
    if isinstance(before, Mapping) and isinstance(after, Mapping) and (not before or not after):
        # a create or a delete: one row per top-level field reads better than one blob
        keys = sorted(set(before) | set(after))
        return tuple(FieldDiff(k, before.get(k), after.get(k)) for k in keys if not _ignored(k, ignore))
    diff = DeepDiff(before, after, view="tree", ignore_order=False, verbose_level=2)
    out: dict[str, FieldDiff] = {}
    for items in diff.values():
        for item in items:
            path = _path(item.path(output_format="list"))
            if _ignored(path, ignore):
                continue
            b = None if _missing(item.t1) else item.t1
            a = None if _missing(item.t2) else item.t2
            out[path] = FieldDiff(path=path, before=b, after=a)
    return tuple(out[k] for k in sorted(out))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def _risk(action: Action, resource_type: str) -> Risk:
    if action is Action.DELETE:
        return Risk.HIGH
    if action is Action.UPDATE:
        return Risk.MEDIUM
    return Risk.LOW


def diff_resources(
    target: str,
    desired: Iterable[Resource],
    live: Iterable[Resource],
    *,
    prune: bool,
) -> list[Change]:
    """The generic pure diff: create what is missing, update what differs, delete what left.

    Live resources Jarvis does not own are never updated or deleted: a desired resource whose
    name is taken by a foreign one yields no change but an error-less `reason` for the caller
    to surface (it is reported by the reconciler, which knows whether adoption was asked).
    """
    live_by_key = {r.key: r for r in live}
    changes: list[Change] = []
    seen: set[str] = set()
    for want in sorted(desired, key=lambda r: r.key):
        seen.add(want.key)
        have = live_by_key.get(want.key)
        if have is None:
            changes.append(Change(target, want.key, Action.CREATE,
                                  fields=field_diffs({}, dict(want.spec)),
                                  risk=_risk(Action.CREATE, want.type), protected=want.protected,
                                  desired=dict(want.spec)))
            continue
        if not have.owned:
            continue
        diffs = field_diffs(dict(have.spec), dict(want.spec), ignore=want.ignore + have.ignore)
        if diffs:
            changes.append(Change(target, want.key, Action.UPDATE, fields=diffs,
                                  risk=_risk(Action.UPDATE, want.type),
                                  protected=want.protected or have.protected,
                                  desired=dict(want.spec), live_id=have.id))
    if prune:
        for have in sorted(live_by_key.values(), key=lambda r: r.key):
            if have.key in seen or not have.owned:
                continue
            changes.append(Change(target, have.key, Action.DELETE,
                                  fields=field_diffs(dict(have.spec), {}),
                                  risk=Risk.HIGH, protected=have.protected, live_id=have.id))
    return changes

