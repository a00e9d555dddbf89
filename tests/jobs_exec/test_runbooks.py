"""Built-in runbooks run for real: gather-facts over SSH (backup and restore: tests/backups/)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from controller.jobs.catalog import load_catalog
from controller.jobs.runner import RunResult, RunSpec, run_playbook
from controller.runbooks import BUILTIN_DIR

CATALOG = load_catalog([BUILTIN_DIR])


def run_runbook(name: str, input: dict, private_dir: Path, **spec: object) -> RunResult:
    """What the worker does for a runbook job: validate, split secrets from the rest, run."""
    runbook = CATALOG.get(name)
    assert CATALOG.validate_input(name, input) == []
    extravars = {"input": runbook.public_input(input), **spec.pop("extravars", {})}
    return run_playbook(RunSpec(
        private_dir=private_dir, playbook=runbook.playbook_path, extravars=extravars,
        envvars=runbook.secret_env(input), secrets=list(runbook.secret_fields(input).values()),
        timeout=runbook.timeout, ident=name, **spec))


# The test server is this machine, where root's login shell puts a pyenv shim first on PATH
# that interpreter discovery would pick; name the system python as an operator would.
SERVER_PYTHON = "/usr/bin/python3"


def test_gather_facts_over_ssh(sshd_server, private_dir: Path):
    input = {"connection": "test-ssh", "host": sshd_server.host, "port": sshd_server.port,
             "user": sshd_server.user, "python": SERVER_PYTHON}
    result = run_runbook("gather-facts", input, private_dir, ssh_key=sshd_server.private_key,
                         host_key_checking=False)

    assert result.status == "success", result.stdout
    facts = result.set_stats["facts"]
    assert facts["hostname"] == socket.gethostname().split(".")[0]
    assert facts["kernel"] and facts["os"]
    assert int(facts["cpus"]) >= 1 and int(facts["memory_mb"]) > 0
    assert int(facts["uptime_seconds"]) >= 0
    [artifact] = result.artifacts
    assert json.loads(artifact.read_text()) == facts
    # the key never stays on disk
    key_line = sshd_server.private_key.splitlines()[1].encode()
    for path in private_dir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert key_line not in path.read_bytes(), path


def test_gather_facts_with_a_key_the_server_does_not_know(sshd_server, private_dir: Path, tmp_path: Path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    input = {"connection": "test-ssh", "host": sshd_server.host, "port": sshd_server.port,
             "user": sshd_server.user}
    result = run_runbook("gather-facts", input, private_dir, ssh_key=(tmp_path / "other").read_text(),
                         host_key_checking=False)

    assert result.status == "error"
    assert [f["host"] for f in result.failures] == ["target"]
    assert "unreachable" in result.failures[0]["message"]
