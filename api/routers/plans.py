"""/api/plans and /api/drift: what differs, what waits for approval, and approving exactly that."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from api.deps import DbDep, RuntimeDep, principal_of, require
from api.schemas.common import Id, limit_upto
from api.schemas.plans import (
    ApproveIn,
    DriftCounts,
    DriftItemPublic,
    DriftPublic,
    PlanDecision,
    PlanDetail,
    PlanPublic,
)
from controller.errors import NotFound
from controller.gitops import decisions
from controller.store.models import DriftItem, PlanRow, Source, TargetStatus

router = APIRouter(tags=["plans"])
Approver = principal_of("plans.approve")


@router.get("/api/plans", response_model=list[PlanPublic], dependencies=[Depends(require("plans.read"))])
def list_plans(db: DbDep, status: str | None = None, source_id: Id | None = None, limit: limit_upto(500) = 100):
    q = select(PlanRow, Source.name).join(Source, Source.id == PlanRow.source_id)
    if status:
        q = q.where(PlanRow.status.in_(status.split(",")))
    if source_id:
        q = q.where(PlanRow.source_id == source_id)
    rows = db.execute(q.order_by(PlanRow.id.desc()).limit(min(limit, 500))).all()
    return [PlanPublic.of(r, name) for r, name in rows]


@router.get("/api/plans/{plan_id}", response_model=PlanDetail, dependencies=[Depends(require("plans.read"))])
def get_plan(plan_id: Id, db: DbDep):
    row = db.get(PlanRow, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    source = db.get(Source, row.source_id)
    return PlanDetail.of(row, source.name if source else "")


@router.post("/api/plans/{plan_id}/approve", response_model=PlanDecision, status_code=202)
def approve(plan_id: Id, body: ApproveIn, request: Request, db: DbDep, rt: RuntimeDep, who: Approver):
    """Runs exactly the plan shown: the checksum of its changes must match the stored plan."""
    request.state.audit = {"target": f"plan/{plan_id}"}
    job = decisions.approve(rt, db, plan_id, body.checksum, who.user.email)
    request.state.audit["detail"] = {"job_id": job.id}
    return PlanDecision(id=plan_id, status="approved", job_id=job.id)


@router.post("/api/plans/{plan_id}/reject", response_model=PlanDecision)
def reject(plan_id: Id, request: Request, db: DbDep, who: Approver):
    request.state.audit = {"target": f"plan/{plan_id}"}
    row = decisions.reject(db, plan_id, who.user.email)
    return PlanDecision(id=row.id, status=row.status)


@router.get("/api/drift", response_model=DriftPublic, dependencies=[Depends(require("drift.read"))])
def drift(db: DbDep, source_id: Id | None = None, status: str | None = None):
    q = select(DriftItem, Source.name).join(Source, Source.id == DriftItem.source_id)
    if source_id:
        q = q.where(DriftItem.source_id == source_id)
    rows = db.execute(q.order_by(Source.name, DriftItem.manifest_path, DriftItem.target, DriftItem.resource)).all()
    summary = DriftCounts()
    # each resource's last observed health, as its kind summarised it (a service's replicas and task errors)
    health = {t.target: (t.summary or {}).get("resources", {}) for t in db.scalars(select(TargetStatus))}
    items = []
    for it, source_name in rows:
        setattr(summary, it.status, getattr(summary, it.status) + 1)
        if status and it.status != status:
            continue
        items.append(DriftItemPublic(source=source_name, source_id=it.source_id, manifest=it.manifest_path,
                                     target=it.target, resource=it.resource, status=it.status, action=it.action,
                                     fields=it.fields, plan_id=it.plan_id, error=it.error, updated_at=it.updated_at,
                                     health=health.get(it.target, {}).get(it.resource)))
    return DriftPublic(summary=summary, items=items)
