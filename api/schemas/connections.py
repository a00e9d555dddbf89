from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from api.schemas.common import Input, Output, PlainText
from controller.connection_types import ConnectionType

Name = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ConnectionCreate(Input):
    name: str = Name
    type: str = Field(min_length=1, max_length=50, description="One of GET /api/connection-types.")
    environment: PlainText = Field("", max_length=100)
    config: dict[str, Any] = Field(default_factory=dict,
                                   description="Non-secret settings: the type's `config_schema`.")
    credentials: dict[str, str] = Field(default_factory=dict,
                                        description="Write-only, stored encrypted: the type's `credentials_schema`.")


class ConnectionUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    environment: PlainText | None = Field(None, max_length=100)
    config: dict[str, Any] | None = None
    credentials: dict[str, str | None] | None = Field(None, description="Merged: null removes a key.")


class ConnectionPublic(Output):
    id: int
    name: str
    type: str
    environment: str
    config: dict[str, Any]
    credential_hints: dict[str, str]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    last_test_ok: bool | None
    last_test_message: str
    last_test_at: dt.datetime | None


class ConnectionTestOut(Output):
    ok: bool
    message: str
    details: dict[str, Any] = {}


class ConnectionTypePublic(Output):
    name: str
    title: str
    description: str
    config_schema: dict[str, Any] = Field(description="JSON Schema of a connection's `config`.")
    credentials_schema: dict[str, Any] = Field(description="JSON Schema of its write-only `credentials`.")

    @classmethod
    def of(cls, t: ConnectionType) -> ConnectionTypePublic:
        return cls(name=t.name, title=t.title, description=t.description, config_schema=dict(t.config),
                   credentials_schema=dict(t.credentials))


class LocalOfferOut(Output):
    """A connection to this machine's own target that embedded Jarvis offers to create (admins only)."""
    kind: str
    title: str
    name: str
    type: str
    config: dict[str, Any]
    message: str = Field(description="What the kind's check found, e.g. 'swarm manager, docker 26.1.5'.")
