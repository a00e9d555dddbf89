"""The pure Cloudflare diff: normalised desired records against normalised live records.

Records are matched per (name, type) group, because several records may share a name and type
(round-robin A, several TXT, MX): first by value, then the remaining owned records are paired
in order (a value change is an update, not a delete and a create). Live records Jarvis does
not own are never updated or deleted; a manifest record with `adopt: true` takes one over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from controller.plans import Action, Change, FieldDiff, Resource, Risk, resource_diffs

from .normalise import identity
from .terms import record_prefix, record_terms

RECORD = "record"


def record_keys(specs: Iterable[Mapping[str, Any]]) -> list[str]:
    """A unique, readable name per record: `name/TYPE`, plus the value when the set has several."""
    specs = list(specs)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for s in specs:
        counts[(s["name"], s["type"])] += 1
    keys = []
    for s in specs:
        base = f"{s['name']}/{s['type']}"
        keys.append(base if counts[(s["name"], s["type"])] == 1 else f"{base}/{identity(s)}")
    return keys


def _group(resources: Iterable[Resource]) -> dict[tuple[str, str], list[Resource]]:
    out: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for r in resources:
        out[(r.spec["name"], r.spec["type"])].append(r)
    for rs in out.values():
        rs.sort(key=lambda r: (identity(r.spec), r.id or ""))
    return out


def _create(target: str, want: Resource) -> Change:
    # a create or a delete shows the whole record, zone included, in orch.yaml terms
    return Change(target, want.key, Action.CREATE, fields=resource_diffs(None, want, record_terms),
                  risk=Risk.LOW, protected=want.protected, desired=dict(want.spec))


def _update(target: str, want: Resource, have: Resource, adopting: bool) -> Change | None:
    fields = resource_diffs(have, want, record_terms, ignore=want.ignore)
    if adopting:
        fields = (*fields, FieldDiff("owner", None, "jarvis", f"{record_prefix(dict(want.spec))}.adopt", None, True))
    if not fields:
        return None
    return Change(target, want.key, Action.UPDATE, fields=fields, risk=Risk.MEDIUM,
                  protected=want.protected or have.protected, desired=dict(want.spec), live_id=have.id,
                  reason="adopt" if adopting else "")


def _delete(target: str, have: Resource) -> Change:
    return Change(target, have.key, Action.DELETE, fields=resource_diffs(have, None, record_terms),
                  risk=Risk.HIGH, protected=have.protected, live_id=have.id)


def diff_records(target: str, desired: Iterable[Resource], live: Iterable[Resource], *, prune: bool,
                 adopt: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Change]:
    """Changes that make the owned live records equal the desired ones.

    `adopt`: desired keys allowed to take over a record Jarvis does not own. `skip`: names
    (`name/TYPE`) whose manifest record was invalid, so their live records are left alone.
    """
    adopt, skip = set(adopt), set(skip)
    want_groups, have_groups = _group(desired), _group(live)
    desired_names = {name for name, _ in want_groups}
    changes: list[Change] = []
    for gkey in sorted(set(want_groups) | set(have_groups)):
        wants = list(want_groups.get(gkey, []))
        haves = list(have_groups.get(gkey, []))
        # 1. same value on both sides
        for want in list(wants):
            have = next((h for h in haves if identity(h.spec) == identity(want.spec)), None)
            if have is None:
                continue
            if not have.owned and want.key not in adopt:
                wants.remove(want)   # foreign record: reported by conflicts(), never touched
                haves.remove(have)
                continue
            wants.remove(want)
            haves.remove(have)
            if (c := _update(target, want, have, adopting=not have.owned)) is not None:
                changes.append(c)
        # 2. remaining owned (or adoptable) records take the remaining values, in order
        for want in list(wants):
            have = next((h for h in haves if h.owned or want.key in adopt), None)
            if have is None:
                break
            wants.remove(want)
            haves.remove(have)
            if (c := _update(target, want, have, adopting=not have.owned)) is not None:
                changes.append(c)
        name, rtype = gkey
        # 3. what is still wanted is created (a CNAME held by a foreign record is a conflict instead)
        if not (rtype == "CNAME" and any(not h.owned for h in haves)):
            changes.extend(_create(target, w) for w in wants)
        # 4. owned leftovers go when pruning, or when they block the desired type (CNAME vs others)
        blocking = name in desired_names and gkey not in want_groups and (
            rtype == "CNAME" or any(t == "CNAME" for n, t in want_groups if n == name))
        if f"{name}/{rtype}" in skip:
            continue
        changes.extend(_delete(target, h) for h in haves if h.owned and (prune or blocking))
    order = {Action.DELETE: 0, Action.UPDATE: 1, Action.CREATE: 2}
    return sorted(changes, key=lambda c: (order[c.action], c.resource))


def conflicts(desired: Iterable[Resource], live: Iterable[Resource], adopt: Iterable[str] = ()) -> list[str]:
    """Desired records held by a live record Jarvis does not own and was not asked to adopt."""
    adopt = set(adopt)
    have_groups = _group(live)
    out = []
    for want in desired:
        if want.key in adopt:
            continue
        haves = have_groups.get((want.spec["name"], want.spec["type"]), [])
        same = [h for h in haves if identity(h.spec) == identity(want.spec)]
        foreign_cname = want.spec["type"] == "CNAME" and haves and not any(h.owned for h in haves)
        if (same and not same[0].owned) or foreign_cname:
            out.append(f"{RECORD}/{want.name}: exists and is not managed by Jarvis "
                       f"(set adopt: true on the record to take it over)")
    return out
