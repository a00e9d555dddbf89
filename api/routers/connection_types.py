"""/api/connection-types: what each connection type takes, as JSON Schemas (the Settings form is built
from them, and POST/PATCH /api/connections are checked against them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import require
from api.schemas.connections import ConnectionTypePublic
from controller import connection_types

router = APIRouter(prefix="/api/connection-types", tags=["connections"])


@router.get("", response_model=list[ConnectionTypePublic], dependencies=[Depends(require("connection_types.read"))])
def list_connection_types():
    return [ConnectionTypePublic.of(t) for t in connection_types.installed().values()]
