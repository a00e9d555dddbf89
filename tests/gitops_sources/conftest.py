"""Fixtures for git-source tests: real repositories served by git's own http-backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `tests.support` lives beside the packages, not inside them; make it importable however pytest
# was started.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.gitserver import GitHttpServer, commit, make_repo  # noqa: E402

TOKEN = "ghp_testTOKEN0123456789abcdef"


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """Folder of repositories the HTTP server serves; holds `app` with one commit on main."""
    root = tmp_path / "served"
    make_repo(root / "app")
    commit(root / "app", {"orch.yaml": "name: app\n", "README.md": "hello\n"}, "first")
    return root


@pytest.fixture
def http_server(served: Path):
    with GitHttpServer(served) as server:
        yield server


@pytest.fixture
def token_server(served: Path):
    with GitHttpServer(served, token=TOKEN) as server:
        yield server
