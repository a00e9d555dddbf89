from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from api.schemas.common import Input, Output

NamePattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class SourceCreate(Input):
    name: str = Field(min_length=1, max_length=100, pattern=NamePattern)
    url: str = Field(min_length=1, max_length=1000, description="https or ssh URL, or a local path")
    branch: str = Field("main", max_length=200)
    paths: list[str] = Field(default_factory=lambda: ["**/orch.yaml"], min_length=1)
    poll_interval: int = Field(60, ge=5, le=86400)
    connection: str | None = Field(None, max_length=100, description="github (token) or ssh (key) connection")
    webhook_secret: str | None = Field(None, min_length=8, max_length=200, description="Write-only.")
    enabled: bool = True


class SourceUpdate(Input):
    url: str | None = Field(None, min_length=1, max_length=1000)
    branch: str | None = Field(None, max_length=200)
    paths: list[str] | None = Field(None, min_length=1)
    poll_interval: int | None = Field(None, ge=5, le=86400)
    connection: str | None = Field(None, max_length=100)
    webhook_secret: str | None = Field(None, min_length=8, max_length=200)
    enabled: bool | None = None


class RevisionPublic(Output):
    sha: str
    author: str
    message: str
    committed_at: dt.datetime | None


class SourcePublic(Output):
    id: int
    name: str
    url: str
    branch: str
    paths: list[str]
    poll_interval: int
    connection: str | None
    enabled: bool
    has_webhook_secret: bool
    status: str = Field(description="never | syncing | ok | degraded | error")
    status_text: str = Field(description="the status in words, with counts: `degraded: 2 of 3 manifests invalid`")
    last_error: str
    last_revision: RevisionPublic | None
    last_sync_at: dt.datetime | None
    last_success_at: dt.datetime | None
    alert: bool
    alert_reason: str


class HistoryPublic(Output):
    id: int
    trigger: str
    revision: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_s: float | None
    result: str = Field(description="ok | degraded | error | running")
    result_text: str = Field(description="the result in words, with counts: `degraded: 2 of 3 manifests invalid`")
    error: str
    plan_summary: dict[str, Any]
    plan_ids: list[int]
    job_id: int | None
    job_ids: list[int]


class SyncRequested(Output):
    id: int
    status: str = Field("requested", description="The leading controller syncs the source next.")
