"""Fetching a source's branch into its mirror, over real transports, and the errors users see."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pygit2
import pytest

from controller.gitops.git import Credentials, GitError, Mirror
from tests.support.gitserver import GitHttpServer, commit, delete_branch

from .conftest import TOKEN


def test_fetch_over_http_returns_branch_head(tmp_path, served, http_server):
    head = commit(served / "app", {"apps/web/orch.yaml": "name: web\n"}, "add web", ("Ada", "ada@example.com"))
    mirror = Mirror(tmp_path / "mirror")

    revision = mirror.fetch(http_server.url_for("app"), "main")

    assert revision.sha == head
    assert revision.author == "Ada <ada@example.com>"
    assert revision.message == "add web"
    assert isinstance(revision.committed_at, datetime) and revision.committed_at.tzinfo is not None
    assert any(path.startswith("/app/") for _method, path in http_server.requests)
    assert mirror.read_manifests(head, ["**/orch.yaml"]).keys() == {"orch.yaml", "apps/web/orch.yaml"}


def test_second_fetch_picks_up_new_commit(tmp_path, served, http_server):
    mirror = Mirror(tmp_path / "mirror")
    first = mirror.fetch(http_server.url_for("app"), "main")
    second_sha = commit(served / "app", {"orch.yaml": "name: app2\n"}, "second")

    second = mirror.fetch(http_server.url_for("app"), "main")

    assert second.sha == second_sha != first.sha
    assert Mirror(tmp_path / "mirror").head("main").sha == second_sha  # survives reopening


@pytest.mark.parametrize("form", ["path", "file_url"])
def test_fetch_local_repository(tmp_path, served, form):
    url = str(served / "app") if form == "path" else (served / "app").as_uri()
    head = str(pygit2.Repository(str(served / "app")).head.target)

    assert Mirror(tmp_path / "mirror").fetch(url, "main").sha == head


def test_fetch_a_local_repository_owned_by_another_user(tmp_path, served):
    """A checkout mounted read-only into Jarvis's container belongs to another uid than Jarvis's."""
    repo = served / "app"
    head = str(pygit2.Repository(str(repo)).head.target)
    for path in [repo, *repo.rglob("*")]:
        os.chown(path, 54321, 54321, follow_symlinks=False)

    assert Mirror(tmp_path / "mirror").fetch(str(repo), "main").sha == head


def test_token_protected_server_accepts_good_token(tmp_path, served, token_server):
    revision = Mirror(tmp_path / "mirror").fetch(token_server.url_for("app"), "main", Credentials(token=TOKEN))
    assert revision.sha == str(pygit2.Repository(str(served / "app")).head.target)


def test_bad_token_says_authentication_without_leaking_it(tmp_path, token_server):
    bad = "ghp_WRONGtoken_999"
    with pytest.raises(GitError) as err:
        Mirror(tmp_path / "mirror").fetch(token_server.url_for("app"), "main", Credentials(token=bad))
    message = str(err.value)
    assert "authentication failed" in message
    assert bad not in message and TOKEN not in message
    assert bad not in repr(Credentials(token=bad))


def test_missing_token_says_authentication(tmp_path, token_server):
    with pytest.raises(GitError, match="authentication failed"):
        Mirror(tmp_path / "mirror").fetch(token_server.url_for("app"), "main")


def test_token_in_url_is_never_shown(tmp_path, token_server):
    url = token_server.url_for("app").replace("http://", f"http://x-access-token:{TOKEN}x@")
    with pytest.raises(GitError) as err:
        Mirror(tmp_path / "mirror").fetch(url, "main")
    assert TOKEN not in str(err.value)


def test_force_push_moves_head(tmp_path, served, http_server):
    mirror = Mirror(tmp_path / "mirror")
    before = commit(served / "app", {"orch.yaml": "name: v2\n"}, "v2")
    mirror.fetch(http_server.url_for("app"), "main")
    # rewrite history: a new commit on the first commit's parent-less base, as `push --force` does
    rewritten = commit(served / "app", {"orch.yaml": "name: rewritten\n"}, "rewritten", parents=[])

    after = mirror.fetch(http_server.url_for("app"), "main")

    assert after.sha == rewritten
    assert not mirror.is_ancestor(before, rewritten)
    assert mirror.read_manifests(after.sha, ["orch.yaml"]) == {"orch.yaml": b"name: rewritten\n"}


def test_deleted_branch_is_a_clear_error(tmp_path, served, http_server):
    commit(served / "app", {"x": "1"}, "feature work", branch="feature")
    mirror = Mirror(tmp_path / "mirror")
    mirror.fetch(http_server.url_for("app"), "feature")
    delete_branch(served / "app", "feature")

    with pytest.raises(GitError, match="branch 'feature' not found"):
        mirror.fetch(http_server.url_for("app"), "feature")


def test_branch_never_pushed_is_a_clear_error(tmp_path, http_server):
    with pytest.raises(GitError, match="branch 'nope' not found"):
        Mirror(tmp_path / "mirror").fetch(http_server.url_for("app"), "nope")


def test_unreachable_url_is_a_clear_error(tmp_path, served):
    server = GitHttpServer(served).start()
    url = server.url_for("app")
    server.stop()  # the port is now closed
    with pytest.raises(GitError, match="unreachable"):
        Mirror(tmp_path / "mirror").fetch(url, "main")


def test_unknown_repository_on_server(tmp_path, http_server):
    with pytest.raises(GitError, match="repository not found"):
        Mirror(tmp_path / "mirror").fetch(http_server.url_for("missing"), "main")


def test_local_folder_that_is_not_a_repository(tmp_path: Path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        Mirror(tmp_path / "mirror").fetch(str(tmp_path / "plain"), "main")
    with pytest.raises(GitError, match="not a git repository"):
        Mirror(tmp_path / "mirror").fetch(str(tmp_path / "absent"), "main")
