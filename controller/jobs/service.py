"""Wires the jobs engine into a process: the catalog, the queue, the bus, workers and the sweeper.

Embedded (no JARVIS_REDIS_URL): an in-process queue and bus, the worker in the API process.
Full stack: a Redis stream and pub/sub; `jarvis worker` processes run the jobs. What other parts do
when a job ends (the GitOps loop records a plan's outcome) they hand in with `add_after_job`: the
jobs engine never imports them (the process's composition root, `api/processes.py`, does).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from controller import registry
from controller.jobs import submit
from controller.jobs.bus import Bus, MemoryBus, RedisBus
from controller.jobs.catalog import Catalog, load_catalog
from controller.jobs.queue import JobQueue, MemoryQueue, RedisQueue
from controller.jobs.sweeper import Sweeper
from controller.jobs.worker import Worker
from controller.runbooks import BUILTIN_DIR
from controller.runtime import Runtime
from controller.settings import Settings
from controller.store.models import Job

log = logging.getLogger(__name__)


def runbook_folders(settings: Settings) -> list[Path]:
    """Built-in runbooks, each reconciler's (`runbooks_dir` on its class), and configured folders."""
    folders = [BUILTIN_DIR]
    for cls in registry.reconciler_classes().values():
        folder = getattr(cls, "runbooks_dir", None)
        if folder and Path(folder).is_dir():
            folders.append(Path(folder))
    return folders + list(settings.runbook_paths)


class JobsService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.catalog: Catalog = load_catalog(runbook_folders(rt.settings))
        for problem in self.catalog.errors:
            log.error("runbook left out of the catalog: %s", problem, extra={"event": "runbook.invalid"})
        if rt.redis is not None:
            self.queue: JobQueue = RedisQueue(rt.redis)
            self.bus: Bus = RedisBus(rt.redis, rt.settings.redis_url)
        else:
            self.queue, self.bus = MemoryQueue(), MemoryBus()
        self.after_job: list = []        # hooks (session, job_id, status) run as a job's final status is stored
        self.workers: list[Worker] = []
        self.sweeper: Sweeper | None = None

    @classmethod
    def of(cls, rt: Runtime) -> JobsService:
        svc = rt.services.get("jobs")
        if svc is None:
            svc = rt.services["jobs"] = cls(rt)
        return svc

    def add_after_job(self, hook) -> None:
        """`hook(session, job_id, status)` runs in the transaction that stores a job's final status."""
        if hook not in self.after_job:
            self.after_job.append(hook)

    # -- submitting ------------------------------------------------------------------------------
    def enqueue(self, db: Session, req: submit.JobRequest) -> Job:
        """Commits the job row, then queues it (a queue outage leaves it for the sweeper)."""
        job = submit.create(db, self.rt.secrets, req)
        db.commit()
        try:
            self.queue.put(job.id)
        except Exception:
            log.exception("queueing job %s failed; the sweeper will queue it", job.id)
        return job

    def run_runbook(self, db: Session, name: str, input, *, user_email: str, user_role: str,
                    trigger: str = "manual") -> Job:
        req = submit.runbook_request(db, self.catalog, name, input, user_email=user_email, user_role=user_role,
                                     trigger=trigger)
        return self.enqueue(db, req)

    def rerun(self, db: Session, job: Job, by: str) -> Job:
        return self.enqueue(db, submit.rerun_request(self.rt.secrets, job, by))

    # -- running ---------------------------------------------------------------------------------
    def start_worker(self, concurrency: int | None = None) -> Worker:
        w = Worker(self.rt, self.queue, self.bus, concurrency or self.rt.settings.worker_concurrency,
                   on_finished=self.after_job).start()
        self.workers.append(w)
        return w

    def start_sweeper(self) -> Sweeper:
        if self.sweeper is None:
            s = self.rt.settings
            self.sweeper = Sweeper(self.rt.db, self.queue, self.bus, s.sweep_interval_seconds,
                                   s.job_lease_seconds).start()
        return self.sweeper

    def stop(self) -> None:
        workers, self.workers = self.workers, []
        for w in workers:
            w.stop()
        if self.sweeper:
            self.sweeper.stop()
            self.sweeper = None
