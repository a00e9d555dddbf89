"""/api/containers: the live containers of every docker and portainer connection, a container's
detail and logs (viewers), a restart and a stack's redeploy (operators, audited)."""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from api.deps import DbDep, RuntimeDep, require
from api.schemas.containers import (
    ContainerDetailOut,
    ContainerLogsOut,
    ContainerOut,
    ContainersOut,
    StackRedeployOut,
)
from controller import connections
from controller.contract import ConnectionInfo
from controller.store.models import Connection
from reconcilers import containers

log = logging.getLogger("jarvis.containers")

router = APIRouter(prefix="/api/containers", tags=["containers"])


def _info(db, rt, name: str) -> ConnectionInfo:
    return connections.info(rt.secrets, connections.by_name(db, name))


@router.get("", response_model=ContainersOut, dependencies=[Depends(require("containers.read"))])
def list_containers(db: DbDep, rt: RuntimeDep):
    rows = db.scalars(select(Connection).where(Connection.type.in_(containers.CONNECTION_TYPES))).all()
    infos = []
    for c in rows:
        try:
            infos.append(connections.info(rt.secrets, c))
        except Exception as exc:   # credentials sealed under another key: that one is left out, not the list
            log.warning("connection %s cannot be opened: %s", c.name, type(exc).__name__)
    db.commit()    # the engines may take a while to answer: the database connection goes back to the pool
    return {"environments": containers.containers_tree(infos)}


@router.get("/{connection}/{ref}", response_model=ContainerDetailOut,
            dependencies=[Depends(require("containers.read"))])
def get_container(connection: str, ref: str, db: DbDep, rt: RuntimeDep):
    return containers.container_detail(_info(db, rt, connection), ref)


@router.get("/{connection}/{ref}/logs", response_model=ContainerLogsOut,
            dependencies=[Depends(require("containers.logs"))])
def container_logs(connection: str, ref: str, db: DbDep, rt: RuntimeDep,
                   tail: int | None = Query(200, ge=1, le=10000, description="The last N lines (both streams)."),
                   since: datetime | None = Query(None, description="Lines from this time on (RFC 3339)."),
                   until: datetime | None = Query(None, description="Lines before this time (RFC 3339)."),
                   timestamps: bool = Query(False, description="Give each line its time.")):
    lines = containers.container_logs(_info(db, rt, connection), ref, tail=tail, since=since, until=until)
    if not timestamps:
        lines = [{**line, "time": None} for line in lines]
    return {"connection": connection, "ref": ref, "lines": lines}


@router.post("/{connection}/{ref}/restart", response_model=ContainerOut,
             dependencies=[Depends(require("containers.restart"))])
def restart_container(connection: str, ref: str, request: Request, db: DbDep, rt: RuntimeDep):
    request.state.audit = {"target": f"container/{connection}/{ref}"}
    after = containers.restart_container(_info(db, rt, connection), ref)
    request.state.audit = {"target": f"container/{connection}/{ref}",
                           "detail": {"name": after["name"], "stack": after["stack"],
                                      "environment": after["environment"], "started": str(after["started"])}}
    return after


@router.post("/{connection}/stacks/{ref}/redeploy", response_model=StackRedeployOut,
             dependencies=[Depends(require("containers.restart"))])
def redeploy_stack(connection: str, ref: str, request: Request, db: DbDep, rt: RuntimeDep):
    """Every service of the stack rolled with its own spec (Swarm), or every container of the compose
    project restarted. `ref` is the stack's name, `<endpoint id>:<name>` on a Portainer connection."""
    request.state.audit = {"target": f"stack/{connection}/{ref}"}
    done = containers.redeploy_stack(_info(db, rt, connection), ref)
    request.state.audit = {"target": f"stack/{connection}/{ref}",
                           "detail": {"environment": done["environment"], "mode": done["mode"],
                                      "services": [s["name"] for s in done["services"]],
                                      "containers": [c["name"] for c in done["containers"]]}}
    return done
