"""The reconcile loop for one source: fetch → parse → per manifest and target: observe → diff →
plan → act per policy. Verification is the next observation after an apply.

A push re-plans only the manifests it changed (controller.gitops.changes): the others keep their
stored rows, plans and drift, carried to the new revision. Each target is read once per sync, and
the read is shared by every manifest on it (`contract.Observations`).

A manifest with errors plans nothing from its broken text: its last good version stays in force
(so a broken push never prunes). Every failure is stored where the drift view and history show it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from sqlalchemy import case, delete, exists, func, insert, literal, select, update

from controller import connections, registry
from controller.backups import schedule
from controller.contract import Observations
from controller.gitops import changes, decisions, in_force
from controller.gitops.git import Credentials, GitError
from controller.gitops.planner import TargetPlan, plan_manifest
from controller.gitops.repo import Snapshot, SourceRef, snapshot
from controller.gitops.status import sync_status
from controller.jobs.service import JobsService
from controller.plans import SafetyLimits
from controller.runtime import Runtime
from controller.store.models import (
    DriftItem,
    Manifest,
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
    planned: list[str] = field(default_factory=list)    # manifest paths parsed and planned in this sync
    full: bool = True                                   # every manifest (False: only what a push changed)
    reads: dict[str, int] = field(default_factory=dict)  # target → reads of it in this sync


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
        scope = _change_set(db, source.id, snap, trigger)
        carried = sorted(set(snap.manifests) - scope.replan)
        new_revision = source.last_revision != rev.sha
        if db.scalar(select(Revision.id).where(Revision.source_id == source.id, Revision.sha == rev.sha)) is None:
            db.add(Revision(source_id=source.id, sha=rev.sha, author=rev.author, message=rev.message,
                            committed_at=rev.committed_at))
        if new_revision:
            # plans made for an older revision expire when a newer one arrives (a manifest the push did
            # not change keeps its waiting plan: its desired state is the same)
            q = update(PlanRow).where(PlanRow.source_id == source.id, PlanRow.revision != rev.sha,
                                      PlanRow.status.in_(decisions.WAITING + ("detected",)))
            if carried:
                q = q.where(PlanRow.manifest_path.notin_(carried))
            db.execute(q.values(status="expired"))
        db.execute(update(Source).where(Source.id == source.id).values(last_revision=rev.sha))
        known = connections.credential_keys(db)   # names and credential keys: references are checked
    planned: set[str] = set()   # the targets this revision's manifests declare

    reconcilers = registry.reconcilers(rt)
    conns: dict[str, object] = {}   # one lookup (and decryption) per connection per sync
    observations = Observations()   # one read per target per sync, shared by its manifests

    def connection(name: str):
        if name not in conns:
            conns[name] = _connection(rt, name)
        return conns[name]

    result.full = scope.full
    backup_inputs = schedule.manifest_checker(JobsService.of(rt).catalog, known)
    summary = {"manifests": len(snap.manifests), "invalid": 0, "create": 0, "update": 0,
               "delete": 0, "scope": scope.to_dict()}
    for path, raw in sorted(snap.manifests.items()):
        if path not in scope.replan:
            continue
        result.planned.append(path)
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
        files = snap.files.under(folder)
        targets = plan_manifest(manifest, path=path, source=source.name, revision=fallback_rev or rev.sha,
                                reconcilers=reconcilers, files=files, connection=connection,
                                observations=observations)
        for tp in targets:
            _act(rt, source, path, manifest, tp, result, summary, limits)
        with rt.db.session() as db:   # what it referred to: a later push touching one of them re-plans it
            db.execute(update(Manifest).where(Manifest.source_id == source.id, Manifest.path == path,
                                              Manifest.revision == rev.sha).values(files=sorted(files.read)))
        _drop_undeclared(rt, source.id, path, {tp.target for tp in targets})
        planned |= {tp.target for tp in targets}
    result.reads = dict(observations.reads)
    summary["reads"] = result.reads
    with rt.db.session() as db:
        # after the plans, so a push's plan is stored first; rows appear during a sync as they always did
        if scope.base is not None:
            summary["invalid"] += _carry_forward(db, source.id, scope.base, rev.sha, carried)
        watched = set(snap.files.read)
        if not scope.full:   # the manifests not planned here read their files in an earlier sync
            for refs in db.scalars(select(Manifest.files).where(Manifest.source_id == source.id,
                                                                Manifest.revision == rev.sha,
                                                                Manifest.path.in_(carried))):
                watched.update(refs or ())
        db.execute(update(Source).where(Source.id == source.id).values(watched_files=sorted(watched)))
        stale = set(db.scalars(select(DriftItem.manifest_path).where(DriftItem.source_id == source.id)))
        gone = stale - set(snap.manifests)
        if gone:   # a manifest file removed from the repository: stop reporting it (nothing is pruned)
            db.execute(delete(DriftItem).where(DriftItem.source_id == source.id, DriftItem.manifest_path.in_(gone)))
        # a target no drift row names and this sync did not plan is declared by no manifest any more: its
        # last observation is no one's state to show (one declared with no resources, here or in another
        # source, has no rows: it is kept when planned, and stored again by its own source's next sync)
        # (only after a full sync: the manifests a push left alone declare targets this sync did not plan)
        if scope.full:
            db.execute(delete(TargetStatus).where(TargetStatus.target.not_in(sorted(planned) or [""]),
                                                  TargetStatus.target.not_in(select(DriftItem.target).distinct())))
        run = db.get(ReconcileRun, result.run_id)
        run.summary = summary


def _change_set(db, source_id: int, snap: Snapshot, trigger: str) -> changes.ChangeSet:
    """Every manifest, or only those affected since the last complete sync (a git tree diff)."""
    rev = snap.revision.sha
    base = db.scalar(select(ReconcileRun.revision).where(
        ReconcileRun.source_id == source_id, ReconcileRun.finished_at.is_not(None), ReconcileRun.error == "",
        ReconcileRun.revision.is_not(None)).order_by(ReconcileRun.id.desc()).limit(1))
    why = changes.full_sync_reason(trigger=trigger, base=base, revision=rev, has_history=snap.mirror is not None)
    if why is None and not snap.mirror.is_ancestor(base, rev):
        why = f"the branch no longer descends from {base[:12]} (a force push): every manifest is planned"
    if why is not None:
        return changes.everything(snap.manifests, why)
    refs = dict(db.execute(select(Manifest.path, Manifest.files).where(Manifest.source_id == source_id,
                                                                      Manifest.revision == base)).all())
    unsettled = set(db.scalars(select(DriftItem.manifest_path).where(DriftItem.source_id == source_id,
                                                                     DriftItem.status == "error").distinct()))
    return changes.partial(snap.manifests, base=base, changed=snap.mirror.changed_paths(base, rev), refs=refs,
                           unsettled=unsettled)


def _carry_forward(db, source_id: int, base: str, sha: str, paths: list[str]) -> int:
    """The rows of the manifests a push did not change, copied from `base` to `sha` (the pages and the
    backup schedule read the head revision's rows); their validity stands. Returns how many are invalid."""
    if not paths:
        return 0
    m, here = Manifest, Manifest.__table__.alias("here")
    rows = select(m.source_id, m.path, literal(sha), m.name, m.content, m.desired, m.errors, m.valid,
                  # a valid version is in force at the revision that holds it; an invalid one keeps its fallback
                  case((m.valid.is_(True), literal(sha)), else_=m.in_force_revision), m.files,
                  literal(utcnow())).where(
        m.source_id == source_id, m.revision == base, m.path.in_(paths),
        ~exists().where(here.c.source_id == source_id, here.c.path == m.path, here.c.revision == sha))
    db.execute(insert(Manifest).from_select(["source_id", "path", "revision", "name", "content", "desired", "errors",
                                             "valid", "in_force_revision", "files", "created_at"], rows))
    return db.scalar(select(func.count()).select_from(Manifest).where(
        Manifest.source_id == source_id, Manifest.revision == sha, Manifest.path.in_(paths),
        Manifest.valid.is_(False))) or 0


def _connection(rt: Runtime, name: str):
    with rt.db.session() as db:
        return connections.info(rt.secrets, connections.by_name(db, name))


def _drop_undeclared(rt: Runtime, source_id: int, path: str, declared: set[str]) -> None:
    """Drift rows of a manifest's targets it no longer declares (it stopped naming `dns:`, or its
    earlier rows said it had no valid version) are removed, not left showing an old state."""
    with rt.db.session() as db:
        q = delete(DriftItem).where(DriftItem.source_id == source_id, DriftItem.manifest_path == path)
        if declared:
            q = q.where(DriftItem.target.not_in(sorted(declared)))
        db.execute(q)


def _act(rt: Runtime, source: Source, path: str, manifest, tp: TargetPlan, result: SyncResult, summary: dict,
         limits: SafetyLimits) -> None:
    policy = manifest.policy.sync
    with rt.db.session() as db:
        if tp.summary is not None:
            _store_health(db, tp)
        if tp.error or tp.plan is None:
            # the target could not be observed: what it should hold is unknown, never in sync
            items = [_item(path, tp.target, "error", error=tp.error)]
            items += _unchanged(path, tp, {}, not_seen=f"not observed: {tp.error}")
            _replace_drift(rt, source.id, path, tp.target, items, db=db)
            return
        if decisions.apply_in_flight(db, source.id, path, tp.target):
            items = [_item(path, tp.target, "pending", c.resource, c.action.value, c.fields) for c in tp.plan.changes]
            _replace_drift(rt, source.id, path, tp.target, items, db=db)
            return
        row, apply_now = None, False
        if not tp.plan.empty or not tp.live.unobserved:
            # an empty plan over a target not seen whole proves nothing: no convergence, nothing expires
            row, apply_now = decisions.record(db, rt.secrets, source_id=source.id, source_name=source.name, path=path,
                                              kind=tp.kind, connection=tp.connection, plan=tp.plan, policy=policy,
                                              limits=limits)
        for k, v in tp.plan.counts().items():
            summary[k] += v
        changed = {c.resource: c for c in tp.plan.changes}
        status = "drifted" if row is not None and row.status == "detected" else "pending"
        items = [_item(path, tp.target, status, c.resource, c.action.value, c.fields, plan_id=row.id if row else None)
                 for c in tp.plan.changes]
        items += _unchanged(path, tp, changed, not_seen="not observed")
        items += [_item(path, tp.target, "error", error=e) for e in tp.plan.errors]
        _replace_drift(rt, source.id, path, tp.target, items, db=db)
        if row is not None:
            result.plan_ids.append(row.id)
            if apply_now:
                job = decisions.enqueue_apply(rt, db, row, "policy:auto", source.name)
                result.job_ids.append(job.id)


def _unchanged(path: str, tp: TargetPlan, changed: dict, not_seen: str) -> list[dict]:
    """Declared resources without a change: in sync only when their live state was read, else unknown."""
    if tp.desired is None:
        return []
    unobserved = set(tp.live.unobserved) if tp.live is not None else None    # None: nothing was observed
    return [_item(path, tp.target, "unknown", r.key, error=not_seen) if unobserved is None or r.key in unobserved
            else _item(path, tp.target, "in_sync", r.key)
            for r in tp.desired.resources if r.key not in changed]


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
