"""/api/runbooks: the catalog, and running a runbook by hand."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from api.deps import DbDep, RuntimeDep, principal_of, require
from api.schemas.jobs import ExecuteIn, JobQueued, RunbookChoices, RunbookPublic
from controller.errors import NotFound
from controller.jobs import choices
from controller.jobs.catalog import Runbook
from controller.jobs.service import JobsService

router = APIRouter(prefix="/api/runbooks", tags=["runbooks"])
Executor = principal_of("runbooks.execute")


def public(rb: Runbook) -> RunbookPublic:
    return RunbookPublic(name=rb.name, title=rb.title, category=rb.category, description=rb.description,
                         role=rb.role, timeout=rb.timeout, connection_type=rb.connection_type,
                         input_schema=rb.input, source=rb.source)


def queued(job_id: int, status: str) -> JobQueued:
    return JobQueued(id=job_id, status=status, url=f"/api/jobs/{job_id}", events_url=f"/api/jobs/{job_id}/events",
                     ws_url=f"/ws/jobs/{job_id}")


@router.get("", response_model=list[RunbookPublic], dependencies=[Depends(require("runbooks.read"))])
def list_runbooks(rt: RuntimeDep, category: str | None = None, q: str | None = None):
    items = sorted(JobsService.of(rt).catalog, key=lambda r: (r.category, r.name))
    if category:
        items = [r for r in items if r.category == category]
    if q:
        needle = q.lower()
        items = [r for r in items if needle in f"{r.name} {r.title} {r.description}".lower()]
    return [public(r) for r in items]


@router.get("/{name}", response_model=RunbookPublic, dependencies=[Depends(require("runbooks.read"))])
def get_runbook(name: str, rt: RuntimeDep):
    rb = JobsService.of(rt).catalog.get(name)
    if rb is None:
        raise NotFound(f"runbook {name!r} not found")
    return public(rb)


@router.get("/{name}/choices", response_model=RunbookChoices, dependencies=[Depends(require("runbooks.read"))])
def get_choices(name: str, rt: RuntimeDep, db: DbDep, connection: str | None = None):
    """Live names for the inputs marked `x-jarvis-choices: <kind>.<collection>` (e.g. swarm.services),
    from the last observation of that kind's targets (on `connection` when given). Free text stays allowed."""
    rb = JobsService.of(rt).catalog.get(name)
    if rb is None:
        raise NotFound(f"runbook {name!r} not found")
    return RunbookChoices(choices=choices.resolve(db, rb.input, connection))


@router.post("/{name}/execute", response_model=JobQueued, status_code=202)
def execute(name: str, body: ExecuteIn, request: Request, db: DbDep, rt: RuntimeDep, who: Executor):
    """Validates the input against the runbook's schema (422 with paths), creates and queues the job."""
    request.state.audit = {"target": f"runbook/{name}"}
    job = JobsService.of(rt).run_runbook(db, name, body.input, user_email=who.user.email, user_role=who.role)
    request.state.audit["detail"] = {"job_id": job.id}
    return queued(job.id, job.status)
