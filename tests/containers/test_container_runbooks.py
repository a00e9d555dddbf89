"""The container runbooks through real ansible-runner, on the real container: restart (its start time
changes) and logs (an artifact file, lines as `docker logs` has them), through a docker connection and
through Portainer's Docker proxy; a container that does not exist fails the run saying so."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import ansible_runner
import yaml

from controller.contract import ConnectionInfo
from controller.jobs import step_connection

from .conftest import API_KEY, docker

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = {"docker": ROOT / "reconcilers/swarm/runbooks", "portainer": ROOT / "reconcilers/portainer/runbooks"}


def _run(name: str, conn: ConnectionInfo, artifacts: Path | None = None, **input_):
    folder = RUNBOOKS[conn.type] / name
    meta = yaml.safe_load((folder / "runbook.yaml").read_text())
    assert meta["name"] == name and meta["connection_type"] == conn.type
    extravars = {"input": input_, step_connection.VAR: step_connection.to_vars(conn),
                 **({"jarvis_artifacts_dir": str(artifacts)} if artifacts else {})}
    with tempfile.TemporaryDirectory(prefix="jarvis-test-runner-") as d:
        r = ansible_runner.run(private_data_dir=d, playbook=str(folder / meta["playbook"]), extravars=extravars,
                               envvars=step_connection.to_env(conn), quiet=True)
        stats = next(((ev["event_data"].get("artifact_data") or {}) for ev in r.events
                      if ev.get("event") == "playbook_on_stats"), {})
        return r.status, stats.get(name.replace("-", "_"), {}), r.stdout.read()


def _started(cid: str) -> str:
    return docker("inspect", "-f", "{{.State.StartedAt}}", cid)


def test_restart_and_logs_runbooks_on_both_connection_types(container, emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")   # ansible-playbook
    local = ConnectionInfo(name="local", type="docker", config={"base_url": "unix:///var/run/docker.sock"})
    ptr = ConnectionInfo(name="ptr", type="portainer", config={"base_url": emulator.url}, secrets={"api_key": API_KEY})
    want = subprocess.run(["docker", "logs", container["id"]], capture_output=True, text=True, check=True)
    for conn, prefix, ref in ((local, "container", container["id"]), (ptr, "portainer-container", f"1:{container['id']}")):
        before = _started(container["id"])
        status, out, stdout = _run(f"{prefix}-restart", conn, ref=ref)
        assert status == "successful", stdout
        assert _started(container["id"]) != before
        assert out["container"]["name"] == container["name"] and "restarted" in out["msg"]

        artifacts = tmp_path / conn.type
        artifacts.mkdir()
        status, out, stdout = _run(f"{prefix}-logs", conn, artifacts, ref=ref, lines=1000)
        assert status == "successful", stdout
        text = (artifacts / out["artifact"]).read_text().splitlines()
        assert text == out["lines"]
        # every restart writes the three lines again: each stream as docker logs has it
        for stream, lines in (("stdout", want.stdout), ("stderr", want.stderr)):
            got = [line.split(" ", 2)[2] for line in text if line.split(" ", 2)[1] == stream]
            assert got[:len(lines.splitlines())] == lines.splitlines()
        assert API_KEY not in stdout     # the credentials travel in the environment, never in the output

    status, out, stdout = _run("container-restart", local, ref="0" * 64)
    assert status == "failed" and "no container" in out["msg"], stdout

