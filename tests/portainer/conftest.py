"""Fixtures for the Portainer tests: an emulator backed by the real Swarm engine that fails the test
on any request the published Swagger document rejects, connections pointing at it, unique stack
names, and a real ansible-runner run of a step."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import ansible_runner
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from controller.contract import ConnectionInfo, Scope  # noqa: E402
from controller.jobs import step_connection  # noqa: E402
from tests.emulators.portainer import PortainerEmulator  # noqa: E402

API_KEY = "ptr_test_0123456789abcdef"
USER, PASSWORD = "admin", "portainer-test-password"


def _engine_ready() -> bool:
    return subprocess.run(["docker", "image", "inspect", "jarvis-test/sleep:1"], capture_output=True).returncode == 0


@pytest.fixture
def emulator():
    if not _engine_ready():
        subprocess.run(["sh", str(ROOT / "tests/infra/docker.sh")], check=True)
    emu = PortainerEmulator().start()
    emu.add_api_key(API_KEY)
    emu.add_user(USER, PASSWORD)
    emu.add_endpoint("prod")
    yield emu
    emu.stop()
    emu.remove_all()
    assert emu.checker.loaded, "the Portainer Swagger document was not found"
    assert not emu.violations, "requests the Portainer schema rejects:\n" + "\n".join(emu.violations)


@pytest.fixture
def connection(emulator) -> ConnectionInfo:
    return ConnectionInfo(name="ptr-main", type="portainer", config={"base_url": emulator.url},
                          secrets={"api_key": API_KEY})


@pytest.fixture
def login_connection(emulator) -> ConnectionInfo:
    return ConnectionInfo(name="ptr-login", type="portainer", config={"base_url": emulator.url},
                          secrets={"username": USER, "password": PASSWORD})


@pytest.fixture
def scope() -> Scope:
    return Scope(source="ptr-src", manifest=f"m{uuid.uuid4().hex[:6]}")


@pytest.fixture
def name() -> str:
    """A stack name no other test (nor agent) uses."""
    return f"ptr{uuid.uuid4().hex[:8]}"


@pytest.fixture
def run_step(tmp_path, monkeypatch):
    """Runs a step's playbook the way the worker does: the connection as `jarvis_connection`, its
    credentials in the environment (controller.jobs.step_connection)."""
    counter = iter(range(1000))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")

    def run(step, conn: ConnectionInfo):
        pdd = tmp_path / f"run{next(counter)}"
        pdd.mkdir()
        runner = ansible_runner.run(private_data_dir=str(pdd), playbook=step.playbook,
                                    extravars={**step.vars, step_connection.VAR: step_connection.to_vars(conn)},
                                    envvars=step_connection.to_env(conn), quiet=True, json_mode=False)
        results = [e["event_data"]["res"] for e in runner.events
                   if e.get("event") in ("runner_on_ok", "runner_on_failed")
                   and e["event_data"].get("task_action", "").endswith("jarvis_portainer")]
        return runner, results, runner.stdout.read()
    return run


def services(stack: str) -> dict[str, dict]:
    """The real Swarm services of a stack, by service name."""
    import docker
    client = docker.from_env()
    try:
        return {s.attrs["Spec"]["Name"]: s.attrs for s in
                client.services.list(filters={"label": f"com.docker.stack.namespace={stack}"})}
    finally:
        client.close()
