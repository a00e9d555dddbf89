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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    """One field that differs: the engine's dotted path (`TaskTemplate.ContainerSpec.Image`, `ports[0].published`)
    and values, and, when the reconciler can say it, the same field in orch.yaml terms
    (`services.web.update.delay`, `"10s"` where the engine stores 10000000000)."""

    path: str
    before: Any = None
    after: Any = None
    manifest_path: str = ""        # "" when the field has no orch.yaml term (the engine's own, or Jarvis's)
    manifest_before: Any = None    # in orch.yaml's units
    manifest_after: Any = None


@dataclass(frozen=True)
class Term:
    """One field of a resource as orch.yaml says it, and where the engine keeps it.

    A reconciler's `terms` hook lists these for a (normalised) spec; every engine value under
    `field` must be described by the terms naming that field, so a difference there always shows
    as a term difference. `path` "" marks Jarvis's own bookkeeping (ownership labels), never
    written in orch.yaml: shown only when it changes on a resource that stays.
    """

    path: str                      # "services.web.replicas"
    field: str                     # "Mode.Replicated.Replicas"
    engine: Any = None             # the engine's value (2, "A=1", 10000000000)
    value: Any = None              # orch.yaml's value (2, "1", "10s")



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


# A reconciler's hook: a resource's spec in orch.yaml terms, or None when it has no mapping for it.
TermsHook = Callable[[Resource], Sequence[Term] | None]


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


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a nested spec by its dotted path."""
    if isinstance(value, Mapping):   # an empty mapping or list has no leaves: {} and absent mean the same
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list | tuple):
        out = {}
        for i, v in enumerate(value):
            out.update(_leaves(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value} if prefix else {}


def _under(path: str, fld: str) -> bool:
    return path == fld or path.startswith(fld + ".") or path.startswith(fld + "[")


def described_diffs(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
                    before_terms: Sequence[Term], after_terms: Sequence[Term],
                    ignore: Iterable[str] = ()) -> tuple[FieldDiff, ...]:
    """Field differences in orch.yaml terms first, each next to its engine field; then engine leaves no
    term describes (engine-only rows), so no difference is ever hidden by a missing term.

    `before`/`after` None: the resource is created/deleted. Pure, like `field_diffs`.
    """
    ignore = tuple(ignore)
    stays = before is not None and after is not None
    bt = {t.path or f"~{t.field}": t for t in before_terms}
    at = {t.path or f"~{t.field}": t for t in after_terms}
    described = {t.field for t in (*before_terms, *after_terms)}
    rows: list[FieldDiff] = []
    for key in dict.fromkeys([*at, *bt]):   # in the order the reconciler says them (image, replicas, env...)
        b, a = bt.get(key), at.get(key)
        if b is not None and a is not None and _canonical(b.engine) == _canonical(a.engine) \
                and _canonical(b.value) == _canonical(a.value):
            continue
        one = a or b
        if _ignored(one.field, ignore) or (not one.path and not stays):
            continue   # bookkeeping comes and goes with its resource
        rows.append(FieldDiff(one.field, b.engine if b else None, a.engine if a else None,
                              one.path, b.value if b else None, a.value if a else None))
    lb, la = _leaves(dict(before or {})), _leaves(dict(after or {}))
    for path in sorted(set(lb) | set(la)):
        bv, av = lb.get(path), la.get(path)
        if (path in lb) == (path in la) and _canonical(bv) == _canonical(av):
            continue
        if _ignored(path, ignore) or any(_under(path, f) for f in described):
            continue
        rows.append(FieldDiff(path, bv, av))
    return tuple(rows)


def resource_diffs(have: Resource | None, want: Resource | None, terms: TermsHook | None = None,
                   ignore: Iterable[str] = ()) -> tuple[FieldDiff, ...]:
    """The field differences of one resource: in orch.yaml terms when `terms` describes both sides."""
    bt = terms(have) if terms and have is not None else ()
    at = terms(want) if terms and want is not None else ()
    if terms is None or bt is None or at is None:
        return field_diffs(dict(have.spec) if have else {}, dict(want.spec) if want else {}, ignore)
    return described_diffs(dict(have.spec) if have else None, dict(want.spec) if want else None, bt, at, ignore)


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
    terms: TermsHook | None = None,
) -> list[Change]:
    """The generic pure diff: create what is missing, update what differs, delete what left.

    Live resources Jarvis does not own are never updated or deleted: a desired resource whose
    name is taken by a foreign one yields no change but an error-less `reason` for the caller
    to surface (it is reported by the reconciler, which knows whether adoption was asked).
    `terms`: the reconciler's hook that says each field in orch.yaml terms (see `Term`).
    """
    live_by_key = {r.key: r for r in live}
    changes: list[Change] = []
    seen: set[str] = set()
    for want in sorted(desired, key=lambda r: r.key):
        seen.add(want.key)
        have = live_by_key.get(want.key)
        if have is None:
            changes.append(Change(target, want.key, Action.CREATE,
                                  fields=resource_diffs(None, want, terms),
                                  risk=_risk(Action.CREATE, want.type), protected=want.protected,
                                  desired=dict(want.spec)))
            continue
        if not have.owned:
            continue
        if dict(have.spec) == dict(want.spec) and _canonical(have.spec) == _canonical(want.spec):
            continue
        diffs = resource_diffs(have, want, terms, ignore=want.ignore + have.ignore)
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
                                  fields=resource_diffs(have, None, terms),
                                  risk=Risk.HIGH, protected=have.protected, live_id=have.id))
    return changes

