"""The live log: stored then live events, reconnect without gaps or repeats, slow watchers resume."""

from __future__ import annotations

from sqlalchemy import select

from controller.store.models import JobEvent
from tests.jobs.conftest import wait_job


def _collect(ws, stop_after: int | None = None):
    events, other = [], []
    while True:
        msg = ws.receive_json()
        if msg["type"] == "events":
            events += [e["counter"] for e in msg["events"]]
            if stop_after and len(events) >= stop_after:
                return events, other, None
        elif msg["type"] in ("end", "resume"):
            return events, other, msg
        else:
            other.append(msg)


def _stored(rt, job_id):
    with rt.db.session() as s:
        return list(s.scalars(select(JobEvent.counter).where(JobEvent.job_id == job_id).order_by(JobEvent.counter)))


def test_reconnect_mid_stream_misses_nothing_and_repeats_nothing(jobs_client, jobs_rt, viewer, operator):
    r = jobs_client.post("/api/runbooks/test-many/execute", headers=operator.headers,
                         json={"input": {"n": 60, "pause": 0.02}})
    job_id = r.json()["id"]
    with jobs_client.websocket_connect(f"/ws/jobs/{job_id}", headers=viewer.headers) as ws:
        first, _, _ = _collect(ws, stop_after=15)
    # dropped; come back with the last counter seen
    with jobs_client.websocket_connect(f"/ws/jobs/{job_id}?after={first[-1]}", headers=viewer.headers) as ws:
        rest, other, end = _collect(ws)
    assert end["type"] == "end" and end["status"] == "success"
    got = first + rest
    assert got == _stored(jobs_rt, job_id)
    assert got == list(range(1, len(got) + 1)) and end["last_counter"] == got[-1]
    assert any(m["type"] == "step" for m in other)


def test_finished_job_replays_then_ends(jobs_client, jobs_rt, viewer, operator):
    r = jobs_client.post("/api/runbooks/test-many/execute", headers=operator.headers, json={"input": {"n": 5}})
    wait_job(jobs_rt, r.json()["id"])
    with jobs_client.websocket_connect(f"/ws/jobs/{r.json()['id']}?after=3", headers=viewer.headers) as ws:
        events, _, end = _collect(ws)
    assert events[0] == 4 and end["type"] == "end" and events[-1] == end["last_counter"]


def test_slow_watcher_is_told_to_resume_and_loses_nothing(jobs_client, jobs_rt, viewer, operator, monkeypatch):
    import api.ws
    from controller.jobs.service import JobsService

    monkeypatch.setattr(api.ws, "BUFFER", 2)   # a tiny buffer, so a burst on the bus overflows it
    r = jobs_client.post("/api/runbooks/test-many/execute", headers=operator.headers,
                         json={"input": {"n": 200, "pause": 0.01}})
    job_id = r.json()["id"]
    bus = JobsService.of(jobs_rt).bus
    got, resumes, after = [], 0, 0
    while True:
        with jobs_client.websocket_connect(f"/ws/jobs/{job_id}?after={after}", headers=operator.headers) as ws:
            first = []
            if resumes == 0:
                first, _, _ = _collect(ws, stop_after=1)   # the server has subscribed by now
                # a burst of messages the watcher cannot take in time: it must be told to resume
                bus.publish(job_id, [{"type": "status", "status": "running"}] * 10)
            events, _, last = _collect(ws)
        got += first + events
        if last["type"] == "end":
            break
        resumes += 1
        assert last["after"] == (got[-1] if got else after)
        after = last["after"]
        assert resumes < 50
    assert resumes >= 1
    assert got == _stored(jobs_rt, job_id)


def test_websocket_needs_a_login(jobs_client, jobs_rt, viewer, operator):
    r = jobs_client.post("/api/runbooks/test-many/execute", headers=operator.headers, json={"input": {"n": 1}})
    with jobs_client.websocket_connect(f"/ws/jobs/{r.json()['id']}") as ws:
        assert ws.receive_json()["type"] == "error"
    with jobs_client.websocket_connect("/ws/jobs/99999999", headers=viewer.headers) as ws:
        assert "not found" in ws.receive_json()["detail"]


def test_live_log_over_the_redis_bus(pg_url, tmp_path, redis_server, operator):
    """The full stack's path: Redis stream queue, Redis pub/sub bus, reconnect without gap or repeat."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from controller.runtime import Runtime
    from tests.jobs.conftest import jobs_settings

    rt = Runtime.start(jobs_settings(tmp_path, pg_url, redis_url=redis_server.url), first_admin=False)
    try:
        with TestClient(create_app(rt)) as client:
            r = client.post("/api/runbooks/test-many/execute", headers=operator.headers,
                            json={"input": {"n": 40, "pause": 0.02}})
            job_id = r.json()["id"]
            with client.websocket_connect(f"/ws/jobs/{job_id}", headers=operator.headers) as ws:
                first, _, _ = _collect(ws, stop_after=10)
            with client.websocket_connect(f"/ws/jobs/{job_id}?after={first[-1]}", headers=operator.headers) as ws:
                rest, _, end = _collect(ws)
            assert end["status"] == "success"
            assert first + rest == _stored(rt, job_id)
    finally:
        rt.close()
