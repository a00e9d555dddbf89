"""Cron schedules, read one way everywhere a schedule is accepted (a `backups:` entry's `schedule`
and `check_schedule`, the scheduler that fires them, the metrics of their intervals).

An expression is five fields, `minute hour day month weekday`, with cron's meaning, or one of the
aliases `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`).
APScheduler's own crontab reading counts weekdays from Monday = 0; cron counts from Sunday = 0
(7 is Sunday too), so the weekday field is translated to names before APScheduler sees it.
Cron runs on *either* the day of the month or the weekday when both are restricted; APScheduler
would need both, so such an expression is refused rather than run on other days than written.
"""

from __future__ import annotations

import datetime as dt
import re

from apscheduler.triggers.cron import CronTrigger

ALIASES = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
FIELDS = ("minute", "hour", "day", "month", "weekday")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ITEM = re.compile(r"^(\*|[0-7]|[a-z]{3})(?:-([0-7]|[a-z]{3}))?(?:/(\d+))?$")


def expand(expression: str) -> str:
    """The five fields an expression stands for (an alias replaced); raises ValueError."""
    text = " ".join(str(expression).split())
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise ValueError(f"unknown cron alias {text!r}: use one of {', '.join(sorted(ALIASES))}")
        return ALIASES[text.lower()]
    if len(text.split()) != 5:
        raise ValueError(f"expected 5 cron fields (minute hour day month weekday) like '0 3 * * *', or an alias "
                         f"like '@daily'; got {len(text.split())} in {text!r}")
    return text


def trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """The APScheduler trigger of a cron expression, read as cron reads it; raises ValueError naming
    the field that is wrong."""
    minute, hour, day, month, weekday = expand(expression).split()
    if day != "*" and weekday != "*":
        raise ValueError(f"{expression!r} restricts both the day of the month and the weekday: cron would run on "
                         "either, this scheduler only on both; use two backups, or '*' in one of them")
    values = dict(zip(FIELDS, (minute, hour, day, month, _weekday(weekday)), strict=True))
    try:
        return CronTrigger(minute=values["minute"], hour=values["hour"], day=values["day"], month=values["month"],
                           day_of_week=values["weekday"], timezone=timezone or "UTC")
    except ValueError as exc:
        field = _failing_field(values, timezone)
        raise ValueError(f"invalid cron expression {expression!r}: {field + ': ' if field else ''}{exc}") from None


def _weekday(field: str) -> str:
    """Cron's weekday field (0 or 7 = Sunday, names, ranges, steps) as APScheduler's weekday names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        m = _ITEM.match(item)
        if not m:
            raise ValueError(f"invalid cron weekday {item!r} in {field!r}: use 0-7 (0 and 7 are Sunday) or sun-sat")
        first, last, step = m.group(1), m.group(2), m.group(3)
        lo = 0 if first == "*" else _day(first)
        hi = _day(last) if last else (6 if first == "*" or step else lo)
        if hi < lo or (step is not None and int(step) < 1):
            raise ValueError(f"invalid cron weekday range {item!r}: it runs backwards or steps by 0")
        days.update(d % 7 for d in range(lo, hi + 1, int(step or 1)))
    return ",".join(DAYS[d] for d in sorted(days))


def _day(token: str) -> int:
    """A weekday as cron numbers it: 0-7 as written (7 is Sunday again), a name by its place from Sunday."""
    if token.isdigit():
        return int(token)
    if token not in DAYS:
        raise ValueError(f"invalid cron weekday name {token!r}: use sun, mon, tue, wed, thu, fri or sat")
    return DAYS.index(token)


def _failing_field(values: dict[str, str], timezone: str) -> str:
    for name in FIELDS:
        try:
            CronTrigger(**{("day_of_week" if name == "weekday" else name): values[name]}, timezone=timezone or "UTC")
        except ValueError:
            return name
    return ""


def interval(expression: str, timezone: str = "UTC", now: dt.datetime | None = None) -> float | None:
    """Seconds between the next two slots after `now` (None when the schedule never fires again)."""
    trig = trigger(expression, timezone)
    now = now or dt.datetime.now(dt.UTC)
    first = trig.get_next_fire_time(None, now)
    second = trig.get_next_fire_time(first, first + dt.timedelta(seconds=1)) if first else None
    return (second - first).total_seconds() if first and second else None
