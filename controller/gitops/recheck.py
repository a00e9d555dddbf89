"""Manifests checked again when a connection they name changes, at once (not at the next drift sync).

A manifest's validity depends on which connections exist ("unknown connection 'cf-main'") and on
their credential keys (`from: connection:NAME/KEY`), and the version in force at a revision depends
on which earlier versions are valid. So when a connection is added, renamed, deleted or changed,
every stored version whose outcome can change is checked again and the result stored (errors,
validity, the version in force at each revision); and the sources whose manifests name the
connection are asked to sync, so plans follow (also for a changed address or environment, which
leave validity as it is).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller import connections
from controller.gitops import in_force
from controller.store.models import Manifest, Source, utcnow

UNKNOWN = "unknown connection"   # the manifest check's words (controller/manifests/checks.py)


def connection_written(db: Session, before: str | None, after: str | None) -> set[int]:
    """After a connection was created (`before` None), deleted (`after` None), renamed or changed."""
    if before == after:
        return connections_changed(db, changed=[after or ""])
    return connections_changed(db, added=[after] if after else [], removed=[before] if before else [])


def connections_changed(db: Session, *, added: Iterable[str] = (), removed: Iterable[str] = (),
                        changed: Iterable[str] = ()) -> set[int]:
    """After connections named `added` appeared, `removed` went, or `changed` were edited in `db`'s
    transaction: re-checks and stores what depends on them; returns the ids of the sources asked to sync."""
    added, removed, changed = set(added) - {""}, set(removed) - {""}, set(changed) - {""}
    db.flush()
    known = connections.credential_keys(db)   # what a sync checks against (names and credential keys)
    rows: dict[int, Manifest] = {}
    if added:   # every version refused for an unknown connection (its hint lists the known ones, too)
        for m in db.scalars(select(Manifest).where(Manifest.valid.is_(False))):
            if any(UNKNOWN in str(e) for e in m.errors or []):
                rows[m.id] = m
    # a version naming a connection that went or whose credential keys changed: valid or not, it may flip
    for name in removed | changed:
        for m in db.scalars(select(Manifest).where(Manifest.content.contains(name, autoescape=True))):
            if names_connection(m, name):
                rows[m.id] = m
    touched = {(m.source_id, m.path) for m in rows.values() if in_force.store_check(m, known)}
    for source_id, path in sorted(touched):
        in_force.resolve_stored(db, source_id, path)
    sources = {sid for sid, _ in touched} | _naming(db, added | removed | changed)
    if sources:
        db.execute(update(Source).where(Source.id.in_(sources), Source.enabled.is_(True))
                   .values(sync_requested_at=utcnow(), sync_reason="connection"))
    db.flush()
    return sources


def _naming(db: Session, names: set[str]) -> set[int]:
    """Sources whose manifests at their last revision name one of `names`."""
    out: set[int] = set()
    for name in names:
        for m in db.scalars(select(Manifest).join(Source, Source.id == Manifest.source_id).where(
                Manifest.revision == Source.last_revision, Manifest.content.contains(name, autoescape=True))):
            if names_connection(m, name):
                out.add(m.source_id)
    return out


def names_connection(m: Manifest, name: str) -> bool:
    """Whether the stored version names connection `name`: a valid one in `connections:` or in a
    `from: connection:NAME/KEY` secret; an invalid one in an error about that connection."""
    desired = m.desired or {}
    if name in (desired.get("connections") or {}).values():
        return True
    refs = (str((s or {}).get("from_") or (s or {}).get("from") or "") for s in (desired.get("secrets") or {}).values())
    if any(r.startswith(f"connection:{name}/") for r in refs):
        return True
    return any(f"connection {name!r}" in str(e) for e in m.errors or [])
