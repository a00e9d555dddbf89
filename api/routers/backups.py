"""/api/backups: the scheduled backups of the manifests in force, with their last results and
checks; an operator runs one now, or checks its repository (restic check) or test-restores it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from api.deps import DbDep, RuntimeDep, principal_of, require
from api.schemas.backups import (
    BackupCheckPublic,
    BackupDetail,
    BackupPublic,
    BackupQueued,
    CheckIn,
    RestoreIn,
    SnapshotPublic,
)
from api.schemas.common import Id
from controller import connections
from controller.backups import schedule
from controller.backups.restic import Repository, ResticError
from controller.errors import NotFound
from controller.jobs.service import JobsService
from controller.store.models import BackupCheck, BackupSchedule, Incident

router = APIRouter(prefix="/api/backups", tags=["backups"])
Runner = principal_of("backups.run")
ACTIVE = ("open", "acknowledged")
SIZED = 10


def _status_text(row: BackupSchedule) -> str:
    """In words, only what was checked: success means the snapshot was listed in the repository."""
    if row.error:
        return f"invalid: {row.error}"
    if row.last_status == "never":
        return "not run yet"
    if row.last_status == "running":
        return "running"
    if row.last_status == "success":
        return f"ok: snapshot {row.last_snapshot_id[:8]} in the repository"
    return f"failed: {row.last_error}"


def public(db, row: BackupSchedule) -> BackupPublic:
    incident = db.scalar(select(Incident.id).where(Incident.fingerprint.like(schedule.fingerprint(row) + "%"),
                                                   Incident.state.in_(ACTIVE)).limit(1))
    return BackupPublic.model_validate({**{c: getattr(row, c) for c in BackupPublic.model_fields
                                           if hasattr(row, c)},
                                        "repository": str(row.input.get("repository") or ""),
                                        "status_text": _status_text(row), "overdue": schedule.overdue(row),
                                        "incident_id": incident})


def _row(db, backup_id: int) -> BackupSchedule:
    row = db.get(BackupSchedule, backup_id)
    if row is None:
        raise NotFound(f"backup {backup_id} not found")
    return row


@router.get("", response_model=list[BackupPublic], dependencies=[Depends(require("backups.read"))])
def list_backups(db: DbDep):
    return all_backups(db)


def all_backups(db) -> list[BackupPublic]:
    """Every scheduled backup, by name (the Backups page and the dashboard's widget)."""
    rows = db.scalars(select(BackupSchedule).order_by(BackupSchedule.name, BackupSchedule.id)).all()
    return [public(db, r) for r in rows]


@router.get("/{backup_id}", response_model=BackupDetail, dependencies=[Depends(require("backups.read"))])
def get_backup(backup_id: Id, db: DbDep, rt: RuntimeDep):
    """With the snapshots the repository lists now (restic snapshots; an unreachable repository says why)."""
    row = _row(db, backup_id)
    snaps, error = [], ""
    name = row.input.get("repository")
    try:
        info = connections.info(rt.secrets, connections.by_name(db, name)) if name else None
        if info is None:
            error = "no repository connection named in the backup's input"
        else:
            with Repository(info) as repo:
                listed = list(reversed(repo.snapshots(row.target) if row.target else []))
                # the size each restores to (restic stats): one restic call each, so the newest few only
                sizes = {s["id"]: repo.stats(s["id"]).get("total_size") for s in listed[:SIZED]}
                snaps = [SnapshotPublic(id=s["id"], short_id=s.get("short_id") or s["id"][:8], time=s["time"],
                                        size=sizes.get(s["id"])) for s in listed]
    except (ResticError, NotFound) as exc:
        error = str(exc)
    checks = db.scalars(select(BackupCheck).where(BackupCheck.backup_id == row.id)
                        .order_by(BackupCheck.id.desc()).limit(20)).all()
    return BackupDetail.model_validate({**public(db, row).model_dump(), "input": row.input, "snapshots": snaps,
                                        "snapshots_error": error,
                                        "checks": [BackupCheckPublic.model_validate(c) for c in checks]})


@router.post("/{backup_id}/run", response_model=BackupQueued, status_code=202)
def run_backup(backup_id: Id, request: Request, db: DbDep, rt: RuntimeDep, who: Runner):
    """Run the backup now (the same job a schedule slot starts)."""
    row = _row(db, backup_id)
    request.state.audit = {"target": f"backup/{row.name}"}
    job = schedule.start_run(db, JobsService.of(rt), row, by=who.user.email, role=who.role, trigger="manual")
    request.state.audit["detail"] = {"job_id": job.id}
    return BackupQueued(job_id=job.id, status=job.status)


@router.post("/{backup_id}/check", response_model=BackupQueued, status_code=202)
def check_backup(backup_id: Id, body: CheckIn, request: Request, db: DbDep, rt: RuntimeDep, who: Runner):
    """`check`: restic check of the backup's repository; `restore`: a test restore into a scratch
    volume, compared file by file. The result is stored with the backup and shown with it."""
    row = _row(db, backup_id)
    request.state.audit = {"target": f"backup/{row.name}", "detail": {"kind": body.kind}}
    job = schedule.start_check(db, JobsService.of(rt), row, body.kind, by=who.user.email, role=who.role)
    return BackupQueued(job_id=job.id, status=job.status)


@router.post("/{backup_id}/restore", response_model=BackupQueued, status_code=202)
def restore_backup(backup_id: int, body: RestoreIn, request: Request, db: DbDep, rt: RuntimeDep, who: Runner):
    """Restore a snapshot with the backup's restore runbook (restore-volume, restore-postgres; their role
    is admin). Into a new volume or database by default; over an existing one only when confirmed."""
    row = _row(db, backup_id)
    request.state.audit = {"target": f"backup/{row.name}",
                           "detail": {"snapshot": body.snapshot, "into": body.into, "overwrite": body.overwrite}}
    job = schedule.start_restore(db, JobsService.of(rt), row, snapshot=body.snapshot, into=body.into,
                                 overwrite=body.overwrite, confirm=body.confirm, by=who.user.email, role=who.role)
    request.state.audit["detail"]["job_id"] = job.id
    return BackupQueued(job_id=job.id, status=job.status)
