from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import Input, Output

ConnType = Literal["cloudflare", "portainer", "github", "docker", "ssh", "hetzner"]
Name = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ConnectionCreate(Input):
    name: str = Name
    type: ConnType
    environment: str = Field("", max_length=100)
    config: dict[str, Any] = Field(default_factory=dict, description="Non-secret settings, e.g. base_url.")
    credentials: dict[str, str] = Field(default_factory=dict, description="Write-only; stored encrypted.")


class ConnectionUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    environment: str | None = Field(None, max_length=100)
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
