"""Jarvis's own embedded database backed up with SQLite's online backup while a writer holds it open,
restored into a new file from the restic snapshot, and compared table by table; the live file is never
overwritten."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from controller.backups.jarvis_db import backup_sqlite, restore_sqlite
from controller.backups.restic import Repository
from controller.contract import ConnectionInfo
from tests.backups.conftest import PASSWORD


def test_the_embedded_database_is_backed_up_online_and_restored_into_a_new_file(tmp_path):
    location = tmp_path / "repo"
    subprocess.run(["restic", "init"], env={"RESTIC_REPOSITORY": str(location), "RESTIC_PASSWORD": PASSWORD,
                                            "PATH": "/usr/bin:/bin"}, check=True, capture_output=True)
    live = tmp_path / "jarvis.db"
    writer = sqlite3.connect(live)
    writer.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
    writer.executemany("INSERT INTO jobs (name) VALUES (?)", [(f"job-{i}",) for i in range(500)])
    writer.commit()
    writer.execute("INSERT INTO jobs (name) VALUES ('uncommitted')")     # an open transaction: not in the copy
    repo = Repository(ConnectionInfo(name="r", type="backup-repository", config={"repository": str(location)},
                                     secrets={"password": PASSWORD}))
    with repo:
        summary = backup_sqlite(live, repo)
        assert repo.snapshot(summary["snapshot_id"]) is not None
        writer.rollback()
        writer.execute("DELETE FROM jobs")                                   # the data lost after the backup
        writer.commit()
        with pytest.raises(FileExistsError, match="restore into a new file"):
            restore_sqlite(repo, live)
        restored = restore_sqlite(repo, tmp_path / "restored.db")
    writer.close()
    assert restored["tables"] == {"jobs": 500}
    with sqlite3.connect(tmp_path / "restored.db") as db:
        assert db.execute("SELECT min(name), max(id) FROM jobs").fetchone() == ("job-0", 500)
    with sqlite3.connect(live) as db:
        assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,)
