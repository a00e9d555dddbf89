"""The backup scheduler of a controller process: every few seconds, on the leader only, bring the
schedule rows in step with the manifests in force and start the backups whose slot has come."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from controller.backups import schedule
from controller.runtime import Runtime

log = logging.getLogger(__name__)
TICK_S = 5


class BackupScheduler:
    def __init__(self, rt: Runtime, jobs, leading: Callable[[], bool], tick_s: float = TICK_S) -> None:
        self.rt, self.jobs, self.leading, self.tick_s = rt, jobs, leading, tick_s
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})

    def start(self) -> BackupScheduler:
        self.scheduler.add_job(self.tick, "interval", seconds=self.tick_s, id="backups")
        self.scheduler.start()
        return self

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def tick(self) -> list[int]:
        if not self.leading():
            return []
        try:
            with self.rt.db.session() as db:
                schedule.sync_entries(db, self.jobs.catalog)
            return schedule.fire_due(self.rt, self.jobs)
        except Exception:
            log.exception("backup schedule tick failed")
            return []
