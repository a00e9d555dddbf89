"""Which version of a manifest is in force at a revision, stored with the manifest's row.

A valid manifest is in force at its own revision. An invalid one keeps in force the last valid
version in commit order: the nearest first-parent ancestor whose stored version is valid (not
the newest valid row, which after a force push or a revert can be a version no longer in the
history). A working tree has no history: there the order is the order of syncs, so the version in
force at the previously synced revision stays in force.
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


def store_and_resolve(db, source_id: int, path: str, sha: str, raw: bytes,
                      known: Collection[str] | Mapping[str, Collection[str]],
                      history: list[str] | None, previous: str | None,
                      runbook_inputs: RunbookInputs | None = None) -> InForce:
    """Parse, store (or refresh) this revision's row, and find the version in force. `runbook_inputs`
    checks the `backups:` entries against the runbook catalog."""
    parsed, text, errors = check(raw, path, known, runbook_inputs)
    valid = parsed is not None and not errors
    row = db.scalar(select(Manifest).where(Manifest.source_id == source_id, Manifest.path == path,
                                           Manifest.revision == sha))
    if row is None:
        row = Manifest(source_id=source_id, path=path, revision=sha, content=text)
        db.add(row)
    # stored again on every sync: what the manifest refers to (connections) may have changed
    row.valid, row.errors = valid, errors
    row.name = parsed.manifest.name if valid else ""
    row.desired = parsed.manifest.model_dump(mode="json", exclude_none=True) if valid else {}
    if valid:
        row.in_force_revision = sha
        db.flush()
        return InForce(parsed.manifest, sha, True, [])
    good = _last_valid(db, source_id, path, sha, history, previous)
    row.in_force_revision = good.revision if good is not None else None
    db.flush()
    if good is None:
        return InForce(None, None, False, errors)
    again = parse_manifest(good.content, path)   # references were checked when it was stored
    return InForce(again.manifest if not again.errors else None, good.revision, False, errors)


def _last_valid(db, source_id: int, path: str, sha: str, history: list[str] | None,
                previous: str | None) -> Manifest | None:
    if history is not None:
        earlier = [h for h in history if h != sha]
        rows = {m.revision: m for m in db.scalars(select(Manifest).where(
            Manifest.source_id == source_id, Manifest.path == path, Manifest.valid.is_(True),
            Manifest.revision.in_(earlier)))} if earlier else {}
        return next((rows[h] for h in earlier if h in rows), None)
    if not previous or previous == sha:
        return None
    prev = db.scalar(select(Manifest).where(Manifest.source_id == source_id, Manifest.path == path,
                                            Manifest.revision == previous))
    if prev is None or not prev.in_force_revision:
        return None
    return db.scalar(select(Manifest).where(Manifest.source_id == source_id, Manifest.path == path,
                                            Manifest.revision == prev.in_force_revision, Manifest.valid.is_(True)))
