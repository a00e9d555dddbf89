"""The Hetzner Cloud emulator, driven by the official `hcloud` client: it must behave as the real
API does for everything the VPS reconciler will rely on, and its servers must be real machines
reached over real SSH (the hardening runs against them)."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx
import pytest
from hcloud import APIException, Client
from hcloud.images import Image
from hcloud.locations import Location
from hcloud.server_types import ServerType

from tests.emulators.hetzner import HetznerEmulator

pytestmark = pytest.mark.docker


def client(emu: HetznerEmulator, token: str = "hetzner-test-token") -> Client:
    return Client(token=token, api_endpoint=emu.base_url, poll_interval=0.05)


def ssh(ip: str, key, command: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-i", str(key.private_path), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                           "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=3", f"root@{ip}", command],
                          capture_output=True, text=True, timeout=timeout)


def wait_for_ssh(ip: str, deadline_s: float = 30) -> None:
    """Until sshd on the server answers with its banner (a booting server refuses first)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection((ip, 22), timeout=1) as s:
                if s.recv(16).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > end:
            raise AssertionError(f"no sshd answered on {ip}:22 within {deadline_s}s")
        time.sleep(0.1)


def create(hc: Client, name: str, key, **kwargs):
    ssh_key = hc.ssh_keys.create(name=f"{name}-key", public_key=key.public)
    response = hc.servers.create(name=name, server_type=ServerType(name="cx22"), image=Image(name="debian-12"),
                                 location=Location(name="fsn1"), ssh_keys=[ssh_key], **kwargs)
    response.action.wait_until_finished()
    return hc.servers.get_by_id(response.server.id)


def test_the_catalogue_reads_through_the_official_client(hetzner):
    hc = client(hetzner)
    assert {loc.name for loc in hc.locations.get_all()} >= {"fsn1", "nbg1", "hel1"}
    cx22 = hc.server_types.get_by_name("cx22")
    assert (cx22.cores, cx22.memory, cx22.disk) == (2, 4.0, 40)
    assert hc.images.get_by_name_and_architecture("debian-12", "x86").os_version == "12"


def test_a_created_server_is_a_real_machine_with_the_keys_and_user_data(hetzner, keypair):
    hc = client(hetzner)
    script = "#!/bin/sh\necho provisioned-by-user-data > /root/first-boot\n"
    server = create(hc, "web-1", keypair, labels={"jarvis-managed": "true", "role": "web"}, user_data=script)
    assert server.status == "running"
    ip = server.public_net.ipv4.ip
    wait_for_ssh(ip)
    out = ssh(ip, keypair, "hostname; cat /root/first-boot; /usr/sbin/sshd -T | grep -i '^port '")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["web-1", "provisioned-by-user-data", "port", "22"]


def test_lists_filter_by_label_selector_and_names_are_unique(hetzner, keypair):
    hc = client(hetzner)
    create(hc, "managed-1", keypair, labels={"jarvis-managed": "true", "jarvis-source": "fleet"})
    with pytest.raises(APIException) as dup_key:
        hc.ssh_keys.create(name="again", public_key=keypair.public)
    assert dup_key.value.code == "uniqueness_error"
    hc.servers.create(name="not-ours", server_type=ServerType(name="cx22"), image=Image(name="debian-12"),
                      labels={"team": "other"}).action.wait_until_finished()
    ours = hc.servers.get_all(label_selector="jarvis-managed=true,jarvis-source in (fleet,other)")
    assert [s.name for s in ours] == ["managed-1"]
    assert [s.name for s in hc.servers.get_all(label_selector="!jarvis-managed")] == ["not-ours"]
    with pytest.raises(APIException) as taken:
        hc.servers.create(name="not-ours", server_type=ServerType(name="cx22"), image=Image(name="debian-12"))
    assert (taken.value.code, taken.value.message) == ("uniqueness_error", "server name is already used")


def test_power_cycle_keeps_the_address_and_resize_needs_the_server_off(hetzner, keypair):
    hc = client(hetzner)
    server = create(hc, "db-1", keypair)
    ip = server.public_net.ipv4.ip
    wait_for_ssh(ip)
    with pytest.raises(APIException) as running:
        server.change_type(ServerType(name="cx32"), upgrade_disk=False)
    assert running.value.code == "server_not_stopped"
    server.power_off().wait_until_finished()
    assert hc.servers.get_by_id(server.id).status == "off"
    assert ssh(ip, keypair, "true").returncode != 0                 # the machine is really down
    server.change_type(ServerType(name="cx32"), upgrade_disk=False).wait_until_finished()
    server.power_on().wait_until_finished()
    after = hc.servers.get_by_id(server.id)
    assert (after.status, after.server_type.name, after.public_net.ipv4.ip) == ("running", "cx32", ip)
    wait_for_ssh(ip)
    assert ssh(ip, keypair, "hostname").stdout.strip() == "db-1"


def test_protection_holds_a_delete_and_a_delete_removes_the_machine(hetzner, keypair):
    hc = client(hetzner)
    server = create(hc, "keep-1", keypair)
    server.change_protection(delete=True).wait_until_finished()
    with pytest.raises(APIException) as protected:
        server.delete()
    assert protected.value.code == "protected"
    server.change_protection(delete=False).wait_until_finished()
    container = hetzner.containers[server.id]
    server.delete().wait_until_finished()
    assert not hetzner.machines.running(container)
    with pytest.raises(APIException) as gone:
        hc.servers.get_by_id(server.id)
    assert gone.value.code == "not_found"


def test_failed_actions_bad_tokens_and_the_rate_limit_answer_as_the_real_api(hetzner, keypair):
    hc = client(hetzner)
    response = hc.servers.create(name="ubuntu-1", server_type=ServerType(name="cx22"), image=Image(name="ubuntu-24.04"))
    with pytest.raises(Exception) as failed:
        response.action.wait_until_finished()
    assert "cannot boot" in str(failed.value)
    with pytest.raises(APIException) as unknown:
        hc.servers.create(name="x", server_type=ServerType(name="cx999"), image=Image(name="debian-12"))
    assert unknown.value.code == "invalid_input"
    with pytest.raises(APIException) as unauthorized:
        client(hetzner, token="wrong").locations.get_all()
    assert unauthorized.value.code == "unauthorized"
    before = hetzner.requests["GET /locations"]
    hetzner.fail_next(429, "rate_limit_exceeded")
    assert len(hc.locations.get_all()) == 3                    # the client backs off and retries
    assert hetzner.requests["GET /locations"] == before + 2


def test_the_hourly_budget_shows_in_the_headers_and_ends_in_429(hetzner):
    headers = {"Authorization": "Bearer hetzner-test-token"}
    first = httpx.get(f"{hetzner.base_url}/locations", headers=headers)
    assert first.headers["RateLimit-Limit"] == "3600"
    remaining = int(first.headers["RateLimit-Remaining"])
    hetzner.remaining = 0
    spent = httpx.get(f"{hetzner.base_url}/locations", headers=headers)
    assert spent.status_code == 429 and spent.json()["error"]["code"] == "rate_limit_exceeded"
    assert spent.headers["RateLimit-Remaining"] == "0" and remaining == 3599
