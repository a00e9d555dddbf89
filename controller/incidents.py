"""Incidents: one model for every source of trouble, with a lifecycle and a timeline.

open → acknowledged → resolved, each step with who and when. A problem seen again while its incident
is not resolved updates that incident (matched by fingerprint) instead of opening another; once
resolved, the next occurrence opens a new one. A resolution is structured (cause, action taken,
runbook or plan used) because the assistant learns from resolved incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller.errors import Conflict, Invalid, NotFound
from controller.notifications import events as notify
from controller.store.models import Incident, IncidentEvent, utcnow

STATES = ("open", "acknowledged", "resolved")
ACTIVE = ("open", "acknowledged")
# the moves a person may make (reopening a resolved incident is allowed: it was resolved too soon)
MOVES = {("open", "acknowledged"), ("open", "resolved"), ("acknowledged", "resolved"),
         ("resolved", "open"), ("acknowledged", "open")}


@dataclass(frozen=True)
class Resolution:
    cause: str
    action: str
    runbook: str = ""
    plan_id: int | None = None
    job_id: int | None = None

    def problems(self) -> list[dict[str, str]]:
        return [{"field": f"resolution.{name}", "message": f"{name} is required: say {what}"}
                for name, what in (("cause", "what caused it"), ("action", "what was done about it"))
                if not getattr(self, name).strip()]

    def as_dict(self) -> dict[str, Any]:
        return {"cause": self.cause.strip(), "action": self.action.strip(), "runbook": self.runbook,
                "plan_id": self.plan_id, "job_id": self.job_id}


def event(db: Session, incident: Incident, kind: str, actor: str, message: str = "", **data: Any) -> IncidentEvent:
    row = IncidentEvent(incident_id=incident.id, kind=kind, actor=actor, message=message[:5000], data=data)
    db.add(row)
    notify.incident_changed(db, incident, kind, actor, message)
    return row


def open_or_update(db: Session, fingerprint: str, *, title: str, origin: str, actor: str = "jarvis",
                   severity: str = "warning", target: str = "", resource: str = "", source_id: int | None = None,
                   job_id: int | None = None, detail: dict[str, Any] | None = None,
                   message: str = "") -> tuple[Incident, bool]:
    """The incident not yet resolved with this fingerprint, updated; or a new one. (incident, opened).

    Safe under concurrency: the partial unique index `uq_incidents_active_fingerprint` lets only one
    insert win; a loser's insert is rolled back to its savepoint and it updates the winner's incident."""
    for _ in range(3):
        current = _active(db, fingerprint)
        if current is not None:
            _seen_again(db, current, actor, title=title, severity=severity, job_id=job_id, detail=detail,
                        message=message)
            return current, False
        now = utcnow()
        incident = Incident(fingerprint=fingerprint, title=title[:300], origin=origin, severity=severity,
                            target=target, resource=resource, source_id=source_id, job_id=job_id,
                            detail=detail or {}, state="open", opened_at=now, last_seen_at=now)
        try:
            with db.begin_nested():
                db.add(incident)
                db.flush()
        except IntegrityError:
            continue        # another session opened it between our read and our insert: update that one
        event(db, incident, "opened", actor, message or title, **({"job_id": job_id} if job_id else {}))
        return incident, True
    raise Conflict(f"incident {fingerprint!r} could not be opened or updated (concurrent changes)")


def _active(db: Session, fingerprint: str) -> Incident | None:
    return db.scalar(select(Incident).where(Incident.fingerprint == fingerprint, Incident.state.in_(ACTIVE))
                     .order_by(Incident.id.desc()).limit(1).with_for_update())


def _seen_again(db: Session, current: Incident, actor: str, *, title: str, severity: str, job_id: int | None,
                detail: dict[str, Any] | None, message: str) -> None:
    # one UPDATE that adds to the stored count, so concurrent sightings are all counted
    db.execute(update(Incident).where(Incident.id == current.id)
               .values(occurrences=Incident.occurrences + 1, last_seen_at=utcnow()))
    db.refresh(current, ["occurrences", "last_seen_at"])
    current.title, current.severity = title[:300], severity
    if detail:
        current.detail = {**(current.detail or {}), **detail}
    if job_id is not None:
        current.job_id = job_id
    event(db, current, "seen", actor, message or "seen again", **({"job_id": job_id} if job_id else {}))


def resolve_by_fingerprint(db: Session, fingerprint: str, *, actor: str, resolution: Resolution,
                           message: str = "") -> Incident | None:
    """Resolve the active incident with this fingerprint (the problem went away on its own); None if none."""
    current = _active(db, fingerprint)
    if current is not None:
        move(db, current, "resolved", actor, resolution=resolution, note=message)
    return current


def get(db: Session, incident_id: int) -> Incident:
    incident = db.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def move(db: Session, incident: Incident, state: str, actor: str, *, resolution: Resolution | None = None,
         note: str = "") -> Incident:
    """Change an incident's state, recording who and when on it and in its timeline."""
    if state not in STATES:
        raise Invalid(f"unknown state {state!r}", errors=[{"field": "state", "message": f"one of {', '.join(STATES)}"}])
    if (incident.state, state) not in MOVES:
        raise Conflict(f"incident {incident.id} is {incident.state}: it cannot become {state}")
    now = utcnow()
    if state == "resolved":
        if resolution is None:
            raise Invalid("resolving needs a resolution", errors=[{"field": "resolution", "message":
                                                                   "give cause and action (runbook or plan if used)"}])
        if problems := resolution.problems():
            raise Invalid("resolution is incomplete", errors=problems)
        incident.closed_at, incident.resolved_by, incident.resolution = now, actor, resolution.as_dict()
        event(db, incident, "resolved", actor, note, **resolution.as_dict())
    elif state == "acknowledged":
        incident.acknowledged_at, incident.acknowledged_by = now, actor
        event(db, incident, "acknowledged", actor, note)
    else:
        other = _active(db, incident.fingerprint) if incident.fingerprint else None
        if other is not None and other.id != incident.id:
            raise Conflict(f"incident {other.id} is already open for this problem: reopen that one instead")
        incident.closed_at, incident.resolved_by = None, ""
        event(db, incident, "reopened", actor, note)
    incident.state = state
    return incident


def annotate(db: Session, incident: Incident, actor: str, *, note: str = "", job_id: int | None = None,
             plan_id: int | None = None, logs: dict[str, str] | None = None) -> None:
    """A note, or a link to a job, a plan or a log range, added to the timeline."""
    if note.strip():
        event(db, incident, "note", actor, note.strip())
    links = {k: v for k, v in (("job_id", job_id), ("plan_id", plan_id), ("logs", logs)) if v}
    if links:
        event(db, incident, "link", actor, "", **links)


def timeline(db: Session, incident_id: int) -> list[IncidentEvent]:
    return list(db.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                           .order_by(IncidentEvent.at, IncidentEvent.id)))


def search(db: Session, *, state: str | None = None, offset: int = 0, limit: int = 50) -> tuple[list[Incident], int]:
    """Newest first; `state` "active" means open or acknowledged. (page, total matching)."""
    q = select(Incident)
    if state == "active":
        q = q.where(Incident.state.in_(ACTIVE))
    elif state:
        q = q.where(Incident.state == state)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    return list(db.scalars(q.order_by(Incident.id.desc()).offset(offset).limit(limit))), total


def counts(db: Session) -> dict[str, int]:
    found = dict(db.execute(select(Incident.state, func.count()).group_by(Incident.state)).all())
    return {s: found.get(s, 0) for s in STATES}
