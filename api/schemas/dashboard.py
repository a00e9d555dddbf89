"""The dashboard's figures, as GET /api/dashboard answers them."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.schemas.common import Output
from api.schemas.incidents import IncidentCounts
from api.schemas.plans import DriftCounts


class ZoneStatus(Output):
    name: str
    status: str


class CloudflareWidget(Output):
    connection: str
    token_valid: bool
    zones: list[ZoneStatus]
    last_sync: dt.datetime | None
    drifted_records: int
    errors: list[str]


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
    containers_with_errors: int | None = Field(description="None: no Swarm target observed yet.")
    active_servers: int | None = Field(description="None: no server target observed yet.")
    cloudflare: list[CloudflareWidget] | None = Field(description="None: no Cloudflare connection.")
    incidents: list[IncidentSummary]
    incident_counts: IncidentCounts
    drift: DriftCounts
    plans_waiting: int
    controller: ControllerState
    sources: list[SourceSummary]
    connections: dict[str, int] = Field(description="Connections per type.")
