"""/api/jobs: list, detail with the step timeline, events, artifacts, cancel and rerun."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy import func, select

from api.deps import DbDep, RuntimeDep, principal_of, require
from api.routers.runbooks import queued
from api.schemas.common import Counter, Id, Offset, Page, limit_upto
from api.schemas.jobs import (
    ArtifactPublic,
    CancelOut,
    EventPublic,
    EventsPage,
    JobDetail,
    JobQueued,
    JobSummary,
    StepPublic,
)
from controller.errors import NotFound
from controller.jobs import submit
from controller.jobs.service import JobsService
from controller.store.models import FINAL, Job, JobArtifact, JobEvent, JobStep

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def _duration(start, end) -> float | None:
    if start is None:
        return None
    return round(((end or dt.datetime.now(dt.UTC)) - start).total_seconds(), 3)


def summary(job: Job) -> JobSummary:
    return JobSummary(id=job.id, runbook=job.runbook, title=job.title, status=job.status, trigger=job.trigger,
                      created_by=job.created_by, created_at=job.created_at, started_at=job.started_at,
                      finished_at=job.finished_at, duration_s=_duration(job.started_at, job.finished_at),
                      attempt=job.attempt, rerun_of=job.rerun_of, reason=job.reason, plan_id=job.plan_id)


def _get(db, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    return job


@router.get("", response_model=Page[JobSummary], dependencies=[Depends(require("jobs.read"))])
def list_jobs(db: DbDep, status: str | None = None, runbook: str | None = None, user: str | None = None,
              trigger: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
              offset: Offset = 0, limit: limit_upto(200) = 25):
    """Newest first."""
    q = select(Job)
    for col, val in ((Job.status, status), (Job.runbook, runbook), (Job.created_by, user), (Job.trigger, trigger)):
        if val:
            q = q.where(col == val)
    if since:
        q = q.where(Job.created_at >= since)
    if until:
        q = q.where(Job.created_at < until)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(q.order_by(Job.id.desc()).offset(offset).limit(limit)).all()
    return Page[JobSummary](items=[summary(j) for j in rows], total=total, offset=offset, limit=limit)


@router.get("/{job_id}", response_model=JobDetail, dependencies=[Depends(require("jobs.read"))])
def get_job(job_id: Id, db: DbDep):
    job = _get(db, job_id)
    steps = db.scalars(select(JobStep).where(JobStep.job_id == job_id).order_by(JobStep.id)).all()
    arts = db.scalars(select(JobArtifact).where(JobArtifact.job_id == job_id).order_by(JobArtifact.name)).all()
    return JobDetail(
        **summary(job).model_dump(), input=job.input_json, output=job.output_json, connection=job.connection,
        last_counter=job.last_counter,
        steps=[StepPublic(id=s.id, position=s.position, attempt=s.attempt, step_name=s.step_name, resource=s.resource,
                          status=s.status, started_at=s.started_at, finished_at=s.finished_at,
                          duration_s=_duration(s.started_at, s.finished_at) if s.started_at else None,
                          failures=(s.result or {}).get("failures", []), error=(s.result or {}).get("error") or "",
                          logs=s.logs[-8000:]) for s in steps],
        artifacts=[ArtifactPublic(name=a.name, size=a.size, url=f"/api/jobs/{job_id}/artifacts/{a.name}")
                   for a in arts])


@router.get("/{job_id}/events", response_model=EventsPage, dependencies=[Depends(require("jobs.read"))])
def job_events(job_id: Id, db: DbDep, after: Counter = 0, limit: limit_upto(10_000) = 1000):
    job = _get(db, job_id)
    rows = db.scalars(select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.counter > after)
                      .order_by(JobEvent.counter).limit(limit)).all()
    last = rows[-1].counter if rows else after
    return EventsPage(events=[EventPublic.model_validate(r) for r in rows], last_counter=last,
                      done=job.status in FINAL and last >= job.last_counter)


@router.get("/{job_id}/artifacts/{name}", dependencies=[Depends(require("jobs.read"))])
def artifact(job_id: Id, name: str, db: DbDep, rt: RuntimeDep):
    row = db.scalar(select(JobArtifact).where(JobArtifact.job_id == job_id, JobArtifact.name == name))
    if row is None:
        raise NotFound(f"job {job_id} has no artifact {name!r}")
    root = (rt.settings.data_dir / "artifacts").resolve()
    path = (root / row.path).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"artifact {name!r} is no longer on disk")
    return FileResponse(path, filename=name, media_type="application/octet-stream")


@router.post("/{job_id}/cancel", response_model=CancelOut, status_code=202,
             dependencies=[Depends(require("jobs.cancel"))])
def cancel(job_id: Id, request: Request, db: DbDep, rt: RuntimeDep):
    job = _get(db, job_id)
    request.state.audit = {"target": f"job/{job_id}"}
    state = submit.request_cancel(db, job)
    if state == "canceled":
        db.commit()
        JobsService.of(rt).bus.publish(job_id, [{"type": "status", "status": "canceled"},
                                                {"type": "end", "status": "canceled", "last_counter": job.last_counter}])
    return CancelOut(id=job_id, status=state)


@router.post("/{job_id}/rerun", response_model=JobQueued, status_code=202)
def rerun(job_id: Id, request: Request, db: DbDep, rt: RuntimeDep, who: principal_of("jobs.rerun")):
    old = _get(db, job_id)
    request.state.audit = {"target": f"job/{job_id}"}
    job = JobsService.of(rt).rerun(db, old, who.user.email)
    return queued(job.id, job.status)
