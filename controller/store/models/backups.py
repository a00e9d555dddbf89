"""Scheduled backups (one row per `backups:` entry of a manifest in force) and their check history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from controller.store.models.base import Base, utcnow


class BackupSchedule(Base):
    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(1200), unique=True)     # "<source id>:<manifest path>:<name>"
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    manifest_path: Mapped[str] = mapped_column(String(1000), default="")
    name: Mapped[str] = mapped_column(String(100))
    runbook: Mapped[str] = mapped_column(String(100))
    schedule: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)     # the runbook input (`with:` + defaults)
    target: Mapped[str] = mapped_column(String(300), default="")   # the snapshots' tag: volume:x, postgres:y
    error: Mapped[str] = mapped_column(Text, default="")           # why the entry cannot run (it never fires)
    next_run_at: Mapped[dt.datetime | None]
    last_run_at: Mapped[dt.datetime | None]
    last_job_id: Mapped[int | None]
    last_status: Mapped[str] = mapped_column(String(20), default="never")   # never|running|success|error|invalid
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_success_at: Mapped[dt.datetime | None]
    last_snapshot_id: Mapped[str] = mapped_column(String(80), default="")
    last_size: Mapped[int | None] = mapped_column(BigInteger)
    last_added: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_count: Mapped[int | None]
    check_schedule: Mapped[str] = mapped_column(String(100), default="")   # restic check's cron ("" = none)
    check_status: Mapped[str] = mapped_column(String(20), default="never")  # never|running|ok|failed
    checked_at: Mapped[dt.datetime | None]
    check_detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BackupCheck(Base):
    """One verification of a backup's repository: `restic check`, or a test restore (verify-* runbook)."""

    __tablename__ = "backup_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    backup_id: Mapped[int] = mapped_column(ForeignKey("backups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))            # check | restore
    status: Mapped[str] = mapped_column(String(20))          # running | ok | failed
    detail: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[int | None]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
