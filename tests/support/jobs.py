"""Waiting for a job to reach a status, as the tests of every part need; a job row that stays running."""

from __future__ import annotations

import time

from controller.store.models import FINAL, Job


def wait_job(rt, job_id: int, timeout: float = 120, statuses=FINAL) -> Job:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with rt.db.session() as s:
            job = s.get(Job, job_id)
            if job.status in statuses:
                s.expunge(job)
                return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach {statuses} in {timeout}s")


def running_job(database_url: str) -> int:
    """A job row that stays running (no worker claims it): a WebSocket on it stays open."""
    from controller.store.db import Database

    db = Database(database_url)
    try:
        with db.session() as s:
            job = Job(runbook="restart-service", status="running")
            s.add(job)
            s.flush()
            return job.id
    finally:
        db.dispose()
