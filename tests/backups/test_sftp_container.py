"""An `sftp:` repository on a real sshd in a container (the emulated cloud server image of tests/vps,
`jarvis-test/server:3`, built locally by deploy/build-images.sh --test-server): the connection test creates
the repository, a volume is backed up into it and restored from it through the jobs engine (compared file
by file), the snapshot's files are on the server's disk, a host key other than the pinned one is refused,
and a server that is down fails the backup with ssh's reason and no snapshot recorded."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.store.models import Job
from tests.backups.conftest import HELPER, PASSWORD
from tests.backups.test_volumes import FILES, _fill, _read, _run
from tests.emulators.hetzner.machines import IMAGE, Machines
from tests.support.jobs import wait_job
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]
LABEL = "jarvis-test.backups-sftp"


@dataclass(frozen=True)
class SftpServer:
    container: object
    address: str
    private_key: str
    known_hosts: str


def _ssh_answers(address: str) -> bool:
    import socket

    try:
        with socket.create_connection((address, 22), timeout=1) as s:
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture
def sftp_server(engine, tmp_path) -> Iterator[SftpServer]:
    if not Machines().available():
        subprocess.run(["bash", str(ROOT / "deploy" / "build-images.sh"), "--test-server"], check=True)
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jarvis-backups", "-f", str(key)], check=True)
    container = engine.containers.run(IMAGE, name=f"jbk-sftp-{uuid.uuid4().hex[:8]}", detach=True,
                                      labels={LABEL: "1"},
                                      environment={"SERVER_SSH_KEYS": (tmp_path / "id_ed25519.pub").read_text()})
    try:
        container.reload()
        address = container.attrs["NetworkSettings"]["IPAddress"]
        wait_for(lambda: _ssh_answers(address), f"sshd of {container.name} on {address}:22")
        code, host_key = container.exec_run(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
        assert code == 0, host_key
        yield SftpServer(container, address, key.read_text(), f"{address} " + " ".join(host_key.decode().split()[:2]))
    finally:
        container.remove(force=True)


def _create(client, admin, **config) -> tuple[int, str]:
    name = f"sftp-{uuid.uuid4().hex[:6]}"
    r = client.post("/api/connections", headers=admin.headers,
                    json={"name": name, "type": "backup-repository", "environment": "test", "config": config,
                          "credentials": {"password": PASSWORD, "ssh_private_key": config.pop("_key")}})
    assert r.status_code == 201, r.text
    return r.json()["id"], name


def test_backup_and_restore_a_volume_through_an_sftp_repository_on_a_real_sshd_container(
        backup_client, backup_rt, operator, admin, engine, docker_conn, volumes, sftp_server):
    server = sftp_server
    location = f"sftp:root@{server.address}:/srv/restic"
    conn_id, repo = _create(backup_client, admin, repository=location, known_hosts=server.known_hosts, init=True,
                            _key=server.private_key)
    tested = backup_client.post(f"/api/connections/{conn_id}/test", headers=operator.headers).json()
    assert tested["ok"] is True and "created" in tested["message"], tested
    assert server.container.exec_run(["test", "-f", "/srv/restic/config"]).exit_code == 0

    name = f"jbk-{uuid.uuid4().hex[:8]}"
    volumes.append(name)
    engine.volumes.create(name)
    _fill(engine, name, FILES)
    common = {"connection": docker_conn, "repository": repo, "helper_image": HELPER}
    job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume", {**common, "volume": name, "keep": 3}))
    assert job.status == "success", job.reason
    snap = job.output_json["backup"]
    assert snap["snapshots"] == 1 and snap["size"] > 70_000
    # the snapshot's data is on the server: restic's pack files under data/, its snapshot under snapshots/
    _, listed = server.container.exec_run(["sh", "-c", "ls /srv/restic/snapshots; find /srv/restic/data -type f | wc -l"])
    lines = listed.decode().split()
    assert lines[0] == snap["snapshot_id"] and int(lines[-1]) >= 1, listed

    job = wait_job(backup_rt, _run(backup_client, admin, "restore-volume", {**common, "volume": name}))
    assert job.status == "success", job.reason
    into = job.output_json["restore"]["volume"]
    volumes.append(into)
    assert _read(engine, into) == _read(engine, name)

    # a host key other than the pinned one: ssh refuses, the connection test says so
    stranger_id, _ = _create(backup_client, admin, repository=location, _key=server.private_key,
                             known_hosts=f"{server.address} ssh-ed25519 "
                                         "AAAAC3NzaC1lZDI1NTE5AAAAIBm1m0b0J9hj3BW9XHPnW0rdtaSnN4U4pcE2pUrP3cLm")
    refused = backup_client.post(f"/api/connections/{stranger_id}/test", headers=operator.headers).json()
    assert refused["ok"] is False, refused

    # the server is down: the backup fails with ssh's reason and records no snapshot
    server.container.stop(timeout=2)
    job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume", {**common, "volume": name}))
    assert job.status == "error", job.reason
    assert "restic" in job.reason and ("ssh" in job.reason.lower() or "connect" in job.reason.lower()), job.reason
    with backup_rt.db.session() as db:
        assert db.scalar(select(Job.output_json).where(Job.id == job.id)).get("backup", {}).get("snapshot_id") is None
