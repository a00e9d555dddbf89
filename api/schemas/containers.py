"""Bodies of /api/containers: environments → stacks → services → containers, a container's detail, its logs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .common import Output


class PortOut(Output):
    private: int
    public: int | None = None
    protocol: str = "tcp"
    ip: str | None = None


class ContainerOut(Output):
    connection: str
    environment: str
    ref: str = Field(description="How /api/containers/{connection}/{ref} addresses it: the container id, "
                                 "or <endpoint id>:<container id> on a Portainer connection.")
    id: str
    name: str
    stack: str | None = None
    service: str | None = None
    state: str = Field(description="created, running, paused, restarting, removing, exited or dead")
    status: str = Field("", description="The engine's own words (\"Up 5 minutes (healthy)\").")
    health: str | None = Field(None, description="starting, healthy or unhealthy; null without a healthcheck")
    exit_code: int | None = None
    restarts: int
    image: str
    created: datetime
    started: datetime | None = None
    ports: list[PortOut]
    node: str | None = None


class ServiceOut(Output):
    name: str | None = Field(description="null: containers outside any service")
    containers: list[ContainerOut]


class StackOut(Output):
    name: str | None = Field(description="null: containers outside any stack")
    containers: int
    errors: int = Field(description="Containers unhealthy, dead, restarting or exited with an error.")
    services: list[ServiceOut]


class EnvironmentOut(Output):
    connection: str
    connection_type: str
    name: str
    endpoint: int | None = Field(None, description="The Portainer endpoint id; null on a docker connection.")
    status: Literal["up", "down"]
    error: str | None = Field(None, description="Why this environment could not be read.")
    stacks: list[StackOut]


class ContainersOut(Output):
    environments: list[EnvironmentOut]


class MountOut(Output):
    type: str
    source: str
    destination: str
    read_only: bool


class NetworkOut(Output):
    name: str
    ip: str | None = None


class ResourcesOut(Output):
    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int | None = None
    network_rx_bytes: int
    network_tx_bytes: int
    pids: int


class ContainerDetailOut(ContainerOut):
    command: list[str]
    env_names: list[str] = Field(description="Environment variable names; values are never shown.")
    mounts: list[MountOut]
    networks: list[NetworkOut]
    resources: ResourcesOut | None = Field(None, description="One stats read; null when not running.")


class LogLineOut(Output):
    stream: Literal["stdout", "stderr"]
    time: datetime | None = Field(None, description="Only with timestamps=true.")
    text: str


class ContainerLogsOut(Output):
    connection: str
    ref: str
    lines: list[LogLineOut]


class RolledServiceOut(Output):
    id: str
    name: str
    force_update: int = Field(description="The service's ForceUpdate after the redeploy: its tasks are replaced.")


class RestartedContainerOut(Output):
    id: str
    name: str
    state: str
    started: datetime | None = None


class StackRedeployOut(Output):
    connection: str
    environment: str
    stack: str
    ref: str
    mode: Literal["swarm", "compose"] = Field(description="swarm: every service rolled with its own spec "
                                                          "(docker service update --force); compose: every "
                                                          "container of the project restarted.")
    services: list[RolledServiceOut]
    containers: list[RestartedContainerOut]
