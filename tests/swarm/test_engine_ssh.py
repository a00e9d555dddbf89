"""A docker connection over ssh:// with the connection's own key, against a real OpenSSH server
in front of this machine's engine; the key never stays on disk."""

from __future__ import annotations

import glob
import subprocess

import pytest

from controller.contract import ConnectionInfo
from reconcilers.swarm import SwarmReconciler
from tests.support.sshd import running_sshd


@pytest.fixture(scope="module")
def sshd():
    with running_sshd() as server:
        yield server


def _conn(server, key: str, **config) -> ConnectionInfo:
    return ConnectionInfo(name="over-ssh", type="docker",
                          config={"base_url": f"ssh://{server.user}@{server.host}:{server.port}", **config},
                          secrets={"ssh_key": key})


def test_check_and_observe_over_ssh_with_a_pinned_host_key(sshd, swarm_engine):
    before = set(glob.glob("/tmp/jarvis-docker-ssh-*"))
    conn = _conn(sshd, sshd.private_key, known_hosts=sshd.known_hosts_line)
    result = SwarmReconciler().check(conn)
    assert result.ok, result.message
    assert "swarm manager" in result.message
    assert set(glob.glob("/tmp/jarvis-docker-ssh-*")) == before     # key and socket removed on close


def test_unknown_host_key_and_wrong_key_are_refused(sshd, swarm_engine, tmp_path):
    result = SwarmReconciler().check(_conn(sshd, sshd.private_key, known_hosts="[127.0.0.1]:1 ssh-ed25519 AAAA"))
    assert not result.ok and "ssh to 127.0.0.1" in result.message
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    result = SwarmReconciler().check(_conn(sshd, (tmp_path / "other").read_text(), known_hosts=sshd.known_hosts_line))
    assert not result.ok and "ssh to 127.0.0.1" in result.message
    assert "PRIVATE KEY" not in result.message
