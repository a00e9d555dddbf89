"""One log query: a source's lines in a time range, filtered by text or a regular expression, cut
to `limit` from the end (`backward`, the newest lines) or from the start (`forward`).

Lines are always answered in time order, each with the level its text names (`error`, `warn`,
`info`, `debug`, or None). The answer's `cursor` is where the last line answered stands in the
source, `<unix microseconds>-<lines at that instant up to it>`: a follow (WS /ws/logs) goes on from
it without a gap or a repeat, and a client told to resume reconnects with it.

Bounds, each named in the error that enforces it: a range at most RANGE_MAX wide, at most LIMIT_MAX
lines, a filter of at most Q_MAX characters that reads at most SCAN_MAX lines of the source.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from controller.errors import Invalid

from .sources import Target, read

RANGE_MAX = timedelta(days=7)
LIMIT_MAX = 10_000
SCAN_MAX = 50_000
Q_MAX = 500
_EPOCH = datetime.min.replace(tzinfo=UTC)
_CURSOR = re.compile(r"^(\d{1,17})-(\d{1,9})$")
_LEVELS = [("error", re.compile(r"(?i)\b(fatal|panic|crit(?:ical)?|error|err|emerg|alert)\b")),
           ("warn", re.compile(r"(?i)\b(warn(?:ing)?)\b")),
           ("info", re.compile(r"(?i)\b(info|notice)\b")),
           ("debug", re.compile(r"(?i)\b(debug|trace)\b"))]


@dataclass(frozen=True)
class Cursor:
    time: datetime
    seen: int      # lines at exactly `time` already given

    def __str__(self) -> str:
        delta = self.time - datetime(1970, 1, 1, tzinfo=UTC)
        return f"{max(0, delta // timedelta(microseconds=1))}-{self.seen}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        m = _CURSOR.match(text)
        if not m:
            raise Invalid(f"not a log cursor: {text!r} (<unix microseconds>-<count>, from an answer's cursor)",
                          [{"field": "after", "message": "<unix microseconds>-<count>"}])
        return cls(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(m.group(1))), int(m.group(2)))


def aware(t: datetime | None) -> datetime | None:
    """A time without a zone is UTC."""
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def check_range(since: datetime | None, until: datetime | None, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if since is not None and until is not None and until <= since:
        raise Invalid("until must be after since", [{"field": "until", "message": "not after since"}])
    if since is not None and (until or now) - since > RANGE_MAX:
        raise Invalid(f"the time range is {_days((until or now) - since)} wide: the widest allowed is "
                      f"{_days(RANGE_MAX)} (RANGE_MAX); narrow since or until",
                      [{"field": "since", "message": f"at most {_days(RANGE_MAX)} before until"}])


def _days(d: timedelta) -> str:
    return f"{d.total_seconds() / 86400:.1f} days" if d >= timedelta(days=1) else f"{d.total_seconds() / 3600:.1f} hours"


def matcher(q: str | None, regex: bool) -> Callable[[str], bool] | None:
    if not q:
        return None
    if len(q) > Q_MAX:
        raise Invalid(f"the filter is {len(q)} characters long: at most {Q_MAX} (Q_MAX)",
                      [{"field": "q", "message": f"at most {Q_MAX} characters"}])
    if not regex:
        needle = q.casefold()
        return lambda text: needle in text.casefold()
    try:
        pattern = re.compile(q)
    except re.error as exc:
        raise Invalid(f"q is not a valid regular expression: {exc}", [{"field": "q", "message": str(exc)}]) from None
    return lambda text: pattern.search(text) is not None


def level(text: str) -> str | None:
    head = text[:200]
    return next((name for name, rx in _LEVELS if rx.search(head)), None)


def shown(line: dict[str, Any]) -> dict[str, Any]:
    return {**line, "level": level(line["text"])}


def positions(lines: list[dict[str, Any]], start: Cursor | None = None) -> list[Cursor]:
    """Each line's cursor. `start`: the cursor the read began at (its lines at that instant were skipped)."""
    out, prev, seen = [], None, 0
    if start is not None:
        prev, seen = start.time, start.seen
    for line in lines:
        t = line["time"] or _EPOCH
        seen = seen + 1 if t == prev else 1
        prev = t
        out.append(Cursor(t, seen))
    return out


def after(lines: list[dict[str, Any]], cursor: Cursor) -> list[dict[str, Any]]:
    """The lines of a read from `cursor.time` on that come after the cursor."""
    skip, out = cursor.seen, []
    for line in lines:
        t = line["time"] or _EPOCH
        if t < cursor.time:
            continue
        if t == cursor.time and skip > 0:
            skip -= 1
            continue
        out.append(line)
    return out


def query(target: Target, database, *, q: str | None = None, regex: bool = False, since: datetime | None = None,
          until: datetime | None = None, limit: int = 1000, direction: str = "backward") -> dict[str, Any]:
    since, until = aware(since), aware(until)
    check_range(since, until)
    match = matcher(q, regex)
    if not 1 <= limit <= LIMIT_MAX:
        raise Invalid(f"limit must be 1 to {LIMIT_MAX} (LIMIT_MAX)", [{"field": "limit", "message": f"1 to {LIMIT_MAX}"}])
    if direction not in ("backward", "forward"):
        raise Invalid("direction is backward or forward", [{"field": "direction", "message": "backward or forward"}])
    if direction == "forward" and since is None:
        raise Invalid("direction=forward reads from since on: give since",
                      [{"field": "since", "message": "required with direction=forward"}])
    tail = None if direction == "forward" else (SCAN_MAX if match else limit)
    raw = read(target, database, since=since, until=until, tail=tail)
    cursors = positions(raw)
    picked = [i for i, line in enumerate(raw) if match is None or match(line["text"])]
    truncated = len(picked) > limit or (tail is not None and len(raw) >= tail)
    picked = picked[-limit:] if direction == "backward" else picked[:limit]
    if picked:
        cursor = cursors[picked[-1]] if direction == "forward" else cursors[-1]
    else:
        cursor = cursors[-1] if cursors else Cursor(until or datetime.now(UTC), 0)
    return {"source": target.source, "selector": target.selector, "lines": [shown(raw[i]) for i in picked],
            "truncated": truncated, "scanned": len(raw), "cursor": str(cursor)}
