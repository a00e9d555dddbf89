"""Paths a manifest names (compose files, configs) are read from its own folder, may climb to another
folder of the same repository, and never leave it."""

from __future__ import annotations

import pytest

from controller.gitops.repo import RepoFiles

TREE = {"deploy/stack.yml": b"services: {}\n", "examples/jarvis-self/orch.yaml": b"name: jarvis\n",
        "examples/jarvis-self/extra.yml": b"x\n"}


def _reader(path: str) -> bytes:
    if path not in TREE:
        raise FileNotFoundError(path)
    return TREE[path]


@pytest.mark.parametrize("name", ["../../deploy/stack.yml", "/deploy/stack.yml", "./../../deploy/stack.yml",
                                  "../jarvis-self/../../deploy/stack.yml"])
def test_a_manifest_reads_a_file_from_another_folder_of_its_repository(name):
    files = RepoFiles(_reader).under("examples/jarvis-self")
    assert files[name] == TREE["deploy/stack.yml"]
    assert files.read == {"deploy/stack.yml"}     # a push touching deploy/stack.yml resyncs the manifest


def test_its_own_folder_is_where_a_plain_name_is_read():
    files = RepoFiles(_reader).under("examples/jarvis-self")
    assert files["extra.yml"] == b"x\n" and files["./extra.yml"] == b"x\n"
    assert "stack.yml" not in files


@pytest.mark.parametrize("name", ["../../../etc/passwd", "/../etc/passwd", "../../.."])
def test_nothing_outside_the_repository_is_read(name):
    asked: list[str] = []
    files = RepoFiles(lambda p: asked.append(p) or b"").under("examples/jarvis-self")
    assert name not in files
    with pytest.raises(KeyError, match="outside the repository"):
        files[name]
    assert asked == []
