"""The `backup-repository` connection: restic repositories on a local path and over sftp (a real sshd),
tested with `restic cat config`, created only when asked, and a snapshot written only from a whole stream."""

from __future__ import annotations

import io
import uuid

import pytest

from controller.backups.restic import Repository, ResticError
from controller.contract import ConnectionInfo
from tests.support.sshd import running_sshd

PASSWORD = "restic-password-never-echoed-42"


def _create(client, admin, **config):
    r = client.post("/api/connections", headers=admin.headers,
                    json={"name": f"repo-{uuid.uuid4().hex[:6]}", "type": "backup-repository", "environment": "test",
                          "config": config, "credentials": {"password": PASSWORD}})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _test(client, operator, conn_id):
    r = client.post(f"/api/connections/{conn_id}/test", headers=operator.headers)
    assert r.status_code == 200 and PASSWORD not in r.text
    return r.json()


def test_connection_test_opens_creates_only_when_asked_and_names_a_wrong_password(client, admin, operator, tmp_path):
    location = str(tmp_path / "repo")
    missing = _test(client, operator, _create(client, admin, repository=location))
    assert missing["ok"] is False and "no restic repository" in missing["message"] and "init: true" in missing["message"]
    assert not (tmp_path / "repo").exists()                         # a test without init touches nothing

    created = _test(client, operator, _create(client, admin, repository=location, init=True))
    assert created["ok"] is True and "created" in created["message"]
    assert (tmp_path / "repo" / "config").is_file()
    again = _test(client, operator, _create(client, admin, repository=location, init=True))
    assert again["ok"] is True and "opens" in again["message"]      # an existing repository is left alone

    wrong = client.post("/api/connections", headers=admin.headers,
                        json={"name": f"repo-{uuid.uuid4().hex[:6]}", "type": "backup-repository",
                              "config": {"repository": location}, "credentials": {"password": "not-it"}}).json()
    result = _test(client, operator, wrong["id"])
    assert result["ok"] is False and "wrong password" in result["message"]


def test_a_repository_needs_a_password_and_a_known_location_form(client, admin):
    r = client.post("/api/connections", headers=admin.headers,
                    json={"name": "repo-bad", "type": "backup-repository", "config": {"repository": "relative/dir"}})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"config.repository", "credentials.password"} <= fields


def _repo(location: str, **secrets) -> Repository:
    return Repository(ConnectionInfo(name="r", type="backup-repository", config={"repository": location},
                                     secrets={"password": PASSWORD, **secrets}))


def test_a_source_that_fails_midway_leaves_no_snapshot(tmp_path):
    with _repo(str(tmp_path / "repo")) as repo:
        repo.init()

        def half(out):
            out.write(b"x" * 100_000)
            raise OSError("the volume went away")

        with pytest.raises(OSError):
            repo.backup_stream(half, "half.tar", ["volume:half"])
        assert repo.snapshots() == []
        summary = repo.backup_stream(lambda out: out.write(b"whole"), "whole.tar", ["volume:whole"])
        assert [s["id"] for s in repo.snapshots("volume:whole")] == [summary["snapshot_id"]]
        got = io.BytesIO()
        repo.dump(summary["snapshot_id"], "whole.tar", lambda src: got.write(src.read()))
        assert got.getvalue() == b"whole"


def test_a_wrong_password_fails_the_backup_with_restics_reason(tmp_path):
    with _repo(str(tmp_path / "repo")) as repo:
        repo.init()
    wrong = Repository(ConnectionInfo(name="r", type="backup-repository", config={"repository": str(tmp_path / "repo")},
                                      secrets={"password": "not-it"}))
    with wrong, pytest.raises(ResticError, match="wrong password"):
        wrong.backup_stream(lambda out: out.write(b"data" * 1000), "d.tar", ["volume:d"])


def test_sftp_repository_on_a_real_sshd_with_a_pinned_host_key(tmp_path):
    with running_sshd() as server:
        location = f"sftp://{server.user}@{server.host}:{server.port}/{tmp_path}/sftp-repo"
        conn = ConnectionInfo(name="r", type="backup-repository",
                              config={"repository": location, "known_hosts": server.known_hosts_line},
                              secrets={"password": PASSWORD, "ssh_private_key": server.private_key})
        with Repository(conn) as repo:
            assert repo.exists() is False
            repo.init()
            assert repo.exists() is True
            summary = repo.backup_stream(lambda out: out.write(b"over ssh"), "s.tar", ["volume:s"])
            assert repo.snapshot(summary["snapshot_id"]) is not None
        assert (tmp_path / "sftp-repo" / "config").is_file()
        stranger = ConnectionInfo(name="r", type="backup-repository",
                                  config={"repository": location,
                                          "known_hosts": f"[{server.host}]:{server.port} ssh-ed25519 "
                                                         "AAAAC3NzaC1lZDI1NTE5AAAAIBm1m0b0J9hj3BW9XHPnW0rdtaSnN4U4pcE2pUrP3cLm"},
                                  secrets={"password": PASSWORD, "ssh_private_key": server.private_key})
        with Repository(stranger) as repo, pytest.raises(ResticError):
            repo.exists()                     # another host key is refused
