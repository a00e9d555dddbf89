"""The orch.yaml root: identity, policy, connections, and the Swarm-level declarations."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .common import ObjectName, RepoPath, Strict, StrMap, one_or_many
from .dns import ZoneList
from .fleet import Backup, Runbook, Server, Stack
from .services import Service

_MANIFEST_NAME = re.compile(r"^[a-z0-9][a-z0-9-_]{0,62}$")
_RESOURCE = re.compile(r"^[a-z_]+/[^/\s]+$")
_SECRET_FROM = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:[^/].*|connection:[^/\s]+/\S+)$")


def _check_resource(value: str) -> str:
    if not _RESOURCE.match(value):
        raise ValueError(f"expected a resource like 'service/web' or 'record/www', got {value!r}")
    return value


ResourceRef = Annotated[str, BeforeValidator(lambda v: _check_resource(v) if isinstance(v, str) else v)]


class Policy(Strict):
    sync: Literal["auto", "manual", "detect"] = "manual"
    prune: bool = False


class Connections(Strict):
    """Which stored connection each target uses, by connection name."""

    swarm: str | None = Field(None, description="Docker connection for services, compose, networks, secrets, configs.")
    dns: str | None = Field(None, description="Cloudflare connection for dns.")
    servers: str | None = Field(None, description="Hetzner connection for servers.")
    stacks: str | None = Field(None, description="Portainer connection for stacks.")


class Ignore(Strict):
    resource: ResourceRef
    fields: list[str] = Field(min_length=1, description="Dotted globs of fields another system owns.")


class Network(Strict):
    driver: str = "overlay"
    attachable: bool = False
    external: bool = False
    labels: StrMap = Field(default_factory=dict)


def _empty_is_default(value: Any) -> Any:
    return {} if value is None else value  # `frontend:` with nothing under it


NetworkSpec = Annotated[Network, BeforeValidator(_empty_is_default, json_schema_input_type=Network | None)]


class SecretRef(Strict):
    """Where a secret's value comes from; the value itself is never written in a manifest."""

    from_: str = Field(alias="from", description="env:VAR | file:path/in/repo | connection:NAME/KEY")

    @model_validator(mode="before")
    @classmethod
    def _no_inline_values(cls, value: Any) -> Any:
        # never echo what was written: it may be the secret itself
        hint = "write {from: \"env:VAR\"}, {from: \"file:path\"} or {from: \"connection:NAME/KEY\"}"
        if not isinstance(value, dict):
            raise ValueError(f"a secret is a reference, never a value: {hint}")
        inline = sorted(set(value) - {"from"})
        if inline:
            raise ValueError(f"a secret takes only `from` (got {', '.join(map(repr, inline))}); "
                             f"secret values never go in the manifest: {hint}")
        return value

    @field_validator("from_")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not _SECRET_FROM.match(value):
            raise ValueError("`from` must be env:VAR, file:path/in/repo or connection:NAME/KEY")
        return value


class Config(Strict):
    file: RepoPath | None = None
    content: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Config:
        if (self.file is None) == (self.content is None):
            raise ValueError("a config takes exactly one of `file` or `content`")
        return self


class Manifest(Strict):
    """One orch.yaml (apiVersion jarvis/v1)."""

    apiVersion: Literal["jarvis/v1"]
    name: str = Field(description="[a-z0-9][a-z0-9-_]{0,62}")
    environment: str = "default"
    policy: Policy = Field(default_factory=Policy)
    connections: Connections = Field(default_factory=Connections)
    ignore: list[Ignore] = Field(default_factory=list)
    protected: list[ResourceRef] = Field(default_factory=list)

    services: dict[ObjectName, Service] | None = None
    compose: Annotated[list[RepoPath], BeforeValidator(one_or_many, json_schema_input_type=str | list[str])] | None = None
    networks: dict[ObjectName, NetworkSpec] | None = None
    secrets: dict[ObjectName, SecretRef] | None = None
    configs: dict[ObjectName, Config] | None = None

    dns: ZoneList | None = None
    servers: list[Server] | None = None
    stacks: list[Stack] | None = None
    backups: list[Backup] | None = None
    runbooks: list[Runbook] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MANIFEST_NAME.match(value):
            raise ValueError(f"invalid manifest name {value!r}: lower-case letters, digits, '-' and '_' (max 63)")
        return value
