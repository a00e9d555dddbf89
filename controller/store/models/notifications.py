"""Notifications out: rules (which events go to which channel, per environment) and deliveries (one row
per message owed to a channel: the outbox the dispatcher sends from, retries and shows)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from controller.store.models.base import Base, utcnow


class NotificationRule(Base):
    __tablename__ = "notification_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    events: Mapped[list[Any]] = mapped_column(default=list)          # incident.opened, job.failed, ...
    environment: Mapped[str] = mapped_column(String(100), default="")   # "" matches every environment
    dedupe_seconds: Mapped[int] = mapped_column(default=300)        # the same event again within: not sent twice
    max_per_hour: Mapped[int] = mapped_column(default=60)           # 0: no limit
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationDelivery(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_rule_key", "rule_id", "dedupe_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("notification_rules.id", ondelete="SET NULL"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(100), default="")   # the connection's name when it was made
    event: Mapped[str] = mapped_column(String(40))
    environment: Mapped[str] = mapped_column(String(100), default="")
    dedupe_key: Mapped[str] = mapped_column(String(300), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(1000), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending → sending → sent; a failed attempt: retrying (next_attempt_at) until max_attempts, then failed;
    # suppressed: a duplicate or over the rule's rate limit (last_error says which), never sent
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    response: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None]
