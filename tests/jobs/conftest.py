"""A runtime whose catalog includes the test runbooks, with a fast lease and sweeper."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.runtime import Runtime
from tests.conftest import make_settings
from tests.support.jobs import wait_job  # noqa: F401  (re-exported for the tests here)
from tests.support.redis_server import RedisServer

RUNBOOKS = Path(__file__).parent / "runbooks"


def jobs_settings(tmp, url, **over):
    base = dict(runbook_paths=[RUNBOOKS], job_lease_seconds=3, sweep_interval_seconds=0.5, run_worker=True,
                worker_concurrency=2)
    return make_settings(tmp, url, **{**base, **over})


@pytest.fixture
def jobs_rt(pg_url, tmp_path):
    rt = Runtime.start(jobs_settings(tmp_path, pg_url), first_admin=False)
    yield rt
    rt.close()


@pytest.fixture
def jobs_client(jobs_rt):
    from api.app import create_app

    with TestClient(create_app(jobs_rt)) as c:   # the lifespan starts the in-process worker and sweeper
        yield c


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()
