"""What happens to a fresh plan: stored, compared with the plans before it, and acted on by policy.

  auto    → approved and queued as an apply job (unless held by the safety limits)
  manual  → pending, waiting for an operator's approval
  detect  → detected: drift reported, never applied
A plan identical (same checksum) to one already waiting is not stored twice; an older plan for the
same target that waits is expired by a newer one. Approving runs exactly the stored changes.
"""

from __future__ import annotations

import base64
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller import connections, incidents, registry
from controller.errors import Conflict, Invalid, NotFound
from controller.jobs.service import JobsService
from controller.jobs.submit import STEP_SECRET_PREFIX, JobRequest
from controller.notifications import events as notify
from controller.plans import Change, Plan
from controller.runtime import Runtime
from controller.store.models import FINAL, Job, PlanRow, Source, utcnow

log = logging.getLogger(__name__)
WAITING = ("pending", "held")
IN_FLIGHT = ("approved",)


def apply_in_flight(db: Session, source_id: int, path: str, target: str) -> PlanRow | None:
    row = db.scalar(select(PlanRow).where(PlanRow.source_id == source_id, PlanRow.manifest_path == path,
                                          PlanRow.target == target, PlanRow.status.in_(IN_FLIGHT))
                    .order_by(PlanRow.id.desc()))
    if row is None:
        return None
    job = db.get(Job, row.job_id) if row.job_id else None
    return row if job is None or job.status not in FINAL else None


def last_applied(db: Session, source_id: int, path: str, target: str) -> PlanRow | None:
    return db.scalar(select(PlanRow).where(PlanRow.source_id == source_id, PlanRow.manifest_path == path,
                                           PlanRow.target == target, PlanRow.status.in_(("applied", "failed")))
                     .order_by(PlanRow.id.desc()))


def record(db: Session, store, *, source_id: int, source_name: str, path: str, kind: str, connection: str,
           plan: Plan, policy: str, limits) -> tuple[PlanRow | None, bool]:
    """Stores the plan (or finds the identical one waiting); returns (row, should_apply_now)."""
    previous = last_applied(db, source_id, path, plan.target)
    if previous is not None and previous.converged is None:
        previous.converged = plan.empty          # the apply was verified by this observation
        if not plan.empty and previous.status == "applied":
            _open_incident(db, source_id, previous, plan)
        elif plan.empty:
            # a later apply converged: the "did not converge" incident of this target went away
            incidents.resolve_by_fingerprint(
                db, _converge_fingerprint(source_id, path, plan.target), actor="jarvis",
                resolution=incidents.Resolution(cause="the target had not converged after an apply",
                                                action="a later apply converged", plan_id=previous.id,
                                                job_id=previous.job_id))
    if plan.empty:
        db.execute(update(PlanRow).where(PlanRow.source_id == source_id, PlanRow.manifest_path == path,
                                         PlanRow.target == plan.target, PlanRow.status.in_(WAITING + ("detected",)))
                   .values(status="expired"))
        return None, False
    checksum = plan.checksum
    same = db.scalar(select(PlanRow).where(PlanRow.source_id == source_id, PlanRow.manifest_path == path,
                                           PlanRow.target == plan.target, PlanRow.checksum == checksum,
                                           PlanRow.status.in_(WAITING + ("detected",))))
    if same is not None:
        return same, False
    db.execute(update(PlanRow).where(PlanRow.source_id == source_id, PlanRow.manifest_path == path,
                                     PlanRow.target == plan.target, PlanRow.status.in_(WAITING + ("detected",)))
               .values(status="expired"))
    held = plan.held_reasons(limits)
    if previous is not None and previous.checksum == checksum and previous.converged is False:
        held.append("the same changes were applied before and did not converge")
    if policy == "detect":
        status = "detected"
    elif held:
        status = "held"
    else:
        status = "approved" if policy == "auto" else "pending"
    row = PlanRow(source_id=source_id, manifest_path=path, manifest_name=plan.manifest, target=plan.target, kind=kind,
                  connection=connection, revision=plan.revision, policy=policy, status=status, checksum=checksum,
                  changes=[c.to_dict() for c in plan.changes], counts=plan.counts(), held_reasons=held,
                  errors=list(plan.errors), managed_count=plan.managed_count,
                  decided_by="policy:auto" if status == "approved" else "")
    db.add(row)
    db.flush()
    notify.plan_recorded(db, row)
    if plan.secrets:
        values = {k: base64.b64encode(v).decode() for k, v in plan.secrets.items()}
        row.secrets_key_id, row.secrets = store.seal(values, f"plans:{row.id}")
    return row, status == "approved"


