"""/api/audit: the audit log (admin), read-only."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends

from api.deps import DbDep, require
from api.schemas.audit import AuditPublic
from api.schemas.common import Offset, Page, limit_upto
from controller import audit

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", response_model=Page[AuditPublic], dependencies=[Depends(require("audit.read"))])
def list_audit(db: DbDep, user: str | None = None, action: str | None = None, result: str | None = None,
               ip: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
               offset: Offset = 0, limit: limit_upto(500) = 50):
    """Newest first. `action` accepts `*` wildcards (e.g. `auth.*`)."""
    rows, total = audit.search(db, user=user, action=action, result=result, ip=ip, since=since, until=until,
                               offset=offset, limit=limit)
    return Page[AuditPublic](items=rows, total=total, offset=offset, limit=limit)
