"""Which version of a manifest is in force at a revision, stored with the manifest's row.

A valid manifest is in force at its own revision. An invalid one keeps in force the last valid
version in commit order: the nearest first-parent ancestor whose stored version is valid (not
the newest valid row, which after a force push or a revert can be a version no longer in the
history). A working tree has no history: there the order is the order of syncs, so the version in
force at the previously synced revision stays in force.

Each row also links to the row of the same file at the nearest earlier revision
(`previous_revision`). A sync finds the version in force from the repository's history; a re-check
without the repository (a connection was added or removed: `recheck`) walks these links.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from controller.manifests.checks import RunbookInputs
from controller.manifests.loader import parse_manifest
from controller.store.models import Manifest


@dataclass
class InForce:
    manifest: Any | None          # the model in force, or None when no valid version exists
    revision: str | None          # the revision whose version is in force
    valid: bool                   # whether the version at this revision itself is valid
    errors: list[str]             # this revision's errors (file:line:column)


def check(raw: bytes | str, path: str, known: Collection[str] | Mapping[str, Collection[str]],
          runbook_inputs: RunbookInputs | None = None):
    """(parse result or None, errors as text) for one manifest's bytes."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return None, "", [f"{path}: not UTF-8 text"]
    parsed = parse_manifest(text, path, known_connections=known, runbook_inputs=runbook_inputs)
    return parsed, text, [str(e) for e in parsed.errors]


def store_check(row: Manifest, known: Collection[str] | Mapping[str, Collection[str]]) -> bool:
    """Checks the row's text again against `known` connections and stores the outcome; whether it changed."""
    parsed, _, errors = check(row.content, row.path, known)
    return _store(row, parsed, errors)


def _store(row: Manifest, parsed, errors: list[str]) -> bool:
    valid = parsed is not None and not errors
    before = (row.valid, list(row.errors or []))
    row.valid, row.errors = valid, errors
    row.name = parsed.manifest.name if valid else ""
    row.desired = parsed.manifest.model_dump(mode="json", exclude_none=True) if valid else {}
    return before != (valid, errors)


def store_and_resolve(db, source_id: int, path: str, sha: str, raw: bytes,
                      known: Collection[str] | Mapping[str, Collection[str]],
                      history: list[str] | None, previous: str | None,
                      runbook_inputs: RunbookInputs | None = None) -> InForce:
    """Parse, store (or refresh) this revision's row, and find the version in force. `runbook_inputs`
    checks the `backups:` entries against the runbook catalog."""
    parsed, text, errors = check(raw, path, known, runbook_inputs)
    row = db.scalar(select(Manifest).where(Manifest.source_id == source_id, Manifest.path == path,
                                           Manifest.revision == sha))
    if row is None:
        row = Manifest(source_id=source_id, path=path, revision=sha, content=text)
        db.add(row)
    # stored again on every sync: what the manifest refers to (connections) may have changed
    _store(row, parsed, errors)
    good = _link_and_find(db, row, history, previous)
    row.in_force_revision = sha if row.valid else (good.revision if good is not None else None)
    db.flush()
    if row.valid:
        return InForce(parsed.manifest, sha, True, [])
    if good is None:
        return InForce(None, None, False, errors)
    again = parse_manifest(good.content, path)   # references were checked when it was stored
    return InForce(again.manifest if not again.errors else None, good.revision, False, errors)


def _link_and_find(db, row: Manifest, history: list[str] | None, previous: str | None) -> Manifest | None:
    """Sets `row.previous_revision`; returns the last valid earlier version in commit order, or None."""
    rows = {m.revision: m for m in db.scalars(select(Manifest).where(
        Manifest.source_id == row.source_id, Manifest.path == row.path, Manifest.revision != row.revision))}
    if history is not None:
        earlier = [rows[h] for h in history if h != row.revision and h in rows]
        row.previous_revision = earlier[0].revision if earlier else None
        return next((m for m in earlier if m.valid), None)
    if previous and previous != row.revision:    # a working tree: the previous sync came before
        row.previous_revision = previous if previous in rows else None
    good = walk(rows, rows.get(row.previous_revision or ""))
    return rows[good] if good is not None else None


def walk(rows: Mapping[str, Manifest], start: Manifest | None) -> str | None:
    """The first valid revision on the chain of earlier versions from `start` (inclusive), or None.

    A row stored before the links existed ends the chain: the version it was given at its own sync
    stays in force if that version is still valid."""
    seen: set[str] = set()
    cur = start
    while cur is not None and cur.revision not in seen:
        if cur.valid:
            return cur.revision
        seen.add(cur.revision)
        if cur.previous_revision is None:
            kept = rows.get(cur.in_force_revision or "")
            return kept.revision if kept is not None and kept.valid and kept.revision not in seen else None
        cur = rows.get(cur.previous_revision)
    return None


def resolve_stored(db, source_id: int, path: str) -> None:
    """Finds again, for every stored revision of one manifest, the version in force (after a re-check)."""
    rows = {m.revision: m for m in db.scalars(select(Manifest).where(Manifest.source_id == source_id,
                                                                     Manifest.path == path))}
    found = {sha: walk(rows, row) for sha, row in rows.items()}
    for sha, revision in found.items():
        rows[sha].in_force_revision = revision
