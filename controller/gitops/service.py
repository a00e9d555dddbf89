"""The controller process: leader election, timers, and coalesced single-flight syncs.

Anything may ask for a sync (a webhook, "sync now", a poll or drift timer, a watched directory, a
finished apply) by stamping `sources.sync_requested_at`. Only the leader acts on stamps: it clears
a stamp conditionally (a newer one survives) and syncs; a source never has two syncs in flight, and
a burst of requests during a sync becomes one more sync that fetches the newest revision.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select, update

from controller.gitops.leader import LeaderLease
from controller.gitops.loop import sync_source
from controller.gitops.repo import is_worktree
from controller.gitops.watch import DirectoryWatcher
from controller.runtime import Runtime
from controller.settings import REPO_ROOT
from controller.store.models import Source, utcnow

log = logging.getLogger(__name__)
TICK_S = 0.5


def request_sync(rt: Runtime, source_id: int, reason: str) -> None:
    with rt.db.session() as s:
        s.execute(update(Source).where(Source.id == source_id).values(sync_requested_at=utcnow(), sync_reason=reason))


def wake(rt: Runtime) -> None:
    """A sync was just requested and committed: the controller in this process (when it leads) looks
    now instead of at its next tick, so a push is planned in milliseconds, not half a second."""
    ctl = rt.services.get("controller")
    if isinstance(ctl, Controller):
        ctl.tick()


class Controller:
    def __init__(self, rt: Runtime, max_parallel: int = 4) -> None:
        self.rt = rt
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = LeaderLease(rt.db, self.id, rt.settings.leader_lease_seconds)
        self.pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="sync")
        self.in_flight: set[int] = set()
        self._lock = threading.Lock()
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
        self.watchers: dict[int, DirectoryWatcher] = {}
        self.syncs_started = 0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Controller:
        s = self.rt.settings
        self.lease.try_acquire()
        self.scheduler.add_job(self.lease.try_acquire, "interval", seconds=max(1, s.leader_lease_seconds / 3),
                               id="lease")
        self.scheduler.add_job(self.tick, "interval", seconds=TICK_S, id="tick")
        self.scheduler.add_job(self.refresh_schedule, "interval", seconds=5, id="schedule",
                               next_run_time=dt.datetime.now(dt.UTC))
        self.scheduler.add_job(self.drift_check, "interval", seconds=s.drift_interval_seconds, id="drift")
        self.scheduler.start()
        log.info("controller started", extra={"event": "controller.started", "id": self.id})
        return self

    def stop(self) -> None:
        if not self.scheduler.running:
            return    # already stopped (the runtime also stops its services on close)
        self.scheduler.shutdown(wait=False)
        for w in self.watchers.values():
            w.stop()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.lease.release()

    # -- timers ----------------------------------------------------------------------------------
    def refresh_schedule(self) -> None:
        """One APScheduler poll job per enabled source, at its interval; watchers for local folders."""
        with self.rt.db.session() as s:
            sources = {r.id: (r.poll_interval, r.url) for r in s.scalars(select(Source).where(Source.enabled.is_(True)))}
        wanted = {f"poll-{sid}": (sid, interval) for sid, (interval, _) in sources.items()}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("poll-") and job.id not in wanted:
                job.remove()
        for job_id, (sid, interval) in wanted.items():
            job = self.scheduler.get_job(job_id)
            seconds = max(5, int(interval or self.rt.settings.default_poll_seconds))
            if job is None:
                self.scheduler.add_job(request_sync, "interval", seconds=seconds, id=job_id, args=(self.rt, sid, "poll"),
                                       next_run_time=dt.datetime.now(dt.UTC))
            elif getattr(job.trigger, "interval", None) != dt.timedelta(seconds=seconds):
                job.reschedule("interval", seconds=seconds)
        for sid, (_, url) in sources.items():
            if sid not in self.watchers and is_worktree(url):
                self.watchers[sid] = DirectoryWatcher(REPO_ROOT / url if not url.startswith("/") else url, [],
                                                      lambda sid=sid: request_sync(self.rt, sid, "watch")).start()
        for sid in set(self.watchers) - set(sources):
            self.watchers.pop(sid).stop()

    def drift_check(self) -> None:
        """Observe every source again without a push: hand-made changes show as drift (and auto heals)."""
        with self.rt.db.session() as s:
            s.execute(update(Source).where(Source.enabled.is_(True), Source.sync_requested_at.is_(None))
                      .values(sync_requested_at=utcnow(), sync_reason="drift"))

    def tick(self) -> None:
        if not self.lease.leading:
            return
        with self.rt.db.session() as s:
            rows = s.execute(select(Source.id, Source.sync_requested_at, Source.sync_reason)
                             .where(Source.enabled.is_(True), Source.sync_requested_at.is_not(None))).all()
        for sid, stamp, reason in rows:
            with self._lock:
                if sid in self.in_flight:
                    continue          # the request waits for the sync in flight to finish
                self.in_flight.add(sid)
            self.pool.submit(self._run, sid, stamp, reason or "request")

    def _run(self, sid: int, stamp, reason: str) -> None:
        try:
            with self.rt.db.session() as s:
                # clear only the stamp we saw: one set meanwhile survives and triggers the next sync
                s.execute(update(Source).where(Source.id == sid, Source.sync_requested_at == stamp)
                          .values(sync_requested_at=None))
            self.syncs_started += 1
            sync_source(self.rt, sid, reason)
        except Exception:
            log.exception("sync of source %s failed", sid)
        finally:
            with self._lock:
                self.in_flight.discard(sid)


def ensure_examples_source(rt: Runtime) -> None:
    """Embedded default: watch the `examples/` folder shipped with Jarvis."""
    folder = REPO_ROOT / "examples"
    if not folder.is_dir():
        return
    with rt.db.session() as s:
        if s.scalar(select(Source.id).where(Source.name == "examples")) is None:
            s.add(Source(name="examples", url=str(folder), branch="", paths=["**/orch.yaml"], poll_interval=300,
                         created_by="jarvis", sync_requested_at=utcnow(), sync_reason="first start"))


def start_controller(rt: Runtime) -> Controller:
    if rt.settings.embedded and rt.settings.examples_source:
        ensure_examples_source(rt)
    ctl = Controller(rt).start()
    rt.services["controller"] = ctl
    return ctl
