"""Runbooks through the API to real ansible-runner: success, failure, timeout, cancel, rerun,
secrets masked everywhere, concurrency keys, artifacts."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from controller import connections
from controller.accounts import users
from controller.runtime import Runtime
from controller.store.models import Job, JobEvent, JobStep
from tests.conftest import make_settings
from tests.jobs.conftest import wait_job
from tests.support.tokens import bearer_token

SECRET = "s3cr3t-VALUE-that-must-never-leak-42"


def test_catalog_lists_builtin_and_test_runbooks(jobs_client, viewer):
    r = jobs_client.get("/api/runbooks", headers=viewer.headers)
    names = {rb["name"] for rb in r.json()}
    assert {"gather-facts", "backup-postgres", "restore-postgres", "test-echo"} <= names
    only = jobs_client.get("/api/runbooks", params={"category": "backup"}, headers=viewer.headers).json()
    assert only and all(rb["category"] == "backup" for rb in only)
    one = jobs_client.get("/api/runbooks/test-echo", headers=viewer.headers).json()
    assert one["input_schema"]["required"] == ["message"]
    assert jobs_client.get("/api/runbooks/nope", headers=viewer.headers).status_code == 404


def test_bad_input_is_422_with_paths_and_unknown_runbook_404(jobs_client, operator):
    r = jobs_client.post("/api/runbooks/test-echo/execute", headers=operator.headers, json={"input": {"count": "x"}})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"input.message", "input.count"} <= fields
    assert jobs_client.post("/api/runbooks/nope/execute", headers=operator.headers,
                            json={"input": {}}).status_code == 404


def test_viewer_cannot_execute(jobs_client, viewer):
    r = jobs_client.post("/api/runbooks/test-many/execute", headers=viewer.headers, json={"input": {}})
    assert r.status_code == 403


def test_run_to_success_with_masked_secret_and_artifact(jobs_client, jobs_rt, operator):
    r = jobs_client.post("/api/runbooks/test-echo/execute", headers=operator.headers,
                         json={"input": {"message": "hello", "count": 2, "secret": SECRET}})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["url"] == f"/api/jobs/{body['id']}"
    job = wait_job(jobs_rt, body["id"])
    assert job.status == "success", job.reason
    detail = jobs_client.get(body["url"], headers=operator.headers).json()
    assert detail["output"]["echoed"] == "hello"
    assert detail["input"] == {"message": "hello", "count": 2}     # the secret is not in the public input
    assert detail["steps"][0]["status"] == "success"
    events = jobs_client.get(f"/api/jobs/{job.id}/events", headers=operator.headers).json()
    assert events["done"] is True
    counters = [e["counter"] for e in events["events"]]
    assert counters == list(range(1, len(counters) + 1))
    text = " ".join(e["stdout"] for e in events["events"])
    assert "hello #1" in text and "hello #2" in text and "********" in text
    # the secret appears nowhere: events, steps, output, artifacts, the raw API answers
    with jobs_rt.db.session() as s:
        rows = s.scalars(select(JobEvent).where(JobEvent.job_id == job.id)).all()
        assert all(SECRET not in (e.stdout + str(e.data)) for e in rows)
        steps = s.scalars(select(JobStep).where(JobStep.job_id == job.id)).all()
        assert all(SECRET not in (st.logs + str(st.result)) for st in steps)
        assert SECRET not in str(s.get(Job, job.id).output_json)
    art = detail["artifacts"][0]
    content = jobs_client.get(art["url"], headers=operator.headers)
    assert content.status_code == 200 and b"message=hello" in content.content and SECRET.encode() not in content.content
    assert SECRET not in jobs_client.get(body["url"], headers=operator.headers).text


def test_failing_task_is_named(jobs_client, jobs_rt, operator):
    r = jobs_client.post("/api/runbooks/test-fail/execute", headers=operator.headers, json={"input": {}})
    job = wait_job(jobs_rt, r.json()["id"])
    assert job.status == "error"
    assert "broken step" in job.reason and "localhost" in job.reason
    step = jobs_client.get(f"/api/jobs/{job.id}", headers=operator.headers).json()["steps"][0]
    assert step["failures"][0]["task"] == "broken step"


def test_hanging_playbook_times_out(jobs_client, jobs_rt, operator):
    r = jobs_client.post("/api/runbooks/test-timeout/execute", headers=operator.headers, json={"input": {}})
    assert wait_job(jobs_rt, r.json()["id"]).status == "timeout"


def test_cancel_running_and_rerun(jobs_client, jobs_rt, operator, tmp_path):
    marker = tmp_path / "m.txt"
    r = jobs_client.post("/api/runbooks/test-sleep/execute", headers=operator.headers,
                         json={"input": {"marker": str(marker), "seconds": 60}})
    job_id = r.json()["id"]
    wait_job(jobs_rt, job_id, statuses=("running",))
    deadline = time.time() + 30
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.2)
    c = jobs_client.post(f"/api/jobs/{job_id}/cancel", headers=operator.headers)
    assert c.status_code == 202 and c.json()["status"] == "canceling"
    assert wait_job(jobs_rt, job_id, timeout=30).status == "canceled"
    again = jobs_client.post(f"/api/jobs/{job_id}/rerun", headers=operator.headers)
    assert again.status_code == 202
    new = jobs_client.get(f"/api/jobs/{again.json()['id']}", headers=operator.headers).json()
    assert new["rerun_of"] == job_id and new["input"]["marker"] == str(marker)
    jobs_client.post(f"/api/jobs/{new['id']}/cancel", headers=operator.headers)
    wait_job(jobs_rt, new["id"], timeout=30)


def test_cancel_pending_job_at_once(jobs_rt, operator, jobs_client, tmp_path):
    # fill both worker slots with one concurrency key so the third waits pending
    ids = []
    for _ in range(3):
        r = jobs_client.post("/api/runbooks/test-sleep/execute", headers=operator.headers,
                             json={"input": {"marker": str(tmp_path / "p.txt"), "seconds": 2, "key": "same"}})
        ids.append(r.json()["id"])
    with jobs_rt.db.session() as s:
        waiting = [j for j in ids if s.get(Job, j).status == "pending"]
    assert waiting
    r = jobs_client.post(f"/api/jobs/{waiting[-1]}/cancel", headers=operator.headers)
    assert r.json()["status"] in ("canceled", "canceling")
    for j in ids:
        wait_job(jobs_rt, j)


def test_same_concurrency_key_never_overlaps(jobs_client, jobs_rt, operator, tmp_path):
    marker = tmp_path / "key.txt"
    ids = [jobs_client.post("/api/runbooks/test-sleep/execute", headers=operator.headers,
                            json={"input": {"marker": str(marker), "seconds": 1, "key": "db1", "tag": f"j{i}"}}).json()["id"]
           for i in range(3)]
    for j in ids:
        assert wait_job(jobs_rt, j).status == "success"
    lines = [ln.split() for ln in marker.read_text().splitlines()]
    # each start is followed by its own end: never two running at once
    for (a, b) in zip(lines[::2], lines[1::2], strict=True):
        assert a[0] == "start" and b[0] == "end" and a[1] == b[1]
    assert len(lines) == 6


def test_jobs_list_filters(jobs_client, jobs_rt, operator):
    r = jobs_client.post("/api/runbooks/test-echo/execute", headers=operator.headers,
                         json={"input": {"message": "list-me"}})
    wait_job(jobs_rt, r.json()["id"])
    page = jobs_client.get("/api/jobs", params={"runbook": "test-echo", "status": "success", "limit": 5},
                           headers=operator.headers).json()
    assert page["items"] and all(i["runbook"] == "test-echo" and i["status"] == "success" for i in page["items"])
    ids = [i["id"] for i in page["items"]]
    assert ids == sorted(ids, reverse=True)


def test_a_runbook_without_its_connection_says_what_is_missing_and_how_to_fix_it(tmp_path):
    """On a fresh install (SQLite, nothing configured) a Swarm runbook run with no connection names the
    type it needs and where to add one; once one exists, it names the choices."""
    rt = Runtime.start(make_settings(tmp_path, f"sqlite:///{tmp_path}/j.db"), first_admin=False)
    try:
        with rt.db.session() as db:
            uid = users.create(db, "op@example.test", "operator-password-1", "operator").id
        token = bearer_token(rt, uid, "operator")
        h = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(rt, background=False)) as c:
            r = c.post("/api/runbooks/swarm-restart/execute", headers=h, json={"input": {"service": "web"}})
            assert r.status_code == 422
            assert r.json()["detail"] == ("swarm-restart needs a docker connection and there is none yet: an admin "
                                          "adds one in Settings → Connections (or POST /api/connections)")
            assert r.json()["errors"] == [{"field": "input.connection", "message": "add a docker connection first"}]
            with rt.db.session() as db:
                connections.create(db, rt.secrets, name="local", type="docker", environment="",
                                   config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="t")
            r = c.post("/api/runbooks/swarm-restart/execute", headers=h, json={"input": {"service": "web"}})
            assert r.json()["detail"] == "swarm-restart needs a docker connection: set input.connection to local"
            r = c.post("/api/runbooks/swarm-restart/execute", headers=h,
                       json={"input": {"service": "web", "connection": "typo"}})
            assert r.json()["detail"] == "connection 'typo' does not exist: set input.connection to local"
    finally:
        rt.close()
