"""/api/incidents: every incident, whatever opened it; an operator acknowledges, annotates and
resolves them (with a structured resolution)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request

from api.deps import DbDep, principal_of, require
from api.schemas.common import Id, Offset, Page, limit_upto
from api.schemas.incidents import IncidentChange, IncidentDetail, IncidentPublic
from controller import incidents

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
Writer = principal_of("incidents.write")


@router.get("", response_model=Page[IncidentPublic], dependencies=[Depends(require("incidents.read"))])
def list_incidents(db: DbDep, state: Literal["active", "open", "acknowledged", "resolved"] | None = None,
                   offset: Offset = 0, limit: limit_upto(200) = 50):
    """Newest first. `state=active`: open or acknowledged."""
    rows, total = incidents.search(db, state=state, offset=offset, limit=limit)
    return Page[IncidentPublic](items=rows, total=total, offset=offset, limit=limit)


def _detail(db, incident) -> IncidentDetail:
    db.flush()
    return IncidentDetail.model_validate({**IncidentPublic.model_validate(incident).model_dump(),
                                          "closed_at": incident.closed_at, "detail": incident.detail or {},
                                          "timeline": incidents.timeline(db, incident.id)})


@router.get("/{incident_id}", response_model=IncidentDetail, dependencies=[Depends(require("incidents.read"))])
def get_incident(incident_id: Id, db: DbDep):
    return _detail(db, incidents.get(db, incident_id))


@router.patch("/{incident_id}", response_model=IncidentDetail)
def change_incident(incident_id: Id, body: IncidentChange, request: Request, db: DbDep, who: Writer):
    """Acknowledge, resolve (with `resolution`: cause and action, and the runbook or plan used) or
    reopen; add a note; link a job, a plan or a log range. Everything lands in the timeline."""
    request.state.audit = {"action": "incidents.write", "target": f"incident/{incident_id}",
                           "detail": {"state": body.state} if body.state else None}
    incident = incidents.get(db, incident_id)
    actor = who.user.email
    if body.state and body.state != incident.state:
        resolution = incidents.Resolution(**body.resolution.model_dump()) if body.resolution else None
        incidents.move(db, incident, body.state, actor, resolution=resolution, note=body.note)
        note = ""
    else:
        note = body.note
    incidents.annotate(db, incident, actor, note=note, job_id=body.job_id, plan_id=body.plan_id,
                       logs=body.logs.model_dump(mode="json") if body.logs else None)
    return _detail(db, incident)
