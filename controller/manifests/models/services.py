"""`services:` — Swarm services, name -> spec (the short forms of ports, volumes, secrets are parsed here)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .common import Argv, Duration, Memory, Strict, StrMap, describe

# --- ports ---------------------------------------------------------------------------------------------

_PORT_SHORT = re.compile(r"^(?:(\d+):)?(\d+)(?:/(tcp|udp|sctp))?$")


class Port(Strict):
    target: int = Field(ge=1, le=65535)
    published: int | None = Field(None, ge=1, le=65535)
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    mode: Literal["ingress", "host"] = "ingress"


def _parse_port(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"target": value}
    if isinstance(value, str):
        match = _PORT_SHORT.match(value.strip())
        if not match:
            raise ValueError(f"expected a port like '8080:80' or '8080:80/udp', got {describe(value)}")
        published, target, protocol = match.groups()
        port: dict[str, Any] = {"target": int(target), "protocol": protocol or "tcp", "mode": "ingress"}
        if published is not None:
            port["published"] = int(published)
        return port
    return value


PortSpec = Annotated[Port, BeforeValidator(_parse_port, json_schema_input_type=str | int | Port)]


# --- volumes -------------------------------------------------------------------------------------------

class Volume(Strict):
    type: Literal["volume", "bind", "tmpfs"] = "volume"
    source: str | None = None
    target: str
    read_only: bool = False

    @model_validator(mode="after")
    def _check(self) -> Volume:
        if not self.target.startswith("/"):
            raise ValueError(f"target must be an absolute path in the container, got {self.target!r}")
        if self.type == "bind" and not self.source:
            raise ValueError("a bind mount needs a source path")
        return self


def _parse_volume(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parts = value.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0], "read_only": False}
    if len(parts) > 3 or (len(parts) == 3 and parts[2] not in ("ro", "rw")) or not all(parts[:2]):
        raise ValueError(f"expected a volume like 'name:/path', '/host:/path' or 'name:/path:ro', got {describe(value)}")
    source, target = parts[0], parts[1]
    kind = "bind" if source.startswith(("/", ".")) else "volume"
    return {"type": kind, "source": source, "target": target, "read_only": len(parts) == 3 and parts[2] == "ro"}


VolumeSpec = Annotated[Volume, BeforeValidator(_parse_volume, json_schema_input_type=str | Volume)]


# --- secret and config attachments ---------------------------------------------------------------------

class FileRef(Strict):
    """A secret or config attached to a service; `source` names a top-level `secrets:`/`configs:` entry."""

    source: str
    target: str | None = None
    mode: int | None = Field(None, ge=0, le=0o777)
    uid: str | None = None
    gid: str | None = None


def _parse_ref(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else value


FileRefSpec = Annotated[FileRef, BeforeValidator(_parse_ref, json_schema_input_type=str | FileRef)]


# --- deploy settings -----------------------------------------------------------------------------------

class ResourceAmounts(Strict):
    cpus: float | None = Field(None, gt=0)
    memory: Memory | None = None


class Resources(Strict):
    limits: ResourceAmounts | None = None
    reservations: ResourceAmounts | None = None


class Placement(Strict):
    constraints: list[str] = Field(default_factory=list)
    preferences: list[str] = Field(default_factory=list)
    max_replicas: int = Field(0, ge=0)


def _healthcheck_test(value: Any) -> Any:
    # compose convention: a plain string runs through the container's shell
    return ["CMD-SHELL", value] if isinstance(value, str) else value


class Healthcheck(Strict):
    test: Annotated[list[str], BeforeValidator(_healthcheck_test, json_schema_input_type=str | list[str])] | None = None
    interval: Duration = "30s"
    timeout: Duration = "30s"
    retries: int = Field(3, ge=0)
    start_period: Duration = "0s"
    disable: bool = False

    @model_validator(mode="after")
    def _check(self) -> Healthcheck:
        if not self.disable and not self.test:
            raise ValueError("a healthcheck needs a `test` (or `disable: true`)")
        return self


class UpdateConfig(Strict):
    parallelism: int = Field(1, ge=0)
    delay: Duration = "0s"
    order: Literal["stop-first", "start-first"] = "stop-first"
    failure_action: Literal["pause", "continue", "rollback"] = "pause"
    monitor: Duration = "5s"
    max_failure_ratio: float = Field(0, ge=0, le=1)


class RollbackConfig(UpdateConfig):
    failure_action: Literal["pause", "continue"] = "pause"


class RestartPolicy(Strict):
    condition: Literal["none", "on-failure", "any"] = "any"
    delay: Duration = "5s"
    max_attempts: int = Field(0, ge=0)
    window: Duration = "0s"


class Expose(Strict):
    """Publish the service through Traefik; becomes router and service labels."""

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    entrypoint: str = "websecure"
    tls: bool = True


class Service(Strict):
    image: str = Field(min_length=1)
    mode: Literal["replicated", "global"] = "replicated"
    replicas: int | None = Field(None, ge=0, description="Default 1; not allowed with mode global.")
    command: Argv | None = None
    args: Argv | None = None
    env: StrMap = Field(default_factory=dict)
    labels: StrMap = Field(default_factory=dict)
    container_labels: StrMap = Field(default_factory=dict)
    ports: list[PortSpec] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list)
    volumes: list[VolumeSpec] = Field(default_factory=list)
    secrets: list[FileRefSpec] = Field(default_factory=list)
    configs: list[FileRefSpec] = Field(default_factory=list)
    resources: Resources | None = None
    placement: Placement | None = None
    healthcheck: Healthcheck | None = None
    update: UpdateConfig | None = None
    rollback: RollbackConfig | None = None
    restart: RestartPolicy | None = None
    expose: Expose | None = None
    protected: bool = False

    @model_validator(mode="after")
    def _replicas(self) -> Service:
        if self.mode == "global":
            if self.replicas is not None:
                raise ValueError("`replicas` cannot be set with mode global (one task runs on every node)")
        elif self.replicas is None:
            self.replicas = 1
        return self
