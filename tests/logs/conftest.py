"""A real Swarm service (three replicas writing to stdout and stderr) on the real engine, a docker
connection to this host's engine, and `docker service logs` read the way an operator reads it."""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import UTC, datetime

import pytest

from controller import connections
from tests.containers.conftest import docker, docker_conn, portainer_conn  # noqa: F401  (connection fixtures)
from tests.portainer.conftest import emulator  # noqa: F401  (the emulator fixture)
from tests.support.waiting import wait_for

REPLICAS = 3
LINES = 5   # per replica and stream
SCRIPT = ('for i in $(seq 1 {n}); do echo "INFO out $i from $(hostname)"; echo "ERROR err $i | from $(hostname)" >&2; '
          "done; echo 'WARN the last line'; trap 'exit 0' TERM; while true; do sleep 1; done")
_DOCKER_LINE = re.compile(r"^(\S+) (\S+)@(\S+?)\s*\| (.*)$")


def docker_time(text: str) -> datetime:
    base, _, frac = text.removesuffix("Z").partition(".")
    return datetime.fromisoformat(f"{base}.{(frac + '000000')[:6]}").replace(tzinfo=UTC)


def docker_service_logs(name: str, *args: str) -> list[tuple]:
    """`docker service logs --timestamps --no-trunc`: (time, task name, node, stream, text) per line."""
    run = subprocess.run(["docker", "service", "logs", "--timestamps", "--no-trunc", *args, name],
                         capture_output=True, text=True, check=True)
    out = []
    for stream, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        for raw in text.splitlines():
            m = _DOCKER_LINE.match(raw)
            assert m, f"not a docker service logs line: {raw!r}"
            out.append((docker_time(m.group(1)), m.group(2), m.group(3), stream, m.group(4)))
    return out


def service_up(name: str, replicas: int, script: str) -> None:
    docker("service", "create", "-d", "--name", name, "--replicas", str(replicas), "--restart-condition", "none",
           "--stop-grace-period", "2s", "jarvis-test/sleep:1", "/bin/sh", "-c", script)


@pytest.fixture
def service():
    """A service whose every replica has written its lines (LINES each to stdout and stderr, then a WARN)."""
    name = f"lgs-{uuid.uuid4().hex[:8]}"
    service_up(name, REPLICAS, SCRIPT.format(n=LINES))
    wait_for(lambda: len(docker_service_logs(name)) == REPLICAS * (2 * LINES + 1), "every replica's lines",
             timeout=120)
    yield name
    subprocess.run(["docker", "service", "rm", name], capture_output=True)


TICKER = 'i=0; while true; do i=$((i+1)); echo "tick $i $(hostname)"; sleep 0.1; done'


@pytest.fixture
def ticker():
    """Two replicas printing `tick <n> <hostname>` every 0.1 s."""
    name = f"lgt-{uuid.uuid4().hex[:8]}"
    service_up(name, 2, TICKER)
    wait_for(lambda: len(docker_service_logs(name)) >= 6, "the ticker's first lines", timeout=120)
    yield name
    subprocess.run(["docker", "service", "rm", name], capture_output=True)


@pytest.fixture
def remote_conn(runtime):
    """A docker connection to an engine that does not answer (nothing listens on port 9)."""
    name = f"far-{uuid.uuid4().hex[:6]}"
    with runtime.db.session() as db:
        c = connections.create(db, runtime.secrets, name=name, type="docker", environment="test",
                               config={"base_url": "tcp://127.0.0.1:9", "tls": False}, credentials={},
                               created_by="test")
        cid = c.id
    yield name
    with runtime.db.session() as db:
        db.delete(connections.get(db, cid))
