"""/api/notifications: the events that can be notified, the rules that send them to channels, and the
deliveries with their state. A channel is a connection of a notify-* type (its "Send a test" is the
connection test, `POST /api/connections/{id}/test`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import func, select

from api.deps import DbDep, principal_of, require
from api.schemas.common import Id, Offset, Page, limit_upto
from api.schemas.notifications import DeliveryPublic, EventPublic, RuleCreate, RulePublic, RuleUpdate
from controller.notifications import delivery, events, rules
from controller.store.models import NotificationDelivery

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
Writer = principal_of("notifications.write")


def _public(db, rule) -> RulePublic:
    return RulePublic.model_validate({**{c: getattr(rule, c) for c in RulePublic.model_fields if c != "channel"},
                                      "channel": rules.channel_name(db, rule)})


@router.get("/events", response_model=list[EventPublic], dependencies=[Depends(require("notifications.read"))])
def list_events():
    return [EventPublic(name=k, description=v) for k, v in events.EVENTS.items()]


@router.get("/rules", response_model=list[RulePublic], dependencies=[Depends(require("notifications.read"))])
def list_rules(db: DbDep):
    return [_public(db, r) for r in rules.listed(db)]


@router.post("/rules", response_model=RulePublic, status_code=201)
def create_rule(body: RuleCreate, request: Request, db: DbDep, who: Writer):
    request.state.audit = {"target": f"notification-rule/{body.name}"}
    rule = rules.create(db, **body.model_dump(), created_by=who.user.email)
    return _public(db, rule)


@router.get("/rules/{rule_id}", response_model=RulePublic, dependencies=[Depends(require("notifications.read"))])
def get_rule(rule_id: Id, db: DbDep):
    return _public(db, rules.get(db, rule_id))


@router.patch("/rules/{rule_id}", response_model=RulePublic)
def update_rule(rule_id: Id, body: RuleUpdate, request: Request, db: DbDep, who: Writer):
    rule = rules.get(db, rule_id)
    request.state.audit = {"target": f"notification-rule/{rule.name}"}
    return _public(db, rules.update(db, rule, body.model_dump(exclude_unset=True)))


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: Id, request: Request, db: DbDep, who: Writer, response: Response):
    rule = rules.get(db, rule_id)
    request.state.audit = {"target": f"notification-rule/{rule.name}"}
    db.delete(rule)
    response.status_code = 204
    return response


@router.get("/deliveries", response_model=Page[DeliveryPublic],
            dependencies=[Depends(require("notifications.read"))])
def list_deliveries(db: DbDep, status: Literal["pending", "sending", "sent", "retrying", "failed", "suppressed"] | None = None,
                    channel_id: Id | None = None, rule_id: Id | None = None, offset: Offset = 0,
                    limit: limit_upto(200) = 50):
    """Newest first."""
    q = select(NotificationDelivery)
    if status:
        q = q.where(NotificationDelivery.status == status)
    if channel_id:
        q = q.where(NotificationDelivery.channel_id == channel_id)
    if rule_id:
        q = q.where(NotificationDelivery.rule_id == rule_id)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(q.order_by(NotificationDelivery.id.desc()).offset(offset).limit(limit)).all()
    return Page[DeliveryPublic](items=rows, total=total, offset=offset, limit=limit)


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveryPublic)
def retry_delivery(delivery_id: Id, request: Request, db: DbDep, who: principal_of("notifications.retry")):
    """A failed, retrying or suppressed delivery sent again now."""
    request.state.audit = {"target": f"notification-delivery/{delivery_id}"}
    return delivery.retry(db, delivery_id)
