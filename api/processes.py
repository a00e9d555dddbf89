"""The composition root of every Jarvis process: which parts run, and how they are wired together.

The parts never import upward: the jobs engine does not know the GitOps loop, so the loop's after-job
hook (a finished apply records its plan's outcome and asks for the verifying sync) is handed to the
jobs service here, by `jobs_service`, in every process that runs a worker: `jarvis serve` (beside the
API; embedded it always runs one, nothing else would), `jarvis worker`, and tests that run jobs.
"""

from __future__ import annotations

import logging

from controller.backups import schedule as backup_schedule
from controller.backups.service import BackupScheduler
from controller.gitops import outcomes
from controller.gitops.service import start_controller
from controller.jobs.service import JobsService
from controller.notifications import events as notify_events
from controller.notifications.delivery import Dispatcher
from controller.process import run_until_signalled
from controller.runtime import Runtime
from controller.settings import Settings

log = logging.getLogger(__name__)
AFTER_JOB = (outcomes.job_finished, backup_schedule.job_finished, notify_events.job_finished)


def jobs_service(rt: Runtime) -> JobsService:
    """The process's jobs service, with every part's after-job hooks."""
    svc = JobsService.of(rt)
    for hook in AFTER_JOB:
        svc.add_after_job(hook)
    return svc


def start(rt: Runtime) -> list:
    """What `jarvis serve` runs beside the API: the worker and sweeper, and the reconcile loop."""
    parts = []
    jobs = jobs_service(rt)
    if rt.settings.run_worker or rt.redis is None:
        parts.append(jobs.start_worker())
        parts.append(jobs.start_sweeper())
        parts.append(Dispatcher(rt).start())      # notifications are sent where jobs run
    if rt.settings.run_controller:
        ctl = start_controller(rt)
        parts.append(ctl)
        # backups fire on the leading controller only (the lease the reconcile loop holds)
        parts.append(BackupScheduler(rt, jobs, lambda: ctl.lease.leading).start())
    return parts


def stop(parts: list) -> None:
    for part in reversed(parts):
        try:
            part.stop()
        except Exception:
            log.exception("stopping %s failed", part)


def run_worker(settings: Settings) -> int:
    """`jarvis worker`: runs until SIGTERM/SIGINT."""
    rt = Runtime.start(settings, first_admin=False)
    if rt.redis is None:
        log.warning("JARVIS_REDIS_URL is not set: this worker only sees jobs it queues itself")
    jobs = jobs_service(rt)
    jobs.start_worker()
    jobs.start_sweeper()
    dispatcher = Dispatcher(rt).start()

    def close() -> None:
        dispatcher.stop()
        rt.close()
    return run_until_signalled(close)   # closing the runtime stops its services


def run_controller(settings: Settings) -> int:
    """`jarvis controller`: the reconcile loop alone (leader-elected); its plans are queued as jobs."""
    rt = Runtime.start(settings, first_admin=False)
    JobsService.of(rt)
    start_controller(rt)
    return run_until_signalled(rt.close)   # closing the runtime stops the controller and the jobs service
