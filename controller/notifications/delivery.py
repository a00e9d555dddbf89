"""Delivery: the dispatcher sends the deliveries owed, off the request path, and retries the failed ones.

The `notification_deliveries` table is the truth (as the jobs table is for jobs). The dispatcher of each
process that runs jobs ticks on the project's scheduler (APScheduler, as the backup scheduler does), and a
commit that added deliveries in its own process wakes it at once. A delivery is claimed with a conditional
update (two dispatchers never send one twice), with a claim that expires, so a dispatcher that dies
mid-send leaves it to be sent again. A failed attempt is retried after `notify_retry_base_seconds`,
doubled each time (at most an hour), until `notify_max_attempts`; then it is `failed`, with the channel's
error, shown with the others and sent again by `retry`. Channels are sent to in parallel, so one that
does not answer holds up no other.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import and_, or_, select, update

from controller import connections
from controller.errors import Conflict, NotFound
from controller.notifications import channels, events
from controller.runtime import Runtime
from controller.store.models import Connection, NotificationDelivery, utcnow

log = logging.getLogger(__name__)
CLAIM = dt.timedelta(seconds=120)
MAX_BACKOFF_S = 3600
BATCH = 50
SENDERS = 4


def backoff(rt: Runtime, attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(rt.settings.notify_retry_base_seconds * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def _due(now: dt.datetime):
    D = NotificationDelivery
    return or_(and_(D.status.in_(("pending", "retrying")), D.next_attempt_at <= now),
               and_(D.status == "sending", D.claimed_until < now))


def deliver_due(rt: Runtime, now: dt.datetime | None = None, pool: ThreadPoolExecutor | None = None) -> list[int]:
    """Claims and sends the deliveries due at `now` (one batch); the ids attempted."""
    now = now or utcnow()
    claimed = []
    with rt.db.session() as db:
        ids = db.scalars(select(NotificationDelivery.id).where(_due(now)).order_by(NotificationDelivery.id)
                         .limit(BATCH)).all()
        for i in ids:
            res = db.execute(update(NotificationDelivery).where(NotificationDelivery.id == i, _due(now))
                             .values(status="sending", claimed_until=now + CLAIM,
                                     attempts=NotificationDelivery.attempts + 1))
            if res.rowcount == 1:
                claimed.append(i)
        db.commit()
    if pool is None or len(claimed) < 2:
        for i in claimed:
            attempt(rt, i, now)
    else:
        list(pool.map(lambda i: attempt(rt, i, now), claimed))
    return claimed


def attempt(rt: Runtime, delivery_id: int, now: dt.datetime | None = None) -> NotificationDelivery:
    """One attempt at a claimed delivery; its row as stored after it."""
    now = now or utcnow()
    with rt.db.session() as db:
        row = db.get(NotificationDelivery, delivery_id)
        conn = db.get(Connection, row.channel_id) if row.channel_id else None
        msg = channels.Message(event=row.event, title=row.title, body=row.body, environment=row.environment,
                               link=_absolute(rt, row.link), data=row.data or {}, delivery_id=row.id)
        info = connections.info(rt.secrets, conn) if conn is not None else None
        attempts, max_attempts, channel = row.attempts, rt.settings.notify_max_attempts, row.channel
    error, answer = "", ""
    if info is None:
        error = f"the channel {channel or '?'} was removed"
    else:
        try:
            answer = channels.send(info, msg)
        except channels.DeliveryError as exc:
            error = str(exc)
        except Exception as exc:   # a channel must never stop the dispatcher
            log.exception("notification %s: sending failed unexpectedly", delivery_id)
            error = f"{exc.__class__.__name__}: {exc}"
    if error:
        final = info is None or attempts >= max_attempts
        values = {"status": "failed" if final else "retrying", "last_error": error[:2000], "claimed_until": None,
                  "next_attempt_at": None if final else now + backoff(rt, attempts)}
        log.warning("notification %s to %s failed (attempt %s of %s): %s", delivery_id, channel, attempts,
                    max_attempts, error, extra={"event": "notification.failed", "delivery_id": delivery_id,
                                                "final": final})
    else:
        values = {"status": "sent", "sent_at": utcnow(), "response": answer[:500], "claimed_until": None,
                  "next_attempt_at": None, "last_error": ""}
        log.info("notification sent", extra={"event": "notification.sent", "delivery_id": delivery_id,
                                             "channel": channel})
    with rt.db.session() as db:
        db.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id,
                                                      NotificationDelivery.status == "sending").values(**values))
        db.commit()
        return db.get(NotificationDelivery, delivery_id)


def retry(db, delivery_id: int) -> NotificationDelivery:
    """A failed (or suppressed) delivery sent again: pending now, with a fresh count of attempts."""
    row = db.get(NotificationDelivery, delivery_id)
    if row is None:
        raise NotFound(f"delivery {delivery_id} not found")
    if row.status not in ("failed", "suppressed", "retrying"):
        raise Conflict(f"delivery {delivery_id} is {row.status}; only a failed, retrying or suppressed one can be retried")
    row.status, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, utcnow(), None
    db.info[events.WAKE] = True
    return row


def _absolute(rt: Runtime, link: str) -> str:
    if not link or "://" in link:
        return link
    base = rt.settings.public_url or f"http://{rt.settings.host}:{rt.settings.port}"
    return base.rstrip("/") + link


class Dispatcher:
    """Sends what is owed, every `notify_tick_seconds` and whenever this process commits a new delivery."""

    JOB = "notifications"

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        # two instances: a wake-up while a tick is ending starts the second, which either hands its work to
        # the first (still looping, under the lock) or does it itself; never two sending at once
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 2})
        self.pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="notify")
        self._lock = threading.Lock()
        self._busy = self._again = False

    def start(self) -> Dispatcher:
        self.scheduler.add_job(self.tick, "interval", seconds=self.rt.settings.notify_tick_seconds, id=self.JOB)
        self.scheduler.start()
        events.on_commit(self.wake)
        return self

    def stop(self) -> None:
        events.off_commit(self.wake)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def wake(self) -> None:
        with self._lock:
            if self._busy:
                self._again = True      # the running tick looks again before it ends
                return
        try:
            self.scheduler.modify_job(self.JOB, next_run_time=dt.datetime.now(dt.UTC))
        except Exception:   # stopping: the next start sends it
            log.debug("notification dispatcher not running", exc_info=True)

    def tick(self) -> None:
        with self._lock:
            if self._busy:
                self._again = True
                return
            self._busy = True
        try:
            while True:
                with self._lock:
                    self._again = False
                done = deliver_due(self.rt, pool=self.pool)
                with self._lock:
                    if not done and not self._again:
                        self._busy = False
                        return
        except Exception:
            log.exception("notification dispatch failed")
            with self._lock:
                self._busy = False
