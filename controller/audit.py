"""The one audit log: who did what to which target from where, and how it ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.store.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    email: str = ""
    role: str = ""
    ip: str = ""


def record(db: Session, actor: Actor, action: str, *, target: str = "", result: str = "success",
           status: int = 0, request_id: str = "", detail: dict[str, Any] | None = None) -> AuditEntry:
    entry = AuditEntry(user_id=actor.user_id, user_email=actor.email, role=actor.role, ip=actor.ip,
                       action=action, target=target[:500], result=result, status=status,
                       request_id=request_id, detail=detail or {})
    db.add(entry)
    return entry


def search(db: Session, *, user: str | None = None, action: str | None = None, result: str | None = None,
           ip: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
           offset: int = 0, limit: int = 50) -> tuple[list[AuditEntry], int]:
    q = select(AuditEntry)
    if user:
        q = q.where(AuditEntry.user_email == user)
    if action:
        q = q.where(AuditEntry.action.like(action.replace("*", "%")))
    if result:
        q = q.where(AuditEntry.result == result)
    if ip:
        q = q.where(AuditEntry.ip == ip)
    if since:
        q = q.where(AuditEntry.at >= since)
    if until:
        q = q.where(AuditEntry.at < until)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(q.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total
