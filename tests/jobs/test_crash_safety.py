"""A worker killed with SIGKILL mid-job, and Redis restarted with jobs queued: no job lost, none run twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from controller.jobs.service import JobsService
from controller.runtime import Runtime
from tests.jobs.conftest import RUNBOOKS, jobs_settings, wait_job


@pytest.fixture
def redis_rt(pg_url, tmp_path, redis_server):
    rt = Runtime.start(jobs_settings(tmp_path, pg_url, redis_url=redis_server.url, run_worker=False),
                       first_admin=False)
    yield rt
    rt.close()


class WorkerProcess:
    def __init__(self, rt: Runtime, concurrency: int = 1) -> None:
        s = rt.settings
        env = {**os.environ, "JARVIS_DATABASE_URL": s.database_url, "JARVIS_REDIS_URL": s.redis_url,
               "JARVIS_DATA_DIR": str(s.data_dir), "JARVIS_SECRET_KEY": s.secret_key,
               "JARVIS_RUNBOOK_PATHS": json.dumps([str(RUNBOOKS)]), "JARVIS_JOB_LEASE_SECONDS": "3",
               "JARVIS_SWEEP_INTERVAL_SECONDS": "0.5", "JARVIS_LOG_JSON": "false"}
        # its own session: SIGKILL to the group takes ansible with it, like a container dying
        self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--concurrency",
                                      str(concurrency)], env=env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def submit(rt, name, **inp):
    svc = JobsService.of(rt)
    with rt.db.session() as db:
        return svc.run_runbook(db, name, inp, user_email="t@example.test", user_role="admin").id


def wait_file(path, text, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {path}")


def test_sigkill_mid_job_loses_nothing_and_runs_nothing_twice(redis_rt, tmp_path):
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    w = WorkerProcess(redis_rt, concurrency=2)
    try:
        job_a = submit(redis_rt, "test-sleep", marker=str(a), seconds=60)
        job_c = submit(redis_rt, "test-retry", marker=str(c), seconds=60)
        wait_file(a, "start")
        wait_file(c, "start")
        job_b = submit(redis_rt, "test-sleep", marker=str(b), seconds=0.2)   # queued: both slots are busy
        w.kill()
    finally:
        w.stop()
    w2 = WorkerProcess(redis_rt, concurrency=2)
    try:
        # a: no retry policy -> error "interrupted"; c: retried once; b: queued behind, still runs once
        ja = wait_job(redis_rt, job_a, timeout=120)
        assert (ja.status, ja.reason) == ("error", "interrupted")
        assert wait_job(redis_rt, job_b, timeout=120).status == "success"
        jc = wait_job(redis_rt, job_c, timeout=120)
        assert jc.status == "success" and jc.attempt == 2
    finally:
        w2.stop()
    assert a.read_text().count("start") == 1 and "end" not in a.read_text()
    assert b.read_text().count("start") == 1
    assert c.read_text().splitlines() == ["start attempt=1", "start attempt=2", "end attempt=2"]


def test_redis_restart_with_jobs_queued(redis_rt, redis_server, tmp_path):
    markers = [tmp_path / f"r{i}.txt" for i in range(4)]
    ids = [submit(redis_rt, "test-sleep", marker=str(m), seconds=0) for m in markers]
    redis_server.restart()          # every stream entry is gone
    JobsService.of(redis_rt).queue._group_ready = False
    w = WorkerProcess(redis_rt, concurrency=2)
    try:
        for job_id in ids:
            assert wait_job(redis_rt, job_id, timeout=120).status == "success"
    finally:
        w.stop()
    assert all(m.read_text().count("start") == 1 for m in markers)
