"""Real containers on the real engine for the containers API: one started here with `docker run`
(stdout and stderr lines, a named volume, a secret-looking env value, a healthcheck), a docker
connection to this host's engine, and a Portainer connection to the emulator, whose Docker proxy
forwards to the same engine."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from controller import connections
from tests.portainer.conftest import API_KEY, emulator  # noqa: F401  (the emulator fixture)
from tests.support.waiting import wait_for

SECRET_VALUE = "hunter2-never-shown"
# sh as PID 1 with a TERM trap: a restart stops it at once instead of after the grace period
SCRIPT = ("trap 'exit 0' TERM; echo out-one; echo err-one >&2; echo out-two; "
          "while true; do sleep 1; done")


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def container():
    """A running container (its id and name) whose first three log lines are written."""
    uid = uuid.uuid4().hex[:8]
    name, volume = f"ctr-{uid}", f"ctrvol-{uid}"
    cid = docker("run", "-d", "--name", name, "-e", f"API_TOKEN={SECRET_VALUE}", "-e", "MODE=test",
                 "-v", f"{volume}:/data", "--health-cmd", "true", "--health-interval", "1s",
                 "-p", "127.0.0.1::80", "jarvis-test/sleep:1", "/bin/sh", "-c", SCRIPT)
    wait_for(lambda: "out-two" in subprocess.run(["docker", "logs", cid], capture_output=True, text=True).stdout,
             "the container's first lines", timeout=90)
    yield {"id": cid, "name": name, "volume": volume}
    subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    subprocess.run(["docker", "volume", "rm", volume], capture_output=True)


@pytest.fixture
def docker_conn(runtime):
    name = f"dock-{uuid.uuid4().hex[:6]}"
    with runtime.db.session() as db:
        c = connections.create(db, runtime.secrets, name=name, type="docker", environment="test",
                               config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="test")
        cid = c.id
    yield name
    _delete(runtime, cid)


@pytest.fixture
def portainer_conn(runtime, emulator):  # noqa: F811
    name = f"ptr-{uuid.uuid4().hex[:6]}"
    with runtime.db.session() as db:
        c = connections.create(db, runtime.secrets, name=name, type="portainer", environment="test",
                               config={"base_url": emulator.url}, credentials={"api_key": API_KEY}, created_by="test")
        cid = c.id
    yield name
    _delete(runtime, cid)


def _delete(runtime, conn_id: int) -> None:
    with runtime.db.session() as db:
        db.delete(connections.get(db, conn_id))
