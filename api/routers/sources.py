"""/api/sources: git repositories (or local folders) holding orch.yaml manifests."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from api.deps import DbDep, RuntimeDep, principal_of, require
from api.schemas.common import Id, limit_upto
from api.schemas.gitops import (
    HistoryPublic,
    RevisionPublic,
    SourceCreate,
    SourcePublic,
    SourceUpdate,
    SyncRequested,
)
from controller.errors import Conflict, NotFound
from controller.gitops.leader import current as current_leader
from controller.gitops.status import status_text
from controller.store.models import Manifest, ReconcileRun, Revision, Source, utcnow

router = APIRouter(prefix="/api/sources", tags=["sources"])
Admin = principal_of("sources.write")
ALERT_AFTER_INTERVALS = 3


def _get(db, source_id: int) -> Source:
    src = db.get(Source, source_id)
    if src is None:
        raise NotFound(f"source {source_id} not found")
    return src


def alert_of(src: Source, controller_alive: bool) -> tuple[bool, str]:
    """A source that has not reconciled successfully for 3 intervals, or no controller leading at all."""
    if not src.enabled:
        return False, ""
    if not controller_alive:
        return True, "no controller is running: nothing is being reconciled"
    since = src.last_success_at or src.created_at
    if utcnow() - since > dt.timedelta(seconds=ALERT_AFTER_INTERVALS * max(src.poll_interval, 5)):
        return True, f"not reconciled successfully for more than {ALERT_AFTER_INTERVALS} intervals"
    return False, ""


def status_text_of(db, src: Source) -> str:
    """The source's status in words, with the counts of its last finished sync."""
    summary = db.scalar(select(ReconcileRun.summary).where(ReconcileRun.source_id == src.id,
                                                           ReconcileRun.finished_at.is_not(None))
                        .order_by(ReconcileRun.id.desc()).limit(1))
    return status_text(src.status, summary)


def public(db, src: Source, controller_alive: bool) -> SourcePublic:
    rev = None
    if src.last_revision:
        r = db.scalar(select(Revision).where(Revision.source_id == src.id, Revision.sha == src.last_revision))
        rev = RevisionPublic.model_validate(r) if r else RevisionPublic(sha=src.last_revision, author="", message="",
                                                                       committed_at=None)
    alert, reason = alert_of(src, controller_alive)
    return SourcePublic(id=src.id, name=src.name, url=src.url, branch=src.branch, paths=src.paths,
                        poll_interval=src.poll_interval, connection=src.connection, enabled=src.enabled,
                        has_webhook_secret=src.webhook_secret is not None, status=src.status, last_error=src.last_error,
                        status_text=status_text_of(db, src),
                        last_revision=rev, last_sync_at=src.last_sync_at, last_success_at=src.last_success_at,
                        alert=alert, alert_reason=reason)


def controller_alive(rt) -> bool:
    lease = current_leader(rt.db)
    return lease is not None and lease.expires_at > utcnow()


@router.get("", response_model=list[SourcePublic], dependencies=[Depends(require("sources.read"))])
def list_sources(db: DbDep, rt: RuntimeDep):
    alive = controller_alive(rt)
    return [public(db, s, alive) for s in db.scalars(select(Source).order_by(Source.name))]


@router.post("", response_model=SourcePublic, status_code=201)
def create_source(body: SourceCreate, request: Request, db: DbDep, rt: RuntimeDep, who: Admin):
    request.state.audit = {"target": f"source/{body.name}"}
    if db.scalar(select(Source.id).where(Source.name == body.name)) is not None:
        raise Conflict(f"a source named {body.name!r} already exists")
    src = Source(name=body.name, url=body.url, branch=body.branch, paths=body.paths, poll_interval=body.poll_interval,
                 connection=body.connection or None, enabled=body.enabled, created_by=who.user.email,
                 sync_requested_at=utcnow(), sync_reason="created")
    db.add(src)
    db.flush()
    _set_secret(rt, src, body.webhook_secret)
    return public(db, src, controller_alive(rt))


