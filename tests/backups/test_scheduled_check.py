"""`check_schedule`: restic check of a backup's repository on a schedule of its own, fired by the
scheduler; a repository that fails it (a pack file deleted from disk) opens an incident and shows on the
backup's row and page; the next passing check after a repair would resolve it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select, update

from controller import connections
from controller.backups.restic import Repository
from controller.backups.service import BackupScheduler
from controller.incidents import ACTIVE
from controller.jobs.service import JobsService
from controller.store.models import BackupSchedule, Incident, utcnow
from tests.backups.conftest import manifest_with_backups
from tests.support.jobs import wait_job


def test_a_scheduled_check_passes_then_fails_on_a_damaged_repository_and_opens_an_incident(
        backup_client, backup_rt, viewer, repository):
    with backup_rt.db.session() as db:
        info = connections.info(backup_rt.secrets, connections.by_name(db, repository))
    with Repository(info) as repo:
        repo.backup_stream(lambda out: out.write(bytes(range(256)) * 4096), "d.bin", ["volume:d"])
    src = manifest_with_backups(backup_rt, f"""\
  - {{name: checked, runbook: backup-postgres, schedule: "@daily", check_schedule: "@hourly", with: {{database: x, repository: {repository}}}}}
""")
    sched = BackupScheduler(backup_rt, JobsService.of(backup_rt), lambda: True)
    assert sched.tick() == []                       # stored; no check slot since it was added
    where = (BackupSchedule.source_id == src)
    with backup_rt.db.session() as s:               # an hour and more went by
        s.execute(update(BackupSchedule).where(where).values(created_at=utcnow() - dt.timedelta(hours=2)))
    started = sched.tick()
    assert len(started) == 1 and sched.tick() == []   # one check per slot, not one per tick
    job = wait_job(backup_rt, started[0])
    assert job.runbook == "check-repository" and job.status == "success", job.reason
    with backup_rt.db.session() as s:
        row = s.scalar(select(BackupSchedule).where(where))
        assert row.check_status == "ok" and row.check_schedule == "@hourly", row.check_detail
        assert sched.tick() == []                   # checked just now: the next slot is within the hour

    # a pack file lost on the repository's disk: the next scheduled check fails loudly
    packs = sorted(p for p in (Path(info.config["repository"]) / "data").rglob("*") if p.is_file())
    packs[0].unlink()
    with backup_rt.db.session() as s:
        s.execute(update(BackupSchedule).where(where).values(checked_at=utcnow() - dt.timedelta(hours=2)))
    started = sched.tick()
    assert len(started) == 1
    job = wait_job(backup_rt, started[0])
    assert job.status == "error", job.reason
    with backup_rt.db.session() as s:
        row = s.scalar(select(BackupSchedule).where(where))
        assert row.check_status == "failed" and "restic check" in row.check_detail, row.check_detail
        incident = s.scalar(select(Incident).where(Incident.fingerprint == f"backup:{row.key}:check",
                                                   Incident.state.in_(ACTIVE)))
        assert incident is not None and incident.title == "Backup checked: repository check failed"
        row_id = row.id
    shown = backup_client.get(f"/api/backups/{row_id}", headers=viewer.headers).json()
    assert shown["check_status"] == "failed" and shown["incident_id"] == incident.id
    assert shown["checks"][0]["kind"] == "check" and shown["checks"][0]["status"] == "failed"
    assert shown["checks"][1]["status"] == "ok"
