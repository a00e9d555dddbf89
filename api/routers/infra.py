"""/api/infra/servers: the servers of every kind that reconciles `servers:`, from real state only.

A server's row joins three stored observations: its target's summary (provider status, address,
type, hardening state and drift, pinned host key: `target_status.summary.resources["server/<name>"]`),
its drift item (in sync, pending with its plan, or in error: a declared server that could not be
created shows only there), and the last jobs with a step on it (`job_steps.resource`).
"""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Depends
from sqlalchemy import select

from api.deps import DbDep, require
from api.schemas.infra import InfraOut
from controller import registry
from controller.store.models import Connection, DriftItem, Job, JobStep, Source, TargetStatus

router = APIRouter(tags=["infra"])
SECTION = "servers"
PREFIX = "server/"
JOBS_PER_SERVER = 5


def _server_kinds() -> dict[str, str]:
    """{kind: connection type} of the installed kinds that reconcile a manifest's `servers:`."""
    return {kind: getattr(cls, "connection_type", "") for kind, cls in registry.reconciler_classes().items()
            if SECTION in getattr(cls, "sections", ())}


@router.get("/api/infra/servers", response_model=InfraOut, dependencies=[Depends(require("infra.read"))])
def list_servers(db: DbDep):
    kinds = _server_kinds()
    conns = db.scalars(select(Connection).where(Connection.type.in_(set(kinds.values()) or {""}))
                       .order_by(Connection.name)).all()
    env = {c.name: c.environment or "" for c in conns}
    targets = db.scalars(select(TargetStatus).where(TargetStatus.kind.in_(set(kinds) or {""}))
                         .order_by(TargetStatus.target)).all()
    by_target = {t.target: t for t in targets}
    items = db.scalars(select(DriftItem).where(DriftItem.target.in_(set(by_target) or {""}),
                                               DriftItem.resource.startswith(PREFIX))).all()
    sources = dict(db.execute(select(Source.id, Source.name)).all())
    rows: dict[tuple[str, str], dict] = {}
    for t in targets:
        for key, r in ((t.summary or {}).get("resources") or {}).items():
            if key.startswith(PREFIX):
                rows[(t.target, key)] = {**r, "drift": {str(k): str(v) for k, v in (r.get("drift") or {}).items()}}
    for item in items:
        row = rows.setdefault((item.target, item.resource), {})
        row.update(sync=item.status, action=item.action, error=item.error, plan_id=item.plan_id,
                   source=sources.get(item.source_id, ""), manifest_path=item.manifest_path)
    jobs = _jobs(db, {(by_target[t].connection, key) for t, key in rows})
    servers = []
    for (target, key), r in sorted(rows.items(), key=lambda kv: (by_target[kv[0][0]].connection, kv[0][1])):
        t = by_target[target]
        servers.append({**r, "target": target, "connection": t.connection, "environment": env.get(t.connection, ""),
                        "name": key.removeprefix(PREFIX), "resource": key, "observed_at": t.observed_at,
                        "hardening": r.get("hardening") or "unknown", "fingerprint": r.get("fingerprint") or "",
                        "protected": bool(r.get("protected")), "sync": r.get("sync") or "unknown",
                        "jobs": jobs.get((t.connection, key), [])})
    s = [{"target": t.target, "connection": t.connection, "environment": env.get(t.connection, ""),
          "health": (t.summary or {}).get("health", "unknown"), "errors": list(t.errors or []),
          "observed_at": t.observed_at} for t in targets]
    return {"servers": servers, "targets": s,
            "connections": [{"name": c.name, "type": c.type, "environment": c.environment or ""} for c in conns]}


def _jobs(db, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
    """The newest jobs with a step on each (connection, server/<name>)."""
    out: dict[tuple[str, str], list[dict]] = defaultdict(list)
    if not keys:
        return out
    q = (select(Job.id, Job.status, Job.title, Job.created_at, Job.connection, JobStep.resource)
         .join(JobStep, JobStep.job_id == Job.id)
         .where(JobStep.resource.in_({k for _, k in keys}), Job.connection.in_({c for c, _ in keys}))
         .distinct().order_by(Job.id.desc()))
    for job_id, status, title, created_at, conn, resource in db.execute(q):
        found = out[(conn, resource)]
        if (conn, resource) in keys and len(found) < JOBS_PER_SERVER and all(j["id"] != job_id for j in found):
            found.append({"id": job_id, "status": status, "title": title, "created_at": created_at})
    return out
