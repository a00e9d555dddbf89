"""Sliding-window limits: at most `limit` events in any `window` seconds, not per calendar minute
(a fixed window lets twice the limit through around its edge). In memory when embedded, in Redis
when several API processes share the limits; both behind one interface.

Each key keeps the times of its newest `limit` accepted events (a log, bounded by the limit). An
event over the limit is refused and not recorded, so a refused client is held back only until its
oldest counted event leaves the window, never for ever.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class Limiter(Protocol):
    def hit(self, key: str, limit: int, window: int) -> int:
        """Count one event; return 0 when within `limit` per `window` seconds, else seconds to wait
        (the event is then not counted)."""

    def peek(self, key: str, limit: int, window: int) -> int:
        """Seconds to wait if the key already holds `limit` events in the window, else 0 (counts nothing)."""

    def reset(self, key: str) -> None: ...


def _wait(oldest: float, window: float, now: float) -> int:
    return max(1, math.ceil(oldest + window - now))


class MemoryLimiter:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._logs: dict[str, tuple[float, deque[float]]] = {}   # key -> (window, times of counted events)

    def _recent(self, key: str, limit: int, window: int, now: float) -> deque[float]:
        entry = self._logs.get(key)
        if entry is None:
            if len(self._logs) >= 100_000:   # bounded: forget keys with nothing left in their window
                self._logs = {k: v for k, v in self._logs.items() if v[1] and v[1][-1] > now - v[0]}
            entry = self._logs[key] = (window, deque())
        times = entry[1]
        while times and times[0] <= now - window:
            times.popleft()
        return times

    def hit(self, key: str, limit: int, window: int) -> int:
        with self._lock:
            now = self.clock()
            times = self._recent(key, limit, window, now)
            if len(times) >= limit:
                return _wait(times[-limit] if limit else now, window, now)
            times.append(now)
            while len(times) > limit:   # only the newest `limit` ever decide
                times.popleft()
            return 0

    def peek(self, key: str, limit: int, window: int) -> int:
        with self._lock:
            now = self.clock()
            times = self._recent(key, limit, window, now)
            return _wait(times[-limit] if limit else now, window, now) if len(times) >= limit else 0

    def reset(self, key: str) -> None:
        with self._lock:
            self._logs.pop(key, None)


# One round trip, atomic across every process: drop what left the window, then count, then (hit) add.
# Returns 0, or the milliseconds until the oldest of the newest `limit` events leaves the window.
_SCRIPT = """
local key, now, window, limit, record = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n < limit then
  if record == '1' then
    redis.call('ZADD', key, now, ARGV[5])
    redis.call('PEXPIRE', key, window)
  end
  return 0
end
if limit == 0 then return window end
local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class RedisLimiter:
    def __init__(self, client, clock: Callable[[], float] = time.time) -> None:
        self.r = client
        self.clock = clock
        self._script = client.register_script(_SCRIPT)

    def _run(self, key: str, limit: int, window: int, record: bool) -> int:
        now_ms = int(self.clock() * 1000)
        member = f"{now_ms}-{secrets.token_hex(4)}"   # two events in one millisecond are two events
        wait_ms = int(self._script(keys=[f"jarvis:rl:{key}"],
                                   args=[now_ms, window * 1000, limit, "1" if record else "0", member]))
        return 0 if wait_ms <= 0 else max(1, math.ceil(wait_ms / 1000))

    def hit(self, key: str, limit: int, window: int) -> int:
        return self._run(key, limit, window, record=True)

    def peek(self, key: str, limit: int, window: int) -> int:
        return self._run(key, limit, window, record=False)

    def reset(self, key: str) -> None:
        self.r.delete(f"jarvis:rl:{key}")
