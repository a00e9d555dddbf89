"""POST /api/alerts/alertmanager: Alertmanager's webhook; firing alerts open or update incidents,
resolved ones resolve them.

No user signs in here: the bearer token is an `alertmanager` connection's credential, checked
before the body is read, so an unauthenticated caller can make Jarvis parse nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError

from api.deps import DbDep, RuntimeDep, require
from api.schemas.alerts import AlertmanagerWebhook, AlertsReceived
from controller import alerts
from controller.errors import Invalid, Unauthorized, field_errors

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the alertmanager connection's token as `Authorization: Bearer …`")
    return token.strip()


@router.post("/alertmanager", response_model=AlertsReceived, dependencies=[Depends(require("public"))],
             responses={422: {"description": "Not an Alertmanager webhook (version 4)."}},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": AlertmanagerWebhook.model_json_schema(ref_template="#/components/schemas/{model}")}}}})
async def alertmanager(request: Request, db: DbDep, rt: RuntimeDep):
    """Alertmanager's webhook (`webhook_configs` with `send_resolved: true`)."""
    request.state.audit = {"action": "alerts.alertmanager", "target": "alertmanager"}
    conn = alerts.authenticate(db, rt.secrets, _bearer(request))
    request.state.audit["target"] = f"connection/{conn.name}"
    try:
        body = AlertmanagerWebhook.model_validate_json(await request.body())
    except ValidationError as exc:
        raise Invalid("not an Alertmanager webhook (version 4)", errors=field_errors(exc.errors()[:20])) from None
    tally = alerts.receive(db, conn, [a.model_dump() for a in body.alerts])
    request.state.audit["detail"] = {"opened": tally.opened, "updated": tally.updated, "resolved": tally.resolved}
    return AlertsReceived(connection=conn.name, **tally.__dict__)
