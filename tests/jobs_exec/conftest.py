"""Fixtures for job execution tests: a private data dir per test, a real sshd, a throwaway database."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import psycopg
import pytest

# `tests.support` lives beside the packages, not inside them; make it importable however pytest
# was started.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.support.sshd import SSHServer, running_sshd  # noqa: E402

PLAYBOOKS = Path(__file__).parent / "playbooks"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    return tmp_path / "job"


@pytest.fixture(scope="session")
def sshd_server() -> SSHServer:
    with running_sshd() as server:
        yield server


@pytest.fixture
def pg_database() -> str:
    name = f"jarvis_jobs_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
