from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Input, Output


class RunbookPublic(Output):
    name: str
    title: str
    category: str
    description: str
    role: str
    timeout: int
    connection_type: str | None
    input_schema: dict[str, Any]
    source: str


class RunbookChoices(Output):
    """Per input asking for them (`x-jarvis-choices`), the names the last observations saw."""
    choices: dict[str, list[str]]


class ExecuteIn(Input):
    input: dict[str, Any] = Field(default_factory=dict)


class JobQueued(Output):
    id: int
    status: str
    url: str
    events_url: str
    ws_url: str


class JobSummary(Output):
    id: int
    runbook: str
    title: str
    status: str
    trigger: str
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_s: float | None
    attempt: int
    rerun_of: int | None
    reason: str
    plan_id: int | None = None


class StepPublic(Output):
    id: int
    position: int
    attempt: int
    step_name: str
    resource: str
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_s: float | None
    failures: list[dict[str, Any]] = []
    error: str = Field("", description="Why the step did not run (skipped: a step it depends on did not "
                       "succeed) or could not start.")
    logs: str = ""


class ArtifactPublic(Output):
    name: str
    size: int
    url: str


class JobDetail(JobSummary):
    input: dict[str, Any]
    output: dict[str, Any]
    connection: str | None
    steps: list[StepPublic]
    artifacts: list[ArtifactPublic]
    last_counter: int


class EventPublic(Output):
    counter: int
    type: str
    host: str
    task: str
    stdout: str
    created: dt.datetime
    data: dict[str, Any]


class EventsPage(Output):
    events: list[EventPublic]
    last_counter: int
    done: bool


class CancelOut(Output):
    id: int
    status: Literal["canceled", "canceling"] = Field(description="canceled: it had not started; canceling: its "
                                                                 "worker is told to stop it.")
