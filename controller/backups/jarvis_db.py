"""Jarvis's own embedded database (SQLite) into a restic repository and back.

The backup is SQLite's online backup API (`sqlite3.Connection.backup`): a consistent copy taken while
the controller keeps writing, into a private temporary file, then streamed into one snapshot file
`jarvis.db` tagged `jarvis-db`. A restore writes the snapshot into a new file (never over the live one)
and opens it to prove it is a database. PostgreSQL deployments back up Jarvis's database with the
backup-postgres runbook (controller.backups.postgres).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from controller.backups.restic import Repository, copy_stream, pick_snapshot

TAG = "jarvis-db"
FILENAME = "jarvis.db"


def backup_sqlite(path: str | Path, repo: Repository) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="jarvis-dbcopy-"))
    try:
        copy = tmp / FILENAME
        src, dst = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        with copy.open("rb") as fh:
            return repo.backup_stream(lambda out: copy_stream(fh, out), FILENAME, ["jarvis", TAG])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def restore_sqlite(repo: Repository, into: str | Path, snapshot: str = "latest") -> dict[str, Any]:
    """Into `into`, which must not exist; returns the snapshot and the tables with their row counts."""
    into = Path(into)
    if into.exists():
        raise FileExistsError(f"{into} exists: restore into a new file, then swap it in with the controller stopped")
    snap = pick_snapshot(repo, TAG, snapshot)
    with into.open("wb") as out:
        repo.dump(snap["id"], FILENAME, lambda src: copy_stream(src, out))
    with sqlite3.connect(f"file:{into}?mode=ro", uri=True) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        tables = {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    return {"snapshot_id": snap["id"], "file": str(into), "tables": tables}
