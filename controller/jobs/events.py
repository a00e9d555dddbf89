"""Stores a job's events in batches and publishes each batch on the live bus once stored.

ansible-runner calls `add` from its thread for every event; a flusher thread inserts the
buffer when it holds `flush_count` events or the oldest has waited `flush_ms`. Counters are the
job's own (continuing across steps and attempts), so a watcher's cursor is one number.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from sqlalchemy import insert, update

from controller.jobs.bus import Bus
from controller.store.db import Database
from controller.store.models import Job, JobEvent

log = logging.getLogger(__name__)


def public_event(row: dict[str, Any]) -> dict[str, Any]:
    created = row["created"]
    return {"counter": row["counter"], "type": row["type"], "host": row["host"], "task": row["task"],
            "stdout": row["stdout"], "created": created.isoformat() if isinstance(created, dt.datetime) else created,
            "data": row["data"]}


class EventSink:
    def __init__(self, db: Database, bus: Bus, job_id: int, start_counter: int, *,
                 flush_count: int = 500, flush_ms: int = 100) -> None:
        self.db, self.bus, self.job_id = db, bus, job_id
        self.counter = start_counter
        self.flush_count, self.flush_s = flush_count, flush_ms / 1000
        self._buf: list[dict[str, Any]] = []
        self._first_at = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=f"events-{job_id}", daemon=True)
        self._thread.start()

    def add(self, event: dict[str, Any], step: str = "") -> None:
        data = event.get("event_data") or {}
        with self._lock:
            self.counter += 1
            row = {"job_id": self.job_id, "counter": self.counter, "type": str(event.get("event", ""))[:60],
                   "host": str(event.get("host") or data.get("host") or "")[:300],
                   "task": str(event.get("task") or data.get("task") or "")[:500],
                   "stdout": event.get("stdout") or "",
                   "created": _parse_time(event.get("created")),
                   "data": {"step": step, "uuid": event.get("uuid"), **_small(data)}}
            if not self._buf:
                self._first_at = time.monotonic()
            self._buf.append(row)
            full = len(self._buf) >= self.flush_count
        if full:
            self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.flush_s)
            self._wake.clear()
            self.flush()
            if self._closed:
                return

    def flush(self) -> None:
        with self._lock:
            rows, self._buf = self._buf, []
        if not rows:
            return
        for attempt in range(5):
            try:
                with self.db.session() as s:
                    s.execute(insert(JobEvent), rows)
                    s.execute(update(Job).where(Job.id == self.job_id).values(last_counter=rows[-1]["counter"]))
                break
            except Exception:
                # the database blinked: keep the events and try again rather than lose them
                log.exception("storing %d events of job %s failed (attempt %d)", len(rows), self.job_id, attempt + 1)
                time.sleep(0.5 * (attempt + 1))
        else:
            raise RuntimeError(f"events of job {self.job_id} could not be stored")
        # one message per flush: watchers get a batch per frame, not a frame per event
        self.bus.publish(self.job_id, [{"type": "events", "events": [public_event(r) for r in rows]}])

    def close(self) -> int:
        """Store everything buffered; returns the last counter."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()
        return self.counter


def _parse_time(value: Any) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC)


_KEEP = ("play", "task", "task_action", "role", "host", "remote_addr", "changed", "res", "start", "end",
         "duration", "resolved_action", "ok", "failures", "dark", "changed", "skipped", "processed",
         "artifact_data")


def _small(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in _KEEP if k in data}