def _set_secret(rt, src: Source, secret: str | None) -> None:
    if secret is not None:
        src.webhook_key_id, src.webhook_secret = rt.secrets.seal({"secret": secret}, f"sources:{src.id}:webhook")


def webhook_secret(rt, src: Source) -> str | None:
    if src.webhook_secret is None or src.webhook_key_id is None:
        return None
    return rt.secrets.open(src.webhook_key_id, src.webhook_secret, f"sources:{src.id}:webhook")["secret"]


@router.get("/{source_id}", response_model=SourcePublic, dependencies=[Depends(require("sources.read"))])
def get_source(source_id: Id, db: DbDep, rt: RuntimeDep):
    return public(db, _get(db, source_id), controller_alive(rt))


@router.patch("/{source_id}", response_model=SourcePublic)
def update_source(source_id: Id, body: SourceUpdate, request: Request, db: DbDep, rt: RuntimeDep, who: Admin):
    src = _get(db, source_id)
    request.state.audit = {"target": f"source/{src.name}"}
    for field in body.model_fields_set & {"url", "branch", "paths", "poll_interval", "connection", "enabled"}:
        value = getattr(body, field)
        if field == "connection":
            src.connection = value or None          # null or "" clears it
        elif value is not None:
            setattr(src, field, value)
    _set_secret(rt, src, body.webhook_secret)
    src.sync_requested_at, src.sync_reason = utcnow(), "updated"
    return public(db, src, controller_alive(rt))


@router.delete("/{source_id}", status_code=204)
def delete_source(source_id: Id, request: Request, db: DbDep, who: Admin, response: Response):
    """Stops reconciling the source. Nothing it deployed is deleted."""
    src = _get(db, source_id)
    request.state.audit = {"target": f"source/{src.name}"}
    db.delete(src)
    response.status_code = 204
    return response


@router.post("/{source_id}/sync", response_model=SyncRequested, status_code=202,
             dependencies=[Depends(require("sources.sync"))])
def sync_now(source_id: Id, request: Request, db: DbDep):
    src = _get(db, source_id)
    request.state.audit = {"target": f"source/{src.name}"}
    src.sync_requested_at, src.sync_reason = utcnow(), "manual"
    return SyncRequested(id=source_id)


@router.get("/{source_id}/history", response_model=list[HistoryPublic], dependencies=[Depends(require("sources.read"))])
def history(source_id: Id, db: DbDep, limit: limit_upto(500) = 50):
    _get(db, source_id)
    runs = db.scalars(select(ReconcileRun).where(ReconcileRun.source_id == source_id)
                      .order_by(ReconcileRun.id.desc()).limit(limit)).all()
    return [HistoryPublic(id=r.id, trigger=r.trigger, revision=r.revision, started_at=r.started_at,
                          finished_at=r.finished_at, result=r.result, error=r.error,
                          result_text=status_text(r.result, r.summary),
                          duration_s=(r.summary or {}).get("duration_s"),
                          plan_summary={k: (r.summary or {}).get(k, 0) for k in ("create", "update", "delete")},
                          plan_ids=r.plan_ids or [], job_ids=r.job_ids or [],
                          job_id=(r.job_ids or [None])[0]) for r in runs]


@router.get("/{source_id}/manifests", dependencies=[Depends(require("sources.read"))])
def manifests(source_id: Id, db: DbDep) -> list[dict]:
    """Each manifest of the last revision: valid or not, its errors (file:line:column), and the
    revision whose version is in force (an invalid push keeps the last good one)."""
    src = _get(db, source_id)
    rows = db.scalars(select(Manifest).where(Manifest.source_id == source_id, Manifest.revision == src.last_revision)
                      .order_by(Manifest.path)).all()
    out = []
    for m in rows:   # the version in force was found in commit order when the revision was synced
        out.append({"path": m.path, "name": m.name, "revision": m.revision, "valid": m.valid, "errors": m.errors,
                    "in_force_revision": m.in_force_revision})
    return out
