"""Following a log: each read of the source from the cursor gives the lines not given yet.

A Swarm service's manager gathers its tasks' lines from their nodes, so a line can reach the log a
little after a later-stamped line of another task. Each read therefore starts LATE_S before the
cursor and gives every line of that window not given already (known by time, task, stream and
text): a late line is given late, never lost. A follow started from a cursor alone (a reconnect)
takes the lines up to the cursor as given, by the cursor's own rule.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .query import Cursor, after, positions
from .sources import Target, read

LATE_S = 2.0


def _key(line: dict[str, Any]) -> tuple:
    return (line["time"], line["labels"].get("task", ""), line["stream"], line["text"])


def _later(a: Cursor, b: Cursor) -> Cursor:
    return a if (a.time, a.seen) >= (b.time, b.seen) else b


class Follower:
    def __init__(self, target: Target, database, cursor: Cursor):
        self.target, self.database, self.cursor = target, database, cursor
        self._given: set[tuple] | None = None

    def poll(self, most: int) -> tuple[list[tuple[dict[str, Any], Cursor]], bool]:
        """Up to `most` lines not given yet, oldest first, each with the cursor a client resumes from
        after it; and whether more were left for the next poll."""
        raw = read(self.target, self.database, since=self.cursor.time - timedelta(seconds=LATE_S), until=None,
                   tail=None)
        places = positions(raw)
        given = self._given
        if given is None:                # the first read: what the cursor covers counts as given
            fresh = {id(line) for line in after(raw, self.cursor)}
            given = {_key(line) for line in raw if id(line) not in fresh}
        out, kept, more = [], set(), False
        for line, place in zip(raw, places, strict=True):
            key = _key(line)
            if key in given:
                kept.add(key)
                continue
            if len(out) >= most:
                more = True
                break
            self.cursor = _later(self.cursor, place)
            out.append((line, self.cursor))
            kept.add(key)
        self._given = kept
        return out, more
