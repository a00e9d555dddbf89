"""Is a session still open? Asked on every authenticated request and while a WebSocket is open.

The truth is `user_sessions.ended_at` in the database, which every API process shares. An answer
is remembered briefly so a busy client does not cost a query per request: a live answer for at
most `LIVE_SECONDS` (so an ended session is refused everywhere within a second), an ended one for
longer (a session never comes back). With Redis configured the answers are shared by every process
(one query per session per interval for the whole deployment); embedded they live in the process.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from controller.store.db import Database
from controller.store.models import UserSession

LIVE_SECONDS = 0.5       # how stale a "still open" answer may be (plus one query): well under a second
ENDED_SECONDS = 3600     # an ended session stays ended; the record in the database is kept anyway
UNKNOWN = "unknown session"


class AnswerCache(Protocol):
    def get(self, sid: str) -> str | None:
        """"" (open), the reason it ended, or None when nothing fresh is remembered."""

    def put(self, sid: str, reason: str, seconds: float) -> None: ...


class MemoryAnswers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, str]] = {}

    def get(self, sid: str) -> str | None:
        hit = self._items.get(sid)
        return hit[1] if hit and hit[0] > time.monotonic() else None

    def put(self, sid: str, reason: str, seconds: float) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._items) > 50_000:     # bounded: forget what has expired
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
            self._items[sid] = (now + seconds, reason)


class RedisAnswers:
    """Answers shared in Redis. While Redis is failing, it is left alone for `PAUSE_SECONDS` so every
    request goes straight to the database instead of waiting on a connect timeout twice."""

    PAUSE_SECONDS = 2.0

    def __init__(self, client) -> None:
        self.r = client
        self._paused_until = 0.0

    def _call(self, fn, *args, **kwargs):
        if time.monotonic() < self._paused_until:
            raise ConnectionError("redis paused after a failure")
        try:
            return fn(*args, **kwargs)
        except Exception:
            self._paused_until = time.monotonic() + self.PAUSE_SECONDS
            raise

    def get(self, sid: str) -> str | None:
        value = self._call(self.r.get, f"jarvis:session:{sid}")
        return None if value is None else value.decode()[1:]

    def put(self, sid: str, reason: str, seconds: float) -> None:
        # "=" prefix: an open session's empty reason is still a stored value
        self._call(self.r.set, f"jarvis:session:{sid}", "=" + reason, px=max(1, int(seconds * 1000)))


class SessionLiveness:
    def __init__(self, db: Database, answers: AnswerCache) -> None:
        self.db, self.answers = db, answers

    def end_reason(self, sid: str) -> str:
        """"" while the session is open, else why it ended (logout, password changed, ...)."""
        try:
            hit = self.answers.get(sid)
        except Exception:      # a cache outage must not open a door: ask the database
            hit = None
        if hit is not None:
            return hit
        with self.db.session() as s:
            row = s.get(UserSession, sid)
            reason = UNKNOWN if row is None else (row.end_reason or "ended") if row.ended_at else ""
        try:
            # only an ended session is remembered long: an unknown one may be a session whose row is
            # being committed right now, so it is asked again as often as an open one
            self.answers.put(sid, reason, ENDED_SECONDS if reason and reason != UNKNOWN else LIVE_SECONDS)
        except Exception:
            pass
        return reason

    def mark_ended(self, sid: str, reason: str) -> None:
        """The process that ends a session says so at once, so the caller's own next request with an
        old token is refused now rather than within `LIVE_SECONDS`."""
        try:
            self.answers.put(sid, reason, ENDED_SECONDS)
        except Exception:       # the database record decides anyway, within LIVE_SECONDS
            pass


def for_runtime(rt) -> SessionLiveness:
    """The process's one checker (shared answers in Redis when the deployment has it)."""
    checker = rt.services.get("session_liveness")
    if checker is None:
        answers = RedisAnswers(rt.redis) if rt.redis is not None else MemoryAnswers()
        checker = rt.services["session_liveness"] = SessionLiveness(rt.db, answers)
    return checker