def _plan_secrets(store, row: PlanRow) -> dict[str, bytes]:
    if not row.secrets or not row.secrets_key_id:
        return {}
    return {k: base64.b64decode(v) for k, v in store.open(row.secrets_key_id, row.secrets, f"plans:{row.id}").items()}


def _converge_fingerprint(source_id: int, path: str, target: str) -> str:
    return f"converge:{source_id}:{path}:{target}"


def _open_incident(db: Session, source_id: int, applied: PlanRow, plan: Plan) -> None:
    still = [c.resource for c in plan.changes][:20]
    incidents.open_or_update(
        db, _converge_fingerprint(source_id, applied.manifest_path, applied.target),
        title=f"{applied.target}: did not converge after apply", origin="convergence", source_id=source_id,
        target=applied.target, resource=", ".join(still)[:300], job_id=applied.job_id,
        detail={"plan_id": applied.id, "still_different": still, "errors": list(plan.errors)[:20]})


def enqueue_apply(rt: Runtime, db: Session, row: PlanRow, by: str, source_name: str) -> Job:
    """Queues exactly the stored changes of `row` as an apply job."""
    reconciler = registry.reconcilers(rt).get(row.kind)
    if reconciler is None:
        raise Conflict(f"no reconciler for {row.kind} is installed")
    conn = connections.info(rt.secrets, connections.by_name(db, row.connection))
    plan = Plan(target=row.target, changes=tuple(Change.from_dict(c) for c in row.changes),
                managed_count=row.managed_count, source=source_name, manifest=row.manifest_name,
                revision=row.revision, secrets=_plan_secrets(rt.secrets, row))
    steps, secret_env = [], {}
    for pos, s in enumerate(reconciler.steps(plan, conn)):
        steps.append({"name": s.name, "playbook": s.playbook, "vars": dict(s.vars), "resource": s.resource,
                      "continue_on_error": True, "wave": s.wave, "depends_on": list(s.depends_on)})
        # sealed with the job; the worker gives step N its own as JARVIS_STEP_<KEY>
        secret_env.update({f"{STEP_SECRET_PREFIX}{pos}_{k.upper()}": v for k, v in s.secrets.items()})
    req = JobRequest(runbook=f"apply:{row.kind}", title=f"Apply {row.manifest_name} → {row.target}",
                     steps=steps, connection=row.connection, secret_env=secret_env, concurrency_key=f"target:{row.target}",
                     timeout_s=3600, max_attempts=1, retry_on=[], trigger="reconcile", created_by=by,
                     plan_id=row.id)
    job = JobsService.of(rt).enqueue(db, req)
    row.job_id = job.id
    db.commit()
    return job


def approve(rt: Runtime, db: Session, plan_id: int, checksum: str, by: str) -> Job:
    row = db.get(PlanRow, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    if row.status not in WAITING:
        raise Conflict(f"plan {plan_id} is {row.status}; only a pending or held plan can be approved")
    if checksum != row.checksum:
        raise Invalid("the plan changed since it was shown; reload it",
                      errors=[{"field": "checksum", "message": "does not match the stored plan"}])
    if apply_in_flight(db, row.source_id, row.manifest_path, row.target):
        raise Conflict(f"an apply to {row.target} is already running")
    source = db.get(Source, row.source_id)
    row.status, row.decided_by, row.decided_at = "approved", by, utcnow()
    db.flush()
    return enqueue_apply(rt, db, row, by, source.name if source else "")


def reject(db: Session, plan_id: int, by: str) -> PlanRow:
    row = db.get(PlanRow, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    if row.status not in WAITING:
        raise Conflict(f"plan {plan_id} is {row.status}; only a pending or held plan can be rejected")
    row.status, row.decided_by, row.decided_at = "rejected", by, utcnow()
    return row
