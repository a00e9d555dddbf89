"""Where log lines come from: each source read the one way Jarvis already reads it.

A source is named by `source` and a `selector`:
- `service`: `<connection>/<service>` — a Swarm service through a docker or portainer connection
  (`<connection>/<endpoint id>:<service>` on Portainer), every task's lines (reconcilers.containers);
- `container`: `<connection>/<container ref>` — one container, stdout and stderr (reconcilers.containers);
- `job`: `<job id>` — the output lines of the job's stored events.

Every reader answers lines in time order, `{time, stream, text, labels}`; `tail` keeps the last N.
The engine is always reached through the named connection: there is no local default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from controller import connections
from controller.contract import ConnectionInfo
from controller.errors import Invalid, NotFound
from controller.store.models import Job, JobEvent
from reconcilers import containers

SOURCES = ("service", "container", "job")


@dataclass(frozen=True)
class Target:
    source: str
    selector: str
    conn: ConnectionInfo | None = None
    ref: str = ""
    job_id: int = 0


def resolve(db, secrets, source: str, selector: str) -> Target:
    """The source a selector names, its connection opened (NotFound, Invalid otherwise)."""
    if source not in SOURCES:
        raise Invalid(f"unknown log source {source!r}: one of {', '.join(SOURCES)}",
                      [{"field": "source", "message": f"one of {', '.join(SOURCES)}"}])
    if source == "job":
        if not selector.isdigit() or not 0 < int(selector) < 2**63:
            raise Invalid(f"a job's selector is its id, got {selector!r}", [{"field": "selector", "message": "a job id"}])
        if db.get(Job, int(selector)) is None:
            raise NotFound(f"job {selector} not found")
        return Target(source, selector, job_id=int(selector))
    name, sep, ref = selector.partition("/")
    if not sep or not name or not ref:
        raise Invalid(f"a {source}'s selector is <connection>/<{source}>, got {selector!r}",
                      [{"field": "selector", "message": f"<connection>/<{source}>"}])
    row = connections.by_name(db, name)
    if row.type not in containers.CONNECTION_TYPES:
        raise Invalid(f"connection {name!r} is a {row.type} connection: {source} logs are read through a "
                      f"{' or '.join(containers.CONNECTION_TYPES)} connection",
                      [{"field": "selector", "message": "not a docker or portainer connection"}])
    return Target(source, selector, conn=connections.info(secrets, row), ref=ref)


def read(target: Target, database, *, since: datetime | None, until: datetime | None,
         tail: int | None) -> list[dict[str, Any]]:
    if target.source == "service":
        return containers.service_logs(target.conn, target.ref, tail=tail, since=since, until=until)
    if target.source == "container":
        return [{**line, "labels": {}} for line in
                containers.container_logs(target.conn, target.ref, tail=tail, since=since, until=until)]
    return _job_lines(database, target.job_id, since, until, tail)


def _job_lines(database, job_id: int, since: datetime | None, until: datetime | None,
               tail: int | None) -> list[dict[str, Any]]:
    """The job's events with output, one line per line of output, in the order they were stored."""
    q = select(JobEvent.counter, JobEvent.type, JobEvent.host, JobEvent.task, JobEvent.stdout, JobEvent.created
               ).where(JobEvent.job_id == job_id, JobEvent.stdout != "")
    if since is not None:
        q = q.where(JobEvent.created >= since)
    if until is not None:
        q = q.where(JobEvent.created < until)
    newest_first = tail is not None
    order = (JobEvent.created.desc(), JobEvent.counter.desc()) if newest_first else (JobEvent.created, JobEvent.counter)
    q = q.order_by(*order)
    if tail is not None:
        q = q.limit(tail)            # an event holds one line or more: enough events for `tail` lines
    with database.session() as s:
        rows = s.execute(q).all()
    if newest_first:
        rows.reverse()
    lines = [{"time": r.created, "stream": "stdout", "text": text,
              "labels": {"counter": str(r.counter), "type": r.type, "host": r.host, "task": r.task}}
             for r in rows for text in r.stdout.splitlines() or [""]]
    return lines[-tail:] if tail else lines
