"""/api/dashboard: the figures of the dashboard's widgets, from real state only."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from api.deps import DbDep, RuntimeDep, require
from api.routers.backups import all_backups
from api.routers.sources import alert_of, controller_alive, status_text_of
from api.schemas.dashboard import (
    ControllerState,
    DashboardPublic,
    IncidentSummary,
    KindPublic,
    SourceSummary,
    TargetSummaryPublic,
)
from api.schemas.incidents import IncidentCounts
from api.schemas.plans import DriftCounts
from controller import incidents, registry
from controller.store.models import Connection, DriftItem, Job, PlanRow, Source, TargetStatus

router = APIRouter(tags=["dashboard"])


@router.get("/api/dashboard", response_model=DashboardPublic, dependencies=[Depends(require("dashboard.read"))])
def dashboard(db: DbDep, rt: RuntimeDep):
    active = db.scalar(select(func.count(Job.id)).where(Job.status.in_(("pending", "running")))) or 0
    targets = db.scalars(select(TargetStatus)).all()
    conn_types = dict(db.execute(select(Connection.type, func.count(Connection.id)).group_by(Connection.type)).all())
    drifted = _per_target(db, ("drifted", "pending"))
    unknown = _per_target(db, ("unknown",))      # declared, but their target could not be observed
    kinds = kind_summaries(targets, drifted, conn_types, unknown)
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
        target_problems=sum(t.problems for k in kinds for t in k.targets) if targets else None,
        kinds=kinds,
        incidents=[IncidentSummary(id=i.id, title=i.title, target=i.target, service=i.resource, opened_at=i.opened_at,
                                   job_id=i.job_id, state=i.state, severity=i.severity) for i in latest],
        incident_counts=IncidentCounts(**incidents.counts(db)),
        drift=drift,
        plans_waiting=waiting,
        controller=ControllerState(running=alive),
        sources=sources,
        connections=conn_types,
        backups=all_backups(db),
    )


def _per_target(db, statuses: tuple[str, ...]) -> dict[str, int]:
    return dict(db.execute(select(DriftItem.target, func.count(DriftItem.id))
                           .where(DriftItem.status.in_(statuses)).group_by(DriftItem.target)).all())


def kind_summaries(targets: list[TargetStatus], drifted: dict[str, int], conn_types: dict[str, int],
                   unknown: dict[str, int]) -> list[KindPublic]:
    """Every installed kind (and any kind a stored target still names), each with its targets' summaries:
    the page loops over them without knowing one kind from another."""
    by_kind: dict[str, list[TargetStatus]] = defaultdict(list)
    for t in targets:
        by_kind[t.kind].append(t)
    classes = registry.reconciler_classes()
    out = []
    for kind in sorted(set(classes) | set(by_kind)):
        cls = classes.get(kind)
        conn_type = getattr(cls, "connection_type", "")
        out.append(KindPublic(
            kind=kind, title=getattr(cls, "title", "") or kind, connection_type=conn_type,
            connections=conn_types.get(conn_type, 0),
            targets=[_summary(t, drifted.get(t.target, 0), unknown.get(t.target, 0))
                     for t in sorted(by_kind[kind], key=lambda t: t.target)]))
    return out


def _summary(t: TargetStatus, drifted: int, unknown: int) -> TargetSummaryPublic:
    s = t.summary or {}
    return TargetSummaryPublic(target=t.target, connection=t.connection, health=s.get("health", "unknown"),
                               counts=dict(s.get("counts") or {}), problems=int(s.get("problems", len(t.errors or []))),
                               errors=list(s.get("errors", t.errors or [])), observed_at=t.observed_at, drifted=drifted,
                               unknown=unknown)
