"""The reconcile loop for one source: fetch → parse → per manifest and target: observe → diff →
plan → act per policy. Verification is the next observation after an apply.

A manifest with errors plans nothing from its broken text: its last good version stays in force
(so a broken push never prunes). Every failure is stored where the drift view and history show it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from sqlalchemy import delete, insert, select, update

from controller import connections, registry
from controller.backups import schedule
from controller.gitops import decisions, in_force
from controller.gitops.git import Credentials, GitError
from controller.gitops.planner import TargetPlan, plan_manifest
from controller.gitops.repo import SourceRef, snapshot
from controller.gitops.status import sync_status
from controller.jobs.service import JobsService
from controller.plans import SafetyLimits
from controller.runtime import Runtime
from controller.store.models import (
    DriftItem,
    PlanRow,
    ReconcileRun,
    Revision,
    Source,
    TargetStatus,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass
class SyncResult:
    run_id: int
    revision: str | None = None
    error: str = ""
    plan_ids: list[int] = field(default_factory=list)
    job_ids: list[int] = field(default_factory=list)


def source_ref(rt: Runtime, source: Source) -> SourceRef:
    creds = None
    if source.connection:
        with rt.db.session() as db:
            info = connections.info(rt.secrets, connections.by_name(db, source.connection))
        creds = Credentials(token=info.secrets.get("token"), ssh_key=info.secrets.get("private_key"),
                            ssh_user=info.config.get("ssh_user", "git"))
    return SourceRef(id=source.id, url=source.url, branch=source.branch, paths=list(source.paths),
                     credentials=creds, mirror_dir=rt.settings.data_dir / "mirrors" / str(source.id))


def sync_source(rt: Runtime, source_id: int, trigger: str, limits: SafetyLimits = SafetyLimits()) -> SyncResult:
    started = time.monotonic()
    with rt.db.session() as db:
        source = db.get(Source, source_id)
        if source is None:
            raise LookupError(f"source {source_id} is gone")
        run = ReconcileRun(source_id=source_id, trigger=trigger)
        db.add(run)
        source.status = "syncing"
        db.flush()
        result = SyncResult(run_id=run.id)
        db.expunge(source)
    try:
        _sync(rt, source, trigger, result, limits)
    except Exception as exc:   # recorded, visible; the next sync tries again
        result.error = str(getattr(exc, "message", None) or exc) or type(exc).__name__
        if not isinstance(exc, GitError):
            log.exception("sync of source %s failed", source.name)
    now = utcnow()
    with rt.db.session() as db:
        src = db.get(Source, source_id)
        run = db.get(ReconcileRun, result.run_id)
        run.finished_at, run.revision = now, result.revision
        run.result = sync_status(result.error, run.summary)
        run.error, run.plan_ids, run.job_ids = result.error[:5000], result.plan_ids, result.job_ids
        run.summary = {**(run.summary or {}), "duration_s": round(time.monotonic() - started, 3)}
        if src is not None:
            src.status, src.last_sync_at, src.last_error = run.result, now, result.error[:5000]
            if not result.error:
                src.last_success_at = now
    return result


def _sync(rt: Runtime, source: Source, trigger: str, result: SyncResult, limits: SafetyLimits) -> None:
    snap = snapshot(source_ref(rt, source))
    rev = snap.revision
    previous = source.last_revision
    history = snap.history()
    result.revision = rev.sha
    with rt.db.session() as db:
        new_revision = source.last_revision != rev.sha
        if db.scalar(select(Revision.id).where(Revision.source_id == source.id, Revision.sha == rev.sha)) is None:
            db.add(Revision(source_id=source.id, sha=rev.sha, author=rev.author, message=rev.message,
                            committed_at=rev.committed_at))
        if new_revision:
            # plans made for an older revision expire when a newer one arrives
            db.execute(update(PlanRow).where(PlanRow.source_id == source.id, PlanRow.revision != rev.sha,
                                             PlanRow.status.in_(decisions.WAITING + ("detected",)))
                       .values(status="expired"))
        db.execute(update(Source).where(Source.id == source.id).values(last_revision=rev.sha))
        known = connections.credential_keys(db)   # names and credential keys: references are checked

    reconcilers = registry.reconcilers(rt)
    conns: dict[str, object] = {}   # one lookup (and decryption) per connection per sync

    def connection(name: str):
        if name not in conns:
            conns[name] = _connection(rt, name)
        return conns[name]

    backup_inputs = schedule.manifest_checker(JobsService.of(rt).catalog)
    summary = {"manifests": 0, "invalid": 0, "create": 0, "update": 0, "delete": 0}
    for path, raw in sorted(snap.manifests.items()):
        summary["manifests"] += 1
        with rt.db.session() as db:
            state = in_force.store_and_resolve(db, source.id, path, rev.sha, raw, known, history, previous,
                                               backup_inputs)
        manifest, errors = state.manifest, state.errors
        fallback_rev = None if state.valid else (state.revision or rev.sha)
        if fallback_rev is not None:
            summary["invalid"] += 1
        if manifest is None:
            _replace_drift(rt, source.id, path, None, [_item(path, "", "error", error="\n".join(
                ["manifest has errors; no earlier valid version to keep in force:", *errors[:20]]))])
            continue
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        targets = plan_manifest(manifest, path=path, source=source.name, revision=fallback_rev or rev.sha,
                                reconcilers=reconcilers, files=snap.files.under(folder),
                                connection=connection)
        for tp in targets:
            _act(rt, source, path, manifest, tp, result, summary, limits)
    with rt.db.session() as db:
        db.execute(update(Source).where(Source.id == source.id).values(watched_files=sorted(snap.files.read)))
        stale = set(db.scalars(select(DriftItem.manifest_path).where(DriftItem.source_id == source.id)))
        gone = stale - set(snap.manifests)
        if gone:   # a manifest file removed from the repository: stop reporting it (nothing is pruned)
            db.execute(delete(DriftItem).where(DriftItem.source_id == source.id, DriftItem.manifest_path.in_(gone)))
        run = db.get(ReconcileRun, result.run_id)
        run.summary = summary


def _connection(rt: Runtime, name: str):
    with rt.db.session() as db:
        return connections.info(rt.secrets, connections.by_name(db, name))


def _act(rt: Runtime, source: Source, path: str, manifest, tp: TargetPlan, result: SyncResult, summary: dict,
         limits: SafetyLimits) -> None:
    policy = manifest.policy.sync
    with rt.db.session() as db:
        if tp.summary is not None:
            _store_health(db, tp)
        if tp.error or tp.plan is None:
            _replace_drift(rt, source.id, path, tp.target, [_item(path, tp.target, "error", error=tp.error)], db=db)
            return
        if decisions.apply_in_flight(db, source.id, path, tp.target):
            items = [_item(path, tp.target, "pending", c.resource, c.action.value, c.fields) for c in tp.plan.changes]
            _replace_drift(rt, source.id, path, tp.target, items, db=db)
            return
        row, apply_now = decisions.record(db, rt.secrets, source_id=source.id, source_name=source.name, path=path, kind=tp.kind,
                                          connection=tp.connection, plan=tp.plan, policy=policy, limits=limits)
        for k, v in tp.plan.counts().items():
            summary[k] += v
        changed = {c.resource: c for c in tp.plan.changes}
        status = "drifted" if row is not None and row.status == "detected" else "pending"
        items = [_item(path, tp.target, status, c.resource, c.action.value, c.fields, plan_id=row.id if row else None)
                 for c in tp.plan.changes]
        items += [_item(path, tp.target, "in_sync", r.key) for r in tp.desired.resources if r.key not in changed]
        items += [_item(path, tp.target, "error", error=e) for e in tp.plan.errors]
        _replace_drift(rt, source.id, path, tp.target, items, db=db)
        if row is not None:
            result.plan_ids.append(row.id)
            if apply_now:
                job = decisions.enqueue_apply(rt, db, row, "policy:auto", source.name)
                result.job_ids.append(job.id)


def _store_health(db, tp: TargetPlan) -> None:
    """The last observation of the target: its raw health (when it answered) and the kind's summary."""
    row = db.get(TargetStatus, tp.target)
    summary = tp.summary.to_dict()
    health = dict(tp.live.health or {}) if tp.live is not None else {}
    errors = list(tp.live.errors) if tp.live is not None else list(tp.summary.errors)
    if row is None:
        db.add(TargetStatus(target=tp.target, kind=tp.kind, connection=tp.connection, health=health,
                            errors=errors, summary=summary))
    else:
        if tp.live is not None:
            row.health = health
        row.errors, row.summary, row.observed_at = errors, summary, utcnow()


def _item(path, target, status, resource="", action="", fields=(), plan_id=None, error="") -> dict:
    return {"manifest_path": path, "target": target, "resource": resource, "status": status, "action": action,
            "fields": [asdict(f) for f in fields],
            "plan_id": plan_id, "error": error[:5000]}


def _replace_drift(rt: Runtime, source_id: int, path: str, target: str | None, items: list[dict], db=None) -> None:
    def write(s):
        q = delete(DriftItem).where(DriftItem.source_id == source_id, DriftItem.manifest_path == path)
        if target is not None:
            q = q.where(DriftItem.target == target)
        s.execute(q)
        if items:
            now = utcnow()
            s.execute(insert(DriftItem), [{"source_id": source_id, "updated_at": now, **it} for it in items])

    if db is not None:
        write(db)
    else:
        with rt.db.session() as s:
            write(s)
