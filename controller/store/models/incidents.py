"""An incident's timeline: what happened to it, in order (opened, seen again, acknowledged, a note,
a linked job, plan or log range, resolved)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from controller.store.models.base import Base, utcnow


class IncidentEvent(Base):
    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))     # opened | seen | acknowledged | note | link | resolved | reopened
    actor: Mapped[str] = mapped_column(String(320), default="")     # a user's email, or "alertmanager", "jarvis"
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)     # {job_id}, {plan_id}, {logs: {selector, since, until}}
