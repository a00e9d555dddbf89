"""Rules: which events go to which channel, in which environment, with a de-duplication window and a
rate limit each. A rule's channel is a connection of a `notify-*` type."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.errors import Conflict, Invalid, NotFound
from controller.notifications import channels
from controller.notifications.events import EVENTS
from controller.store.models import Connection, NotificationRule


def get(db: Session, rule_id: int) -> NotificationRule:
    rule = db.get(NotificationRule, rule_id)
    if rule is None:
        raise NotFound(f"notification rule {rule_id} not found")
    return rule


def listed(db: Session) -> list[NotificationRule]:
    return list(db.scalars(select(NotificationRule).order_by(NotificationRule.name)))


def _channel(db: Session, name: str) -> Connection:
    conn = db.scalar(select(Connection).where(Connection.name == name))
    if conn is None or not channels.is_channel(conn.type):
        what = "no connection is named so" if conn is None else f"{name} is a {conn.type} connection"
        raise Invalid(f"channel {name!r} is not a notification channel",
                      errors=[{"field": "channel", "message": f"{what}: name a connection of a notify-* type"}])
    return conn


def _events(given: list[str]) -> list[str]:
    unknown = [e for e in given if e not in EVENTS]
    if unknown or not given:
        raise Invalid("unknown notification events" if unknown else "a rule needs at least one event",
                      errors=[{"field": "events", "message": f"{', '.join(unknown) or 'none given'}: one of "
                                                             f"{', '.join(EVENTS)}"}])
    return sorted(set(given))


def create(db: Session, *, name: str, channel: str, events: list[str], environment: str = "",
           dedupe_seconds: int = 300, max_per_hour: int = 60, enabled: bool = True, created_by: str = "") -> NotificationRule:
    if db.scalar(select(NotificationRule.id).where(NotificationRule.name == name)) is not None:
        raise Conflict(f"a notification rule named {name!r} exists")
    rule = NotificationRule(name=name, channel_id=_channel(db, channel).id, events=_events(events),
                            environment=environment, dedupe_seconds=dedupe_seconds, max_per_hour=max_per_hour,
                            enabled=enabled, created_by=created_by)
    db.add(rule)
    db.flush()
    return rule


def update(db: Session, rule: NotificationRule, changes: dict[str, Any]) -> NotificationRule:
    if "name" in changes and changes["name"] != rule.name:
        if db.scalar(select(NotificationRule.id).where(NotificationRule.name == changes["name"])) is not None:
            raise Conflict(f"a notification rule named {changes['name']!r} exists")
        rule.name = changes["name"]
    if "channel" in changes:
        rule.channel_id = _channel(db, changes["channel"]).id
    if "events" in changes:
        rule.events = _events(changes["events"])
    for key in ("environment", "dedupe_seconds", "max_per_hour", "enabled"):
        if key in changes:
            setattr(rule, key, changes[key])
    db.flush()
    return rule


def channel_name(db: Session, rule: NotificationRule) -> str:
    return db.scalar(select(Connection.name).where(Connection.id == rule.channel_id)) or ""
