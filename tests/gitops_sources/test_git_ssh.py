"""Fetching over ssh:// from a real OpenSSH server with a key pair held in memory (as stored
for a source), not on disk."""

from __future__ import annotations

import subprocess

import pytest

from controller.gitops.git import Credentials, GitError, Mirror
from tests.support.gitserver import SshGitServer, commit, make_repo


@pytest.fixture(params=["ed25519", "rsa"])
def ssh_server(tmp_path, request):
    with SshGitServer(tmp_path / "sshd", key_type=request.param) as server:
        yield server


def test_fetch_over_ssh_with_key_from_memory(tmp_path, ssh_server):
    repo = make_repo(tmp_path / "repos" / "app")
    head = commit(repo, {"orch.yaml": "name: app\n"}, "first")
    creds = Credentials(ssh_key=ssh_server.private_key, ssh_user=ssh_server.user)

    revision = Mirror(tmp_path / "mirror").fetch(ssh_server.url_for(repo), "main", creds)

    assert revision.sha == head


def test_ssh_url_without_user_takes_it_from_credentials(tmp_path, ssh_server):
    repo = make_repo(tmp_path / "repos" / "app")
    head = commit(repo, {"orch.yaml": "name: app\n"}, "first")
    creds = Credentials(ssh_key=ssh_server.private_key, ssh_user=ssh_server.user)
    no_user = ssh_server.url_for(repo).replace(f"{ssh_server.user}@", "")
    assert Mirror(tmp_path / "m1").fetch(no_user, "main", creds).sha == head


def test_ssh_with_wrong_key_says_authentication(tmp_path, ssh_server):
    repo = make_repo(tmp_path / "repos" / "app")
    commit(repo, {"orch.yaml": "name: app\n"}, "first")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "stranger")], check=True)
    stranger = (tmp_path / "stranger").read_text()

    with pytest.raises(GitError) as err:
        Mirror(tmp_path / "mirror").fetch(ssh_server.url_for(repo), "main", Credentials(ssh_key=stranger))
    assert "authentication failed" in str(err.value)
    assert "PRIVATE KEY" not in str(err.value)


def test_ssh_without_key_says_authentication(tmp_path, ssh_server):
    repo = make_repo(tmp_path / "repos" / "app")
    commit(repo, {"orch.yaml": "name: app\n"}, "first")
    with pytest.raises(GitError, match="authentication failed.*no SSH key"):
        Mirror(tmp_path / "mirror").fetch(ssh_server.url_for(repo), "main")


def test_unusable_key_and_missing_repository_are_clear(tmp_path, ssh_server):
    repo = make_repo(tmp_path / "repos" / "app")
    commit(repo, {"orch.yaml": "name: app\n"}, "first")
    with pytest.raises(GitError, match="SSH key of the source .* cannot be used"):
        Mirror(tmp_path / "mirror").fetch(ssh_server.url_for(repo), "main", Credentials(ssh_key="not a key"))
    good = Credentials(ssh_key=ssh_server.private_key)
    with pytest.raises(GitError, match="is not a git repository"):
        Mirror(tmp_path / "mirror").fetch(ssh_server.url_for(tmp_path / "nothere"), "main", good)
