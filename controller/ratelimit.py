"""Fixed-window counters: in memory when embedded, in Redis when several API replicas share limits."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol


class Limiter(Protocol):
    def hit(self, key: str, limit: int, window: int) -> int:
        """Count one event; return 0 when within `limit` per `window` seconds, else seconds to wait."""

    def peek(self, key: str, limit: int, window: int) -> int:
        """Seconds to wait if the key is already over its limit, else 0 (counts nothing)."""

    def reset(self, key: str) -> None: ...


class MemoryLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}   # key -> (window index, count)

    def hit(self, key: str, limit: int, window: int) -> int:
        now = time.time()
        idx = int(now // window)
        with self._lock:
            w, n = self._counts.get(key, (idx, 0))
            n = n + 1 if w == idx else 1
            self._counts[key] = (idx, n)
            if len(self._counts) > 100_000:   # bounded: forget old windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == idx}
        return 0 if n <= limit else math.ceil((idx + 1) * window - now)

    def peek(self, key: str, limit: int, window: int) -> int:
        now = time.time()
        idx = int(now // window)
        w, n = self._counts.get(key, (idx, 0))
        return math.ceil((idx + 1) * window - now) if w == idx and n >= limit else 0

    def reset(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


class RedisLimiter:
    def __init__(self, client) -> None:
        self.r = client

    def _key(self, key: str, window: int) -> tuple[str, float]:
        now = time.time()
        return f"jarvis:rl:{key}:{int(now // window)}", now

    def hit(self, key: str, limit: int, window: int) -> int:
        k, now = self._key(key, window)
        pipe = self.r.pipeline()
        pipe.incr(k)
        pipe.expire(k, window + 1)
        n = pipe.execute()[0]
        return 0 if n <= limit else math.ceil((int(now // window) + 1) * window - now)

    def peek(self, key: str, limit: int, window: int) -> int:
        k, now = self._key(key, window)
        n = int(self.r.get(k) or 0)
        return math.ceil((int(now // window) + 1) * window - now) if n >= limit else 0

    def reset(self, key: str) -> None:
        for k in self.r.scan_iter(f"jarvis:rl:{key}:*"):
            self.r.delete(k)
