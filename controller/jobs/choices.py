"""Live choices for runbook inputs: `x-jarvis-choices: <kind>.<collection>` on a string property.

A runbook input that names something on a target (a Swarm service, a record...) offers the names the
last observation of that kind's targets saw: the keys of `target_status.health[<collection>]`
(`swarm.services` → the services the Swarm reconciler reported). Free text stays allowed: a choice
is a suggestion, the observation may be older than the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.store.models import TargetStatus

KEYWORD = "x-jarvis-choices"


def _wanted(schema: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """{input name: (kind, collection)} for the top-level properties that ask for choices."""
    out = {}
    for name, prop in ((schema or {}).get("properties") or {}).items():
        ref = prop.get(KEYWORD) if isinstance(prop, Mapping) else None
        if isinstance(ref, str) and "." in ref:
            kind, _, collection = ref.partition(".")
            out[name] = (kind, collection)
    return out


def resolve(db: Session, schema: Mapping[str, Any], connection: str | None = None) -> dict[str, list[str]]:
    """The names each choosing input may offer, sorted; only targets on `connection` when it is given."""
    wanted = _wanted(schema)
    if not wanted:
        return {}
    q = select(TargetStatus).where(TargetStatus.kind.in_({k for k, _ in wanted.values()}))
    if connection:
        q = q.where(TargetStatus.connection == connection)
    rows = db.scalars(q).all()
    out = {}
    for name, (kind, collection) in wanted.items():
        names = set()
        for row in rows:
            found = (row.health or {}).get(collection) if row.kind == kind else None
            if isinstance(found, Mapping):
                names.update(str(k) for k in found)
        out[name] = sorted(names)
    return out
