"""Fixtures for the Cloudflare tests: a started emulator that fails the test on any request the
published schema rejects, a connection pointing at it, and a real ansible-runner run of a step."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ansible_runner
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:   # `tests.emulators` is imported as a package from the repository root
    sys.path.insert(0, str(ROOT))

from dataclasses import replace  # noqa: E402

from controller.contract import ConnectionInfo, Scope  # noqa: E402
from controller.jobs import step_connection  # noqa: E402
from tests.emulators.cloudflare import CloudflareEmulator  # noqa: E402

TOKEN = "cf-test-token-0123456789"


@pytest.fixture
def emulator():
    emu = CloudflareEmulator(retry_after=1).start()
    emu.add_zone("example.com")
    emu.add_token(TOKEN)
    yield emu
    emu.stop()
    assert emu.checker.loaded, "the Cloudflare OpenAPI spec was not found"
    assert not emu.violations, "requests the Cloudflare schema rejects:\n" + "\n".join(emu.violations)


@pytest.fixture
def connection(emulator):
    return ConnectionInfo(name="cf-main", type="cloudflare", config={"base_url": emulator.url},
                          secrets={"api_token": TOKEN})


@pytest.fixture
def scope():
    return Scope(source="examples", manifest="app")


@pytest.fixture
def run_playbook(tmp_path, monkeypatch, connection):
    """Runs a playbook the way the worker does: the connection as `jarvis_connection` and its token in
    the environment (controller.jobs.step_connection); `token` replaces the connection's."""
    counter = iter(range(1000))
    # ansible-playbook lives next to the venv's python, which need not be on PATH
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")

    def run(playbook: str, extravars: dict, token: str = TOKEN):
        conn = replace(connection, secrets={"api_token": token})
        pdd = tmp_path / f"run{next(counter)}"
        pdd.mkdir()
        runner = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook,
                                    extravars={**extravars, step_connection.VAR: step_connection.to_vars(conn)},
                                    envvars=step_connection.to_env(conn), quiet=True, json_mode=False)
        results = [e["event_data"]["res"] for e in runner.events
                   if e.get("event") in ("runner_on_ok", "runner_on_failed")
                   and e["event_data"].get("task_action", "").endswith("jarvis_cloudflare")]
        stdout = runner.stdout.read()
        return runner, results, stdout
    return run
