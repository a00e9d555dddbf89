"""Reading a fetched commit: manifests by glob, referenced files, what changed between commits."""

from __future__ import annotations

import pytest

from controller.gitops.git import GitError, Mirror
from controller.gitops.globs import matches
from tests.support.gitserver import commit, make_repo

FILES = {
    "orch.yaml": "root\n",
    "apps/web/orch.yaml": "web\n",
    "apps/web/compose.yml": "services: {}\n",
    "apps/api/orch.yaml": "api\n",
    "apps/api/deep/orch.yaml": "deep\n",
    "infra/dns/orch.yaml": "dns\n",
    "docs/orch.yaml.md": "not a manifest\n",
}


@pytest.fixture
def repo(tmp_path):
    source = make_repo(tmp_path / "src")
    first = commit(source, FILES, "layout")
    mirror = Mirror(tmp_path / "mirror")
    mirror.fetch(str(source), "main")
    return source, mirror, first


@pytest.mark.parametrize(
    ("globs", "expected"),
    [
        (["**/orch.yaml"], {"orch.yaml", "apps/web/orch.yaml", "apps/api/orch.yaml",
                            "apps/api/deep/orch.yaml", "infra/dns/orch.yaml"}),
        (["apps/*/orch.yaml"], {"apps/web/orch.yaml", "apps/api/orch.yaml"}),
        (["orch.yaml"], {"orch.yaml"}),
        (["infra/dns/orch.yaml", "apps/web/*.yml"], {"infra/dns/orch.yaml", "apps/web/compose.yml"}),
        (["apps/**"], {"apps/web/orch.yaml", "apps/web/compose.yml", "apps/api/orch.yaml", "apps/api/deep/orch.yaml"}),
        (["nothing/*.yaml"], set()),
    ],
)
def test_read_manifests_by_glob(repo, globs, expected):
    _source, mirror, sha = repo
    found = mirror.read_manifests(sha, globs)
    assert set(found) == expected
    for path in found:
        assert found[path] == FILES[path].encode()


def test_glob_edge_cases():
    assert matches("./apps/web/orch.yaml", ["apps/*/orch.yaml"])
    assert not matches("apps/web/x/orch.yaml", ["apps/*/orch.yaml"])
    assert matches("a/b/c/orch.yaml", ["a/**/orch.yaml"]) and matches("a/orch.yaml", ["a/**/orch.yaml"])
    assert matches("orch.yml", ["orch.y?ml", "orch.[y]ml"])


def test_bad_glob_is_a_clear_error(repo):
    _source, mirror, sha = repo
    with pytest.raises(GitError, match="must not contain '..'"):
        mirror.read_manifests(sha, ["../orch.yaml"])


def test_read_file_and_missing_file(repo):
    _source, mirror, sha = repo
    assert mirror.read_file(sha, "apps/web/compose.yml") == b"services: {}\n"
    assert mirror.read_file(sha, "./apps//web/compose.yml") == b"services: {}\n"
    with pytest.raises(GitError, match="'apps/web/missing.yml' does not exist in commit"):
        mirror.read_file(sha, "apps/web/missing.yml")
    with pytest.raises(GitError, match="is a directory"):
        mirror.read_file(sha, "apps/web")
    with pytest.raises(GitError, match="stay inside"):
        mirror.read_file(sha, "../etc/passwd")


def test_unknown_commit_is_a_clear_error(repo):
    _source, mirror, _sha = repo
    with pytest.raises(GitError, match="not in the mirror"):
        mirror.read_manifests("0123456789abcdef0123456789abcdef01234567", ["**/orch.yaml"])


def test_changed_paths_and_ancestry(repo):
    source, mirror, first = repo
    commit(source, {"apps/web/compose.yml": "services: {web: {}}\n", "apps/api/orch.yaml": None,
                    "new/orch.yaml": "new\n"}, "edit")
    second = mirror.fetch(str(source), "main").sha

    assert mirror.changed_paths(first, second) == {"apps/web/compose.yml", "apps/api/orch.yaml", "new/orch.yaml"}
    assert mirror.changed_paths(second, second) == set()
    assert mirror.is_ancestor(first, second)
    assert not mirror.is_ancestor(second, first)
    assert not mirror.is_ancestor("0123456789abcdef0123456789abcdef01234567", second)
    assert "apps/api/orch.yaml" not in mirror.read_manifests(second, ["**/orch.yaml"])
