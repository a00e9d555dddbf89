"""Settles what crashed: expired leases and pending jobs that lost their queue entry.

Safe to run in every worker and controller at once: each change is a conditional update.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import select, update

from controller.jobs.bus import Bus
from controller.jobs.queue import JobQueue, RedisQueue
from controller.store.db import Database
from controller.store.models import Job, JobStep, utcnow

log = logging.getLogger(__name__)
GRACE = dt.timedelta(seconds=3)


def sweep(db: Database, queue: JobQueue, bus: Bus, lease_seconds: int = 30) -> dict[str, int]:
    now = utcnow()
    counts = {"interrupted": 0, "retried": 0, "requeued": 0}
    with db.session() as s:
        expired = s.execute(select(Job.id, Job.attempt, Job.max_attempts, Job.retry_on, Job.last_counter)
                            .where(Job.status == "running", Job.lease_expires_at < now)).all()
    for job_id, attempt, max_attempts, retry_on, last_counter in expired:
        retry = "interrupted" in (retry_on or []) and attempt < max_attempts
        with db.session() as s:
            cond = (Job.id == job_id, Job.status == "running", Job.lease_expires_at < now)
            if retry:
                res = s.execute(update(Job).where(*cond).values(status="pending", worker=None, lease_expires_at=None,
                                                                reason=f"attempt {attempt} interrupted", queued_at=now))
            else:
                res = s.execute(update(Job).where(*cond).values(status="error", reason="interrupted", worker=None,
                                                                lease_expires_at=None, finished_at=now))
            if res.rowcount != 1:
                continue
            s.execute(update(JobStep).where(JobStep.job_id == job_id, JobStep.status == "running")
                      .values(status="error", finished_at=now))
        if retry:
            queue.put(job_id)
            counts["retried"] += 1
        else:
            bus.publish(job_id, [{"type": "status", "status": "error"},
                                 {"type": "end", "status": "error", "last_counter": last_counter}])
            counts["interrupted"] += 1
        log.warning("job lease expired", extra={"event": "job.interrupted", "job_id": job_id, "retry": retry})

    queued = queue.queued()
    with db.session() as s:
        pending = s.scalars(select(Job.id).where(Job.status == "pending", Job.queued_at < now - GRACE)).all()
    for job_id in pending:
        if job_id not in queued:
            queue.put(job_id)
            counts["requeued"] += 1
    if isinstance(queue, RedisQueue):
        queue.drop_stale(idle_ms=lease_seconds * 3000)
    if counts["requeued"]:
        log.info("pending jobs requeued", extra={"event": "job.requeued", "count": counts["requeued"]})
    return counts


class Sweeper:
    def __init__(self, db: Database, queue: JobQueue, bus: Bus, interval: float, lease_seconds: int) -> None:
        self.args = (db, queue, bus, lease_seconds)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sweep(*self.args)
            except Exception:
                log.exception("sweep failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
