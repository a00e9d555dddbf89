"""After an apply job ends: the plan records the outcome, a failure opens incidents, and the
source is synced again to verify. Runs in the worker's transaction that stores the job's final
status, so whoever sees that status also sees all of this."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller import incidents
from controller.store.models import Job, JobStep, PlanRow, Source, utcnow


def job_finished(s: Session, job_id: int, status: str) -> None:
    job = s.get(Job, job_id)
    if job is None or job.plan_id is None:
        return
    plan = s.get(PlanRow, job.plan_id)
    if plan is None:
        return
    plan.status = "applied" if status == "success" else "failed"
    plan.finished_at = utcnow()
    plan.converged = None     # the verifying observation decides
    if status != "success":
        _open_incidents(s, plan, job)
    s.execute(update(Source).where(Source.id == plan.source_id)
              .values(sync_requested_at=utcnow(), sync_reason="verify"))


def _open_incidents(s: Session, plan: PlanRow, job: Job) -> None:
    """One incident per resource whose step failed, with the step's errors (a service's task errors)."""
    failed = s.scalars(select(JobStep).where(JobStep.job_id == job.id, JobStep.status != "success")).all()
    for step in failed or [None]:
        result = (step.result if step else None) or {}
        errors = [f.get("message", "") for f in result.get("failures", [])]
        for stats in (result.get("set_stats") or {}).values():
            if isinstance(stats, dict):
                errors += [str(e) for e in stats.get("task_errors", [])]
        resource = step.resource if step else ""
        # the same resource failing again updates its open incident rather than opening another
        incidents.open_or_update(
            s, f"apply:{plan.source_id}:{plan.target}:{resource}", title=f"{resource or plan.target}: apply {job.status}",
            origin="apply", source_id=plan.source_id, target=plan.target, resource=resource, job_id=job.id,
            detail={"plan_id": plan.id, "reason": job.reason, "errors": errors[:50],
                    "step": step.step_name if step else ""},
            message=(errors[0] if errors else job.reason or f"apply {job.status}")[:500])
