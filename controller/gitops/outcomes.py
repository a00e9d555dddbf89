"""After an apply job ends: the plan records the outcome and its source is synced again to verify."""

from __future__ import annotations

from sqlalchemy import update

from controller.runtime import Runtime
from controller.store.models import Job, PlanRow, Source, utcnow


def job_finished(rt: Runtime, job_id: int, status: str) -> None:
    with rt.db.session() as s:
        job = s.get(Job, job_id)
        if job is None or job.plan_id is None:
            return
        plan = s.get(PlanRow, job.plan_id)
        if plan is None:
            return
        plan.status = "applied" if status == "success" else "failed"
        plan.finished_at = utcnow()
        plan.converged = None     # the verifying observation decides
        s.execute(update(Source).where(Source.id == plan.source_id)
                  .values(sync_requested_at=utcnow(), sync_reason="verify"))
