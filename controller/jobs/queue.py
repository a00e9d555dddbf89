"""The job queue: a Redis stream with a consumer group, or an in-process queue when embedded.

The jobs table is the truth; the queue only carries job ids to workers. An entry is acknowledged
after the job's final status is stored, and `queued` tells the sweeper which pending jobs have
an entry, so after a Redis restart (the stream and set gone) every pending job is queued again.
A job queued twice is harmless: claiming it is a conditional update only one worker wins.
"""

from __future__ import annotations

import queue as stdqueue
import threading
from dataclasses import dataclass
from typing import Protocol

STREAM = "jarvis:jobs"
GROUP = "workers"
QUEUED = "jarvis:jobs:queued"


@dataclass(frozen=True)
class Entry:
    job_id: int
    entry_id: str


class JobQueue(Protocol):
    def put(self, job_id: int) -> None: ...
    def get(self, consumer: str, timeout: float) -> Entry | None: ...
    def ack(self, entry: Entry) -> None: ...
    def queued(self) -> set[int]: ...


class MemoryQueue:
    def __init__(self) -> None:
        self._q: stdqueue.Queue[int] = stdqueue.Queue()
        self._lock = threading.Lock()
        self._queued: dict[int, int] = {}   # job id -> entries not yet acknowledged
        self._seq = 0

    def put(self, job_id: int) -> None:
        with self._lock:
            self._queued[job_id] = self._queued.get(job_id, 0) + 1
        self._q.put(job_id)

    def get(self, consumer: str, timeout: float) -> Entry | None:
        try:
            job_id = self._q.get(timeout=timeout)
        except stdqueue.Empty:
            return None
        with self._lock:
            self._seq += 1
            return Entry(job_id, str(self._seq))

    def ack(self, entry: Entry) -> None:
        with self._lock:
            n = self._queued.get(entry.job_id, 0) - 1
            if n <= 0:
                self._queued.pop(entry.job_id, None)
            else:
                self._queued[entry.job_id] = n

    def queued(self) -> set[int]:
        with self._lock:
            return set(self._queued)


class RedisQueue:
    def __init__(self, client) -> None:
        self.r = client
        self._group_ready = False

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self.r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except Exception as exc:   # BUSYGROUP: it exists
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def put(self, job_id: int) -> None:
        self._ensure_group()
        pipe = self.r.pipeline()
        pipe.sadd(QUEUED, job_id)
        pipe.xadd(STREAM, {"job_id": job_id})
        pipe.execute()

    def get(self, consumer: str, timeout: float) -> Entry | None:
        try:
            self._ensure_group()
            got = self.r.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=1, block=int(timeout * 1000))
        except Exception as exc:
            if "NOGROUP" in str(exc):   # Redis restarted and lost the stream: make it again
                self._group_ready = False
                return None
            raise
        if not got:
            return None
        entry_id, fields = got[0][1][0]
        entry_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        raw = fields.get(b"job_id", fields.get("job_id"))
        return Entry(int(raw), entry_id)

    def ack(self, entry: Entry) -> None:
        pipe = self.r.pipeline()
        pipe.xack(STREAM, GROUP, entry.entry_id)
        pipe.xdel(STREAM, entry.entry_id)
        pipe.srem(QUEUED, entry.job_id)
        pipe.execute()

    def queued(self) -> set[int]:
        return {int(x) for x in self.r.smembers(QUEUED)}

    def drop_stale(self, idle_ms: int) -> int:
        """Acknowledge entries a dead consumer held longer than `idle_ms` (their jobs are swept by id)."""
        try:
            pending = self.r.xpending_range(STREAM, GROUP, min="-", max="+", count=1000, idle=idle_ms)
        except Exception:
            return 0
        ids = [p["message_id"] for p in pending]
        if ids:
            self.r.xack(STREAM, GROUP, *ids)
            self.r.xdel(STREAM, *ids)
        return len(ids)
