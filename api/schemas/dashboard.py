"""The dashboard's figures, as GET /api/dashboard answers them."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.schemas.backups import BackupPublic
from api.schemas.common import Output
from api.schemas.incidents import IncidentCounts
from api.schemas.plans import DriftCounts


class TargetSummaryPublic(Output):
    """One target's last observation, as its reconciler summarised it (the same shape for every kind)."""

    target: str = Field(description="`<kind>:<connection>`, e.g. `swarm:prod-swarm`.")
    connection: str
    health: str = Field(description="ok, degraded, down or unknown.")
    counts: dict[str, int] = Field(description="Labelled figures the kind reports (services, zones, records...).")
    problems: int = Field(description="How many things on the target need a person.")
    errors: list[str]
    observed_at: dt.datetime | None
    drifted: int = Field(description="Resources drifted or waiting for approval on this target.")
    unknown: int = Field(0, description="Resources declared on this target whose state could not be observed "
                                        "(never counted as in sync).")


class KindPublic(Output):
    """An installed target kind, its connections and its observed targets."""

    kind: str
    title: str
    connection_type: str
    connections: int = Field(description="Connections of the kind's type.")
    targets: list[TargetSummaryPublic]


class IncidentSummary(Output):
    id: int
    title: str
    target: str
    service: str
    opened_at: dt.datetime
    job_id: int | None
    state: str = Field(description="open or acknowledged: the dashboard lists the incidents not yet resolved.")
    severity: str


class ControllerState(Output):
    running: bool = Field(description="A controller holds the leader lease.")


class SourceSummary(Output):
    id: int
    name: str
    last_reconcile_at: dt.datetime | None
    status: str
    status_text: str
    alert: bool
    alert_reason: str
    last_error: str


class DashboardPublic(Output):
    active_jobs: int
    target_problems: int | None = Field(description="Problems over every observed target; None: none observed yet.")
    kinds: list[KindPublic] = Field(description="Each installed target kind with its targets' summaries.")
    incidents: list[IncidentSummary]
    incident_counts: IncidentCounts
    drift: DriftCounts
    plans_waiting: int
    controller: ControllerState
    sources: list[SourceSummary]
    connections: dict[str, int] = Field(description="Connections per type.")
    backups: list[BackupPublic] = Field(default_factory=list, description="Every scheduled backup, with its last "
                                        "success and whether it is overdue (as GET /api/backups lists them).")
