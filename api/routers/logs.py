"""/api/logs: one log query over Swarm services, containers and job events (viewers)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query

from api.deps import DbDep, RuntimeDep, require
from api.schemas.logs import Direction, LogsOut, Source
from reconcilers import logs

router = APIRouter(prefix="/api/logs", tags=["logs"])

SELECTOR_HELP = ("service: <connection>/<service> (<connection>/<endpoint id>:<service> on Portainer); "
                 "container: <connection>/<container ref>; job: <job id>.")


@router.get("", response_model=LogsOut, dependencies=[Depends(require("logs.read"))])
def query_logs(db: DbDep, rt: RuntimeDep,
               source: Source = Query(description="What to read."),
               selector: str = Query(min_length=1, max_length=300, description=SELECTOR_HELP),
               q: str | None = Query(None, max_length=logs.Q_MAX, description="Keep lines containing this text."),
               regex: bool = Query(False, description="q is a regular expression (Python syntax)."),
               since: datetime | None = Query(None, description="Lines from this time on (RFC 3339)."),
               until: datetime | None = Query(None, description="Lines before this time (RFC 3339)."),
               limit: int = Query(1000, ge=1, le=logs.LIMIT_MAX, description="At most this many lines."),
               direction: Direction = Query("backward", description="backward: the newest `limit` lines of the "
                                                                     "range; forward: the oldest (needs since).")):
    target = logs.resolve(db, rt.secrets, source, selector)
    db.commit()     # the engine may take a while to answer: the database connection goes back to the pool
    return logs.query(target, rt.db, q=q, regex=regex, since=since, until=until, limit=limit, direction=direction)
