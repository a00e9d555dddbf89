"""`backups:` entries of the manifests in force become stored schedules that fire as jobs: a slot missed
while no controller ran is caught up once, never twice; a per-minute schedule fires on its own; a
failed backup opens an incident; a removed entry loses its schedule; GET /api/backups tells the truth."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
from sqlalchemy import select, update

from controller.backups.service import BackupScheduler
from controller.incidents import ACTIVE
from controller.jobs.service import JobsService
from controller.store.models import BackupSchedule, Incident, Job, utcnow
from tests.backups.conftest import manifest_with_backups as _manifest
from tests.support import pg
from tests.support.jobs import wait_job


def _rows(rt, source_id: int) -> list[BackupSchedule]:
    with rt.db.session() as s:
        rows = s.scalars(select(BackupSchedule).where(BackupSchedule.source_id == source_id)
                         .order_by(BackupSchedule.name)).all()
        s.expunge_all()
        return rows


def _scheduler(rt) -> BackupScheduler:
    return BackupScheduler(rt, JobsService.of(rt), lambda: True)


def test_a_missed_slot_runs_once_the_result_is_recorded_and_a_failure_opens_an_incident(
        backup_client, backup_rt, viewer, repository):
    db_name = pg.create_database("jarvis_sched")
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1/{db_name}", autocommit=True) as c:
            c.execute("CREATE TABLE t AS SELECT generate_series(1, 10) AS x")
        src = _manifest(backup_rt, f"""\
  - {{name: db, runbook: backup-postgres, schedule: "0 3 * * *", with: {{database: {db_name}, repository: {repository}, keep: 3}}}}
  - {{name: gone-db, runbook: backup-postgres, schedule: "0 4 * * *", with: {{database: jarvis_no_such_db, repository: {repository}}}}}
  - {{name: typo, runbook: backup-postgres, schedule: "0 4 * * *", with: {{databse: x, repository: {repository}}}}}
""")
        sched = _scheduler(backup_rt)
        assert sched.tick() == []                                   # stored; nothing is due yet
        db_row, gone, typo = _rows(backup_rt, src)
        assert db_row.next_run_at > utcnow() and db_row.last_status == "never"
        assert typo.last_status == "invalid" and "'databse' was unexpected" in typo.error and typo.next_run_at is None

        # the controller was down across three slots: one catch-up run each, not three
        with backup_rt.db.session() as s:
            s.execute(update(BackupSchedule).where(BackupSchedule.source_id == src)
                      .values(next_run_at=utcnow() - dt.timedelta(days=3)))
        started = sched.tick()
        assert len(started) == 2 and sched.tick() == []
        jobs = {wait_job(backup_rt, j).runbook for j in started}
        assert jobs == {"backup-postgres"}

        db_row, gone, typo = _rows(backup_rt, src)
        assert db_row.last_status == "success" and db_row.snapshot_count == 1 and db_row.last_snapshot_id
        assert db_row.next_run_at > utcnow()
        assert gone.last_status == "error" and "pg_dump" in gone.last_error

        listed = {b["name"]: b for b in backup_client.get("/api/backups", headers=viewer.headers).json()}
        assert listed["db"]["status_text"].startswith("ok: snapshot") and listed["db"]["repository"] == repository
        assert listed["gone-db"]["status_text"].startswith("failed:") and listed["gone-db"]["incident_id"]
        assert listed["typo"]["status_text"].startswith("invalid:")
        detail = backup_client.get(f"/api/backups/{db_row.id}", headers=viewer.headers).json()
        assert [s["id"] for s in detail["snapshots"]] == [db_row.last_snapshot_id] and detail["snapshots_error"] == ""
        with backup_rt.db.session() as s:
            inc = s.scalar(select(Incident).where(Incident.fingerprint == f"backup:{gone.key}",
                                                  Incident.state.in_(ACTIVE)))
            assert inc is not None and inc.origin == "backup" and inc.job_id == gone.last_job_id

        # the entry removed from the manifest: its schedule goes
        _manifest(backup_rt, f"""\
  - {{name: db, runbook: backup-postgres, schedule: "0 3 * * *", with: {{database: {db_name}, repository: {repository}}}}}
