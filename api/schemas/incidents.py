"""Incidents: the list, the detail with its timeline, and the change an operator makes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Id, Input, Output


class ResolutionBody(Input):
    cause: str = Field(max_length=5000, description="What caused it.")
    action: str = Field(max_length=5000, description="What was done about it.")
    runbook: str = Field("", max_length=100, description="The runbook used, if one was.")
    plan_id: Id | None = Field(None, description="The plan applied, if one was.")
    job_id: Id | None = Field(None, description="The job that fixed it, if one did.")


class LogRange(Input):
    selector: str = Field(max_length=1000, description="Which logs: a service, a container or a LogQL selector.")
    since: dt.datetime
    until: dt.datetime


class IncidentChange(Input):
    """Any of: a new state (resolved needs `resolution`), a note, links to a job, a plan or a log range."""

    state: Literal["open", "acknowledged", "resolved"] | None = None
    resolution: ResolutionBody | None = None
    note: str = Field("", max_length=5000)
    job_id: Id | None = None
    plan_id: Id | None = None
    logs: LogRange | None = None


class IncidentPublic(Output):
    id: int
    title: str
    state: str
    severity: str
    origin: str
    fingerprint: str | None
    target: str
    resource: str
    source_id: int | None
    job_id: int | None
    occurrences: int
    opened_at: dt.datetime
    last_seen_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    acknowledged_by: str
    resolved_at: dt.datetime | None = Field(validation_alias="closed_at")
    resolved_by: str
    resolution: dict[str, Any]


class IncidentEventPublic(Output):
    at: dt.datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]


class IncidentDetail(IncidentPublic):
    detail: dict[str, Any]
    timeline: list[IncidentEventPublic]


class IncidentCounts(Output):
    open: int
    acknowledged: int
    resolved: int
