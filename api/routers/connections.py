"""/api/connections: credentials for targets. Write-only credentials; a masked hint at most."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from api.deps import DbDep, RuntimeDep, principal_of, require
from api.schemas.common import Id
from api.schemas.connections import (
    ConnectionCreate,
    ConnectionPublic,
    ConnectionTestOut,
    ConnectionUpdate,
    LocalOfferOut,
)
from controller import connection_types, connections, local_offer, registry
from controller.contract import ConnectionCheck
from controller.gitops import recheck
from controller.store.models import Connection, utcnow

router = APIRouter(prefix="/api/connections", tags=["connections"])
Writer = principal_of("connections.write")


@router.get("", response_model=list[ConnectionPublic], dependencies=[Depends(require("connections.read"))])
def list_connections(db: DbDep, type: str | None = None, environment: str | None = None):
    q = select(Connection).order_by(Connection.name)
    if type:
        q = q.where(Connection.type == type)
    if environment:
        q = q.where(Connection.environment == environment)
    return db.scalars(q).all()


@router.post("", response_model=ConnectionPublic, status_code=201)
def create_connection(body: ConnectionCreate, request: Request, db: DbDep, rt: RuntimeDep, who: Writer):
    request.state.audit = {"target": f"connection/{body.name}"}
    conn = connections.create(db, rt.secrets, name=body.name, type=body.type, environment=body.environment,
                              config=body.config, credentials=body.credentials, created_by=who.user.email)
    recheck.connection_written(db, None, conn.name)   # manifests naming it are valid from now on
    return conn


@router.get("/local-offers", response_model=list[LocalOfferOut], dependencies=[Depends(require("connections.write"))])
def local_offers(db: DbDep, rt: RuntimeDep):
    """Embedded only: connections to this machine's own targets that answer (the local Swarm manager),
    while no connection named `local` exists. The dashboard and GitOps pages offer them to admins."""
    return [LocalOfferOut(**vars(o)) for o in local_offer.offers(rt, db)]


@router.post("/local-offers/{kind}", response_model=ConnectionPublic, status_code=201)
def accept_local_offer(kind: str, request: Request, db: DbDep, rt: RuntimeDep, who: Writer):
    """Creates the offered connection `local` and asks every source to sync again."""
    request.state.audit = {"target": f"connection/{local_offer.NAME}", "detail": {"offer": kind}}
    return local_offer.accept(rt, db, kind, who.user.email)


@router.get("/{conn_id}", response_model=ConnectionPublic, dependencies=[Depends(require("connections.read"))])
def get_connection(conn_id: Id, db: DbDep):
    return connections.get(db, conn_id)


@router.patch("/{conn_id}", response_model=ConnectionPublic)
def update_connection(conn_id: Id, body: ConnectionUpdate, request: Request, db: DbDep, rt: RuntimeDep,
                      who: Writer):
    conn = connections.get(db, conn_id)
    request.state.audit = {"target": f"connection/{conn.name}",
                           "detail": {"credential_keys": sorted(body.credentials or {})}}
    before = conn.name
    connections.update(db, rt.secrets, conn, name=body.name, environment=body.environment,
                       config=body.config, credentials=body.credentials)
    recheck.connection_written(db, before, conn.name)
    return conn


@router.delete("/{conn_id}", status_code=204)
def delete_connection(conn_id: Id, request: Request, db: DbDep, who: Writer, response: Response):
    conn = connections.get(db, conn_id)
    request.state.audit = {"target": f"connection/{conn.name}"}
    name = conn.name
    db.delete(conn)
    recheck.connection_written(db, name, None)      # manifests naming it are invalid from now on
    response.status_code = 204
    return response


@router.post("/{conn_id}/test", response_model=ConnectionTestOut,
             dependencies=[Depends(require("connections.test"))])
def test_connection(conn_id: Id, request: Request, db: DbDep, rt: RuntimeDep):
    """Asks the reconciler for this connection type to check it (reachability, token, role)."""
    conn = connections.get(db, conn_id)
    request.state.audit = {"target": f"connection/{conn.name}"}
    declared = connection_types.installed().get(conn.type)
    checkers = [declared] if declared and declared.check else \
        [r for r in registry.reconcilers(rt).values() if r.connection_type == conn.type]
    if not checkers:
        result = ConnectionCheck(False, f"no check is available for {conn.type} connections yet")
    else:
        try:
            result = checkers[0].check(connections.info(rt.secrets, conn))
        except Exception as exc:   # a check must answer, whatever the target does
            result = ConnectionCheck(False, f"check failed: {exc.__class__.__name__}: {exc}")
    conn.last_test_ok, conn.last_test_message, conn.last_test_at = result.ok, result.message[:500], utcnow()
    return ConnectionTestOut(ok=result.ok, message=result.message, details=dict(result.details))
