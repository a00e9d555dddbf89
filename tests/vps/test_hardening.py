"""The hardening playbook over real SSH against a real server (a container from the Hetzner
emulator): what sshd, nftables and fail2ban hold afterwards, its drift check in check mode, and
the host key pinned on first contact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from controller.jobs.runner import RunResult, RunSpec, run_playbook
from reconcilers.vps import PLAYBOOKS
from tests.vps.test_hetzner_emulator import client, create, ssh, wait_for_ssh

pytestmark = pytest.mark.docker

HARDENING = {"ssh": "strict", "firewall": [22, 80, 443], "fail2ban": True, "upgrades": True}


@pytest.fixture
def server(hetzner, keypair, tmp_path):
    """A running server, its host key pinned in a known_hosts file of the test's own."""
    created = create(client(hetzner), "harden-1", keypair)
    ip = created.public_net.ipv4.ip
    wait_for_ssh(ip)
    scan = subprocess.run(["ssh-keyscan", "-t", "ed25519", ip], capture_output=True, text=True, check=True)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(scan.stdout)
    return {"name": "harden-1", "host": ip, "known_hosts": known_hosts}


def harden(server, keypair, tmp_path: Path, *, check: bool = False, known_hosts: Path | None = None,
           **hardening) -> tuple[RunResult, list[dict]]:
    events: list[dict] = []
    result = run_playbook(RunSpec(
        private_dir=tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}", playbook=PLAYBOOKS / "harden.yml",
        extravars={"server": {"name": server["name"], "host": server["host"]},
                   "hardening": {**HARDENING, "authorized_keys": [keypair.public], **hardening},
                   "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts or server['known_hosts']} "
                                              "-o StrictHostKeyChecking=yes"},
        ssh_key=keypair.private_path.read_text(), check=check, timeout=300), on_event=events.append)
    return result, events


def changed_tasks(events: list[dict]) -> list[str]:
    """The tasks that changed (or, in check mode, would change) something on the server."""
    return [e["event_data"]["task"] for e in events
            if e.get("event") == "runner_on_ok" and e["event_data"].get("host") != "localhost"
            and (e["event_data"].get("res") or {}).get("changed")]


def drift_messages(events: list[dict]) -> list[str]:
    return [e["event_data"]["res"]["msg"] for e in events if e.get("event") == "runner_on_ok"
            and str((e["event_data"].get("res") or {}).get("msg", "")).startswith(("firewall drift", "fail2ban drift"))]


def on(server, keypair, command: str) -> str:
    out = ssh(server["host"], keypair, command)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_hardening_leaves_sshd_nftables_and_fail2ban_as_declared(server, keypair, tmp_path):
    result, _ = harden(server, keypair, tmp_path)
    assert result.status == "success", (result.failures, result.stdout[-2000:])
    effective = dict(line.split(" ", 1) for line in on(server, keypair, "/usr/sbin/sshd -T").splitlines())
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["permitrootlogin"] == "without-password"          # sshd -T's name for prohibit-password
    assert effective["ciphers"] == "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com"
    assert effective["maxauthtries"] == "3"
    table = on(server, keypair, "nft list table inet jarvis")
    assert "policy drop;" in table and "tcp dport { 22, 80, 443 } accept" in table
    assert "Currently banned" in on(server, keypair, "fail2ban-client status sshd")
    assert on(server, keypair, "cat /etc/apt/apt.conf.d/20auto-upgrades").count('"1"') == 2
    # the deploy user reaches the server with the listed key and has sudo
    jarvis = subprocess.run(["ssh", "-i", str(keypair.private_path), "-o", "BatchMode=yes",
                             "-o", f"UserKnownHostsFile={server['known_hosts']}", f"jarvis@{server['host']}",
                             "sudo -n id -u"], capture_output=True, text=True, timeout=20)
    assert (jarvis.returncode, jarvis.stdout.strip()) == (0, "0"), jarvis.stderr
    # a password login is refused by the server itself, not only by this client
    password = subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", "PreferredAuthentications=password",
                               "-o", f"UserKnownHostsFile={server['known_hosts']}", f"root@{server['host']}", "true"],
                              capture_output=True, text=True, timeout=20)
    assert "Permission denied (publickey)" in password.stderr

    again, events = harden(server, keypair, tmp_path)                # idempotent: nothing to change
    assert again.status == "success" and changed_tasks(events) == []
    check, events = harden(server, keypair, tmp_path, check=True)
    assert check.status == "success" and changed_tasks(events) == []  # compliant


def test_a_hand_edit_is_drift_in_check_mode_and_the_next_run_heals_it(server, keypair, tmp_path):
    assert harden(server, keypair, tmp_path)[0].status == "success"
    on(server, keypair, "echo 'PasswordAuthentication yes' >> /etc/ssh/sshd_config; "
                        "nft add rule inet jarvis input tcp dport 8080 accept; fail2ban-client stop")

    check, events = harden(server, keypair, tmp_path, check=True)
    assert check.status == "success", (check.failures, check.stdout[-2000:])
    drifted = changed_tasks(events)
    assert "No other file sets a keyword the policy owns" in drifted           # the sshd_config edit
    assert "The live table inet jarvis" in drifted
    assert "Is fail2ban running with the sshd jail" in drifted
    messages = drift_messages(events)
    assert any("8080" in m for m in messages), messages
    assert "fail2ban drift: the sshd jail is not running" in messages
    diffs = [d for e in events for d in (e.get("event_data", {}).get("res") or {}).get("diff") or []
             if isinstance(d, dict)]
    assert any("/etc/ssh/sshd_config" in str(d.get("before_header", "")) and "PasswordAuthentication yes"
               in str(d.get("before", "")) for d in diffs)
    # the check changed nothing
    assert "PasswordAuthentication yes" in on(server, keypair, "cat /etc/ssh/sshd_config")
    assert "8080" in on(server, keypair, "nft list table inet jarvis")

    healed, _ = harden(server, keypair, tmp_path)
    assert healed.status == "success", (healed.failures, healed.stdout[-2000:])
    assert "passwordauthentication no" in on(server, keypair, "/usr/sbin/sshd -T")
    assert "8080" not in on(server, keypair, "nft list table inet jarvis")
    assert "Currently banned" in on(server, keypair, "fail2ban-client status sshd")
    assert changed_tasks(harden(server, keypair, tmp_path, check=True)[1]) == []


def test_a_changed_host_key_is_refused_and_a_lockout_is_refused_before_any_change(server, keypair, tmp_path):
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(f"{server['host']} {(tmp_path / 'other_key.pub').read_text().split(' ')[0]} "
                     f"{(tmp_path / 'other_key.pub').read_text().split(' ')[1]}\n")
    refused, _ = harden(server, keypair, tmp_path, known_hosts=wrong)
    assert refused.status == "error"
    assert "Host key verification failed" in (refused.stdout + str(refused.failures))
    assert "00-jarvis.conf" not in on(server, keypair, "ls /etc/ssh/sshd_config.d")

    locked_out, _ = harden(server, keypair, tmp_path, firewall=[80, 443])
    assert locked_out.status == "error"
    assert "does not accept the SSH port 22" in str(locked_out.failures)
    assert "00-jarvis.conf" not in on(server, keypair, "ls /etc/ssh/sshd_config.d")
