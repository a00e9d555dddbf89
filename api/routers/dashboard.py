"""/api/dashboard: the figures of the dashboard's widgets, from real state only."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from api.deps import DbDep, RuntimeDep, require
from api.routers.sources import alert_of, controller_alive, status_text_of
from api.schemas.dashboard import (
    CloudflareWidget,
    ControllerState,
    DashboardPublic,
    IncidentSummary,
    SourceSummary,
    ZoneStatus,
)
from api.schemas.incidents import IncidentCounts
from api.schemas.plans import DriftCounts
from controller import incidents
from controller.store.models import Connection, DriftItem, Job, PlanRow, Source, TargetStatus

router = APIRouter(tags=["dashboard"])


@router.get("/api/dashboard", response_model=DashboardPublic, dependencies=[Depends(require("dashboard.read"))])
def dashboard(db: DbDep, rt: RuntimeDep):
    active = db.scalar(select(func.count(Job.id)).where(Job.status.in_(("pending", "running")))) or 0
    targets = db.scalars(select(TargetStatus)).all()
    conn_types = dict(db.execute(select(Connection.type, func.count(Connection.id)).group_by(Connection.type)).all())
    swarm = [t for t in targets if t.kind == "swarm"]
    containers = sum(int((t.health or {}).get("containers_with_errors", 0)) for t in swarm) if swarm else None
    servers = [t for t in targets if t.kind == "vps"]
    drifted = dict(db.execute(select(DriftItem.target, func.count(DriftItem.id))
                              .where(DriftItem.status.in_(("drifted", "pending"))).group_by(DriftItem.target)).all())
    cloudflare = [_cloudflare(t, drifted.get(t.target, 0)) for t in targets if t.kind == "cloudflare"]
    drift = DriftCounts(**dict(db.execute(select(DriftItem.status, func.count(DriftItem.id))
                                          .group_by(DriftItem.status)).all()))
    waiting = db.scalar(select(func.count(PlanRow.id)).where(PlanRow.status.in_(("pending", "held")))) or 0
    latest, _ = incidents.search(db, state="active", limit=10)
    alive = controller_alive(rt)
    sources = []
    for s in db.scalars(select(Source).order_by(Source.name)):
        alert, reason = alert_of(s, alive)
        sources.append(SourceSummary(id=s.id, name=s.name, last_reconcile_at=s.last_sync_at, status=s.status,
                                     status_text=status_text_of(db, s), alert=alert, alert_reason=reason, last_error=s.last_error[:300]))
    return DashboardPublic(
        active_jobs=active,
        containers_with_errors=containers,
        active_servers=sum(int((t.health or {}).get("running", 0)) for t in servers) if servers else None,
        cloudflare=cloudflare if (cloudflare or conn_types.get("cloudflare")) else None,
        incidents=[IncidentSummary(id=i.id, title=i.title, target=i.target, service=i.resource, opened_at=i.opened_at,
                                   job_id=i.job_id, state=i.state, severity=i.severity) for i in latest],
        incident_counts=IncidentCounts(**incidents.counts(db)),
        drift=drift,
        plans_waiting=waiting,
        controller=ControllerState(running=alive),
        sources=sources,
        connections=conn_types,
    )


def _cloudflare(t: TargetStatus, drifted: int) -> CloudflareWidget:
    """Token validity, zones and their status, last sync and drifted records, from the last observation."""
    zones = (t.health or {}).get("zones") or {}
    seen = any("id" in z for z in zones.values())
    return CloudflareWidget(connection=t.connection, token_valid=seen or (not t.errors and not zones),
                            zones=[ZoneStatus(name=name, status=z.get("status", "")) for name, z in sorted(zones.items())],
                            last_sync=t.observed_at, drifted_records=drifted, errors=t.errors)
