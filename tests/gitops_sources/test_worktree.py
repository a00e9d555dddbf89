"""The working-tree source (the embedded `examples/` folder) and its directory watcher."""

from __future__ import annotations

import threading
import time

import pytest

from controller.gitops.git import GitError, WorktreeSource
from controller.gitops.watch import DirectoryWatcher, _counts


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "examples"
    (root / "n8n").mkdir(parents=True)
    (root / "n8n" / "orch.yaml").write_text("name: n8n\n")
    (root / "n8n" / "stack.yml").write_text("services: {}\n")
    (root / "README.md").write_text("examples\n")
    return root


def test_snapshot_reads_manifests_and_names_revision(tree):
    revision, files = WorktreeSource(tree).snapshot(["**/orch.yaml"])
    assert files == {"n8n/orch.yaml": b"name: n8n\n"}
    assert revision.sha.startswith("wt-") and len(revision.sha) == 3 + 16
    assert (revision.author, revision.message) == ("local", "working tree")
    assert revision.committed_at.tzinfo is not None
    # same content, same revision
    assert WorktreeSource(tree).snapshot(["**/orch.yaml"])[0].sha == revision.sha


def test_revision_changes_when_manifest_or_referenced_file_changes(tree):
    source = WorktreeSource(tree)
    first = source.snapshot(["**/orch.yaml"])[0].sha
    (tree / "n8n" / "orch.yaml").write_text("name: n8n\nenvironment: prod\n")
    second = source.snapshot(["**/orch.yaml"])[0].sha
    (tree / "n8n" / "stack.yml").write_text("services: {web: {}}\n")
    third = source.snapshot(["**/orch.yaml"])[0].sha
    (tree / "n8n" / ".orch.yaml.swp").write_text("editor noise")
    assert len({first, second, third}) == 3
    assert source.snapshot(["**/orch.yaml"])[0].sha == third


def test_read_file_refuses_escaping_paths(tree, tmp_path):
    (tmp_path / "secret.txt").write_text("s3cret")
    (tree / "link").symlink_to(tmp_path / "secret.txt")
    source = WorktreeSource(tree)
    assert source.read_file("n8n/stack.yml") == b"services: {}\n"
    for bad in ("../secret.txt", "n8n/../../secret.txt", str(tmp_path / "secret.txt"), "link"):
        with pytest.raises(GitError, match="leaves the working-tree source"):
            source.read_file(bad)
    with pytest.raises(GitError, match="does not exist"):
        source.read_file("n8n/missing.yml")


def test_snapshot_of_missing_directory_is_clear(tmp_path):
    with pytest.raises(GitError, match="not a directory"):
        WorktreeSource(tmp_path / "nope").snapshot(["**/orch.yaml"])


def _wait_for(event: threading.Event, path, content: str, deadline_s: float = 20.0) -> bool:
    """Write until the watcher reports, so a write racing the watch setup is retried."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        path.write_text(content)
        if event.wait(2.0):
            return True
    return False


def test_watcher_fires_after_edits_and_stops(tree):
    fired = threading.Event()
    watcher = DirectoryWatcher(tree, ["**/orch.yaml"], fired.set, debounce_ms=100).start()
    try:
        assert watcher.wait_ready()
        assert _wait_for(fired, tree / "n8n" / "orch.yaml", "name: n8n\nreplicas: 2\n")
        fired.clear()
        # a referenced compose file counts too
        assert _wait_for(fired, tree / "n8n" / "stack.yml", "services: {api: {}}\n")
        fired.clear()
        (tree / "n8n" / "orch.yaml").unlink()
        assert fired.wait(20.0)
    finally:
        watcher.stop()
    assert watcher._thread is None


def test_watcher_ignores_hidden_files_and_survives_failing_handler(tree):
    calls: list[int] = []
    fired = threading.Event()

    def handler() -> None:
        calls.append(1)
        fired.set()
        raise RuntimeError("reconcile failed")

    with DirectoryWatcher(tree, ["**/orch.yaml"], handler, debounce_ms=100) as watcher:
        assert watcher.wait_ready()
        (tree / ".hidden").mkdir()
        (tree / ".hidden" / "orch.yaml").write_text("ignored\n")
        assert _wait_for(fired, tree / "new.yml", "a: 1\n")
        fired.clear()
        assert _wait_for(fired, tree / "new.yml", "a: 2\n")  # still watching after the error
    assert len(calls) >= 2
    # the rule the watcher filters by: hidden paths and editor backups are not part of the source
    root = tree.resolve()
    assert not _counts(root, str(root / ".hidden" / "orch.yaml"))
    assert not _counts(root, str(root / "n8n" / "orch.yaml~"))
    assert _counts(root, str(root / "n8n" / "orch.yaml"))
