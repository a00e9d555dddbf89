"""`servers:`, `stacks:`, `backups:`, `runbooks:` — the list sections, each entry named."""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from controller import cron

from .common import RepoPath, Strict, StrMap, describe

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"invalid {what} name {value!r}: use lower-case letters, digits and '-' (max 63)")
    return value


class Hardening(Strict):
    ssh: Literal["strict", "default"] = "strict"
    firewall: list[int] = Field(default_factory=lambda: [22], description="Inbound TCP ports left open.")
    fail2ban: bool = True

    @field_validator("firewall")
    @classmethod
    def _ports(cls, value: list[int]) -> list[int]:
        for port in value:
            if not 1 <= port <= 65535:
                raise ValueError(f"firewall ports must be 1..65535, got {port}")
        return value


class Server(Strict):
    name: str
    provider: Literal["hetzner"] = "hetzner"
    type: str = Field(min_length=1, description="Provider server type, e.g. cx22.")
    image: str = Field(min_length=1, description="Provider image, e.g. debian-12.")
    location: str | None = None
    roles: list[str] = Field(default_factory=list)
    labels: StrMap = Field(default_factory=dict)
    protected: bool = False
    hardening: Hardening | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "server")


class Stack(Strict):
    name: str
    endpoint: str = Field(min_length=1, description="Portainer endpoint (environment) name.")
    compose: RepoPath
    env: StrMap = Field(default_factory=dict)
    adopt: bool = Field(False, description="Take over a Portainer stack of this name that Jarvis does not own.")
    protected: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "stack")


class Backup(Strict):
    name: str
    runbook: str = Field(min_length=1)
    schedule: str = Field(description='Cron expression (minute hour day month weekday, weekday 0 = Sunday), '
                          'e.g. "0 3 * * *", or an alias: @hourly, @daily, @weekly, @monthly, @yearly.')
    timezone: str | None = Field(default=None, description='IANA time zone the schedule is read in, e.g. '
                                 '"Europe/Berlin" (default UTC).')
    check_schedule: str | None = Field(default=None, description="When `restic check` runs on the backup's "
                                       "repository (same syntax and time zone as `schedule`); a failure opens "
                                       "an incident.")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_name(value, "backup")

    @field_validator("schedule", "check_schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron.trigger(value)          # raises ValueError saying which field is wrong
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {describe(value)}: use an IANA name like 'Europe/Berlin'") from None
        return value


class Runbook(Strict):
    path: RepoPath
