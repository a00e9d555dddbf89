"""Scheduled backups: each with its schedule, last results and checks; snapshots from the repository."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Input, Output


class BackupCheckPublic(Output):
    id: int
    kind: str
    status: str
    detail: str
    job_id: int | None
    at: dt.datetime


class BackupPublic(Output):
    id: int
    name: str
    manifest_path: str
    source_id: int | None
    runbook: str
    schedule: str
    timezone: str
    repository: str
    target: str
    error: str
    next_run_at: dt.datetime | None
    last_run_at: dt.datetime | None
    last_job_id: int | None
    last_status: str
    last_error: str
    last_success_at: dt.datetime | None
    last_snapshot_id: str
    last_size: int | None
    last_added: int | None
    snapshot_count: int | None
    check_schedule: str
    check_status: str
    checked_at: dt.datetime | None
    check_detail: str
    status_text: str
    overdue: str = Field("", description="Why the backup is overdue (no success for one and a half of its "
                                         "schedule's interval), or empty when it is on time.")
    incident_id: int | None


class SnapshotPublic(Output):
    id: str
    short_id: str
    time: str
    size: int | None = None
    files: int | None = None


class BackupDetail(BackupPublic):
    input: dict[str, Any]
    snapshots: list[SnapshotPublic]
    snapshots_error: str
    checks: list[BackupCheckPublic]


class CheckIn(Input):
    kind: Literal["check", "restore"] = "check"


class RestoreIn(Input):
    """Which snapshot, and where to: a new volume or database unless `into` names an existing one,
    which is overwritten only with `overwrite` and `confirm` repeating its name."""

    snapshot: str = Field(default="latest", pattern=r"^(latest|[0-9a-f]{8,64})$")
    into: str = Field(default="", max_length=255, pattern=r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)?$")
    overwrite: bool = False
    confirm: str = Field(default="", max_length=255)


class BackupQueued(Output):
    job_id: int
    status: str
