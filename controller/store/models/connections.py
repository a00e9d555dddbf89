"""Connections to targets; credentials are stored encrypted (AES-256-GCM) under a key id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from controller.store.models.base import Base, utcnow


class Connection(Base):
    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    environment: Mapped[str] = mapped_column(String(100), default="")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)       # non-secret settings (base_url, ...)
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)     # nonce + ciphertext
    key_id: Mapped[str | None] = mapped_column(String(40))
    credential_hints: Mapped[dict[str, Any]] = mapped_column(default=dict)  # key -> masked hint
    created_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_test_ok: Mapped[bool | None]
    last_test_message: Mapped[str] = mapped_column(String(500), default="")
    last_test_at: Mapped[dt.datetime | None]