""", src, rev="r2")
        sched.tick()
        assert [r.name for r in _rows(backup_rt, src)] == ["db"]
    finally:
        pg.drop_database(db_name)


def test_a_per_minute_schedule_fires_by_itself(backup_client, backup_rt, repository):
    db_name = pg.create_database("jarvis_sched")
    try:
        src = _manifest(backup_rt, f"""\
  - {{name: every-minute, runbook: backup-postgres, schedule: "* * * * *", with: {{database: {db_name}, repository: {repository}}}}}
""")
        sched = BackupScheduler(backup_rt, JobsService.of(backup_rt), lambda: True, tick_s=1).start()
        try:
            deadline = time.time() + 90          # the next minute boundary, plus the tick
            while not [r for r in _rows(backup_rt, src) if r.last_job_id]:
                assert time.time() < deadline, "the per-minute schedule did not fire"
                time.sleep(0.5)
        finally:
            sched.stop()
        row = _rows(backup_rt, src)[0]
        job = wait_job(backup_rt, row.last_job_id)
        assert job.status == "success" and job.trigger == "schedule", job.reason
        with backup_rt.db.session() as s:
            assert s.scalar(select(Job.created_by).where(Job.id == job.id)) == "scheduler"
    finally:
        pg.drop_database(db_name)


def test_a_slot_that_comes_while_the_last_run_is_still_going_is_missed_loudly(backup_client, backup_rt, viewer,
                                                                             operator, repository):
    db_name = pg.create_database("jarvis_sched")
    try:
        src = _manifest(backup_rt, f"""\
  - {{name: slow, runbook: backup-postgres, schedule: "0 3 * * *", with: {{database: {db_name}, repository: {repository}}}}}
""")
        sched = _scheduler(backup_rt)
        sched.tick()
        row = _rows(backup_rt, src)[0]
        with backup_rt.db.session() as s:
            # the previous run, still holding its lease (a worker elsewhere is running it)
            held = Job(runbook="backup-postgres", status="running", created_by="scheduler", worker="elsewhere",
                       lease_expires_at=utcnow() + dt.timedelta(hours=1), started_at=utcnow())
            s.add(held)
            s.flush()
            s.execute(update(BackupSchedule).where(BackupSchedule.id == row.id).values(
                last_job_id=held.id, last_status="running", next_run_at=utcnow() - dt.timedelta(hours=1)))
            held_id = held.id
        assert sched.tick() == []                                   # one run at a time: not started again
        row = _rows(backup_rt, src)[0]
        assert row.last_job_id == held_id and row.next_run_at > utcnow()
        fp = f"backup:{row.key}:missed"
        with backup_rt.db.session() as s:
            inc = s.scalar(select(Incident).where(Incident.fingerprint == fp, Incident.state.in_(ACTIVE)))
            assert inc is not None and inc.job_id == held_id and "missed" in inc.title
            inc_id = inc.id
        listed = {b["name"]: b for b in backup_client.get("/api/backups", headers=viewer.headers).json()}
        assert listed["slow"]["incident_id"] == inc_id
        # Run now is refused too while it runs
        r = backup_client.post(f"/api/backups/{row.id}/run", headers=operator.headers)
        assert r.status_code == 409 and "one run at a time" in r.json()["detail"], r.text

        # the held run ends; the next run succeeds and the missed-run incident is resolved by it
        with backup_rt.db.session() as s:
            s.execute(update(Job).where(Job.id == held_id).values(status="canceled", lease_expires_at=None))
        r = backup_client.post(f"/api/backups/{row.id}/run", headers=operator.headers)
        assert r.status_code == 202, r.text
        assert wait_job(backup_rt, r.json()["job_id"]).status == "success"
        with backup_rt.db.session() as s:
            inc = s.get(Incident, inc_id)
            assert inc.state == "resolved" and "a later run succeeded" in inc.resolution["action"]
        listed = {b["name"]: b for b in backup_client.get("/api/backups", headers=viewer.headers).json()}
        assert listed["slow"]["incident_id"] is None and listed["slow"]["last_status"] == "success"
    finally:
        pg.drop_database(db_name)
