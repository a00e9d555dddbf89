"""Notifications out: rules (create, update, shown) and deliveries (shown)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Input, Output, PlainText

EventName = Literal["incident.opened", "incident.resolved", "job.failed", "drift.detected", "plan.awaiting_approval",
                    "backup.failed", "backup.missed"]
RuleName = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]*$")
Dedupe = Field(300, ge=0, le=7 * 86400, description="The same event (same incident, job kind, plan or backup) "
                                                    "again within these seconds is not sent twice; 0: never folded.")
PerHour = Field(60, ge=0, le=100_000, description="At most this many deliveries an hour; 0: no limit.")


class RuleCreate(Input):
    name: str = RuleName
    channel: str = Field(min_length=1, max_length=100, description="A connection of a notify-* type.")
    events: list[EventName] = Field(min_length=1, max_length=20)
    environment: PlainText = Field("", max_length=100, description="Only events of this environment (the "
                                                                   "connection's); empty: every environment.")
    dedupe_seconds: int = Dedupe
    max_per_hour: int = PerHour
    enabled: bool = True


class RuleUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]*$")
    channel: str | None = Field(None, min_length=1, max_length=100)
    events: list[EventName] | None = Field(None, min_length=1, max_length=20)
    environment: PlainText | None = Field(None, max_length=100)
    dedupe_seconds: int | None = Field(None, ge=0, le=7 * 86400)
    max_per_hour: int | None = Field(None, ge=0, le=100_000)
    enabled: bool | None = None


class RulePublic(Output):
    id: int
    name: str
    channel: str
    channel_id: int
    events: list[str]
    environment: str
    dedupe_seconds: int
    max_per_hour: int
    enabled: bool
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class EventPublic(Output):
    name: str
    description: str


class DeliveryPublic(Output):
    id: int
    rule_id: int | None
    channel_id: int | None
    channel: str
    event: str
    environment: str
    title: str
    body: str
    link: str
    data: dict[str, Any]
    status: str = Field(description="pending, sending, sent, retrying (next_attempt_at), failed (last_error) "
                                    "or suppressed (last_error says why: a duplicate, or over the rate limit).")
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str
    response: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
