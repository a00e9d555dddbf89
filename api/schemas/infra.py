"""Bodies of /api/infra/servers: the servers the last observations saw, per connection and location."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Output


class ServerJob(Output):
    id: int
    status: str
    title: str
    created_at: datetime


class ServerOut(Output):
    target: str = Field(description="`<kind>:<connection>`, as plans and drift items name it.")
    connection: str
    environment: str = Field("", description="The connection's environment.")
    name: str
    resource: str = Field(description="`server/<name>`, as plans, drift items and job steps name it.")
    status: str | None = Field(None, description="The provider's status (running, off, initializing…); null "
                                                  "for a declared server that does not exist (see `error`).")
    ipv4: str | None = None
    type: str | None = None
    location: str | None = None
    image: str | None = None
    protected: bool = False
    hardening: str = Field("unknown", description="compliant, drifted or unknown (never checked, or the check failed).")
    checked_at: datetime | None = Field(None, description="When the hardening was last checked over SSH.")
    drift: dict[str, str] = Field(default_factory=dict, description="{file or rule: what differs} from the last check.")
    fingerprint: str = Field("", description="The pinned SSH host key (SHA256:…), empty before first contact.")
    sync: str = Field("unknown", description="The drift item's status: in_sync, drifted, pending, error or unknown.")
    action: str = Field("", description="What the pending plan does to the server (create, update, delete).")
    error: str = ""
    plan_id: int | None = Field(None, description="The plan that holds the server's change, when one waits.")
    source: str = Field("", description="The source whose manifest declares the server.")
    manifest_path: str = ""
    observed_at: datetime | None = Field(None, description="When its target was last observed.")
    jobs: list[ServerJob] = Field(default_factory=list, description="The last jobs with a step on this server.")


class ServerTarget(Output):
    target: str
    connection: str
    environment: str = ""
    health: str
    errors: list[str]
    observed_at: datetime | None = None


class ServerConnection(Output):
    name: str
    type: str
    environment: str = ""


class InfraOut(Output):
    servers: list[ServerOut]
    targets: list[ServerTarget] = Field(description="Every observed target of a kind that reconciles `servers:`.")
    connections: list[ServerConnection] = Field(description="The connections of those kinds' types, observed or not.")
