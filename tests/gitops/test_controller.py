"""The controller: coalesced syncs, a watched folder, alerts, and leader failover between processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from controller import connections
from controller.gitops.service import Controller, request_sync
from controller.store.models import Lease, PlanRow, ReconcileRun, Source
from tests.gitops.conftest import World
from tests.support import pg
from tests.support.waiting import wait_for


@pytest.fixture
def controller(git_rt):
    ctl = Controller(git_rt).start()
    wait_for(lambda: ctl.lease.leading, what="leadership")
    yield ctl
    ctl.stop()


def _runs(rt, source_id):
    with rt.db.session() as s:
        return s.scalars(select(ReconcileRun).where(ReconcileRun.source_id == source_id)
                         .order_by(ReconcileRun.id)).all()


def test_bursts_coalesce_and_the_newest_revision_wins(git_rt, tmp_path, controller):
    w = World(git_rt, tmp_path)
    shas = []
    for i in range(30):
        shas.append(w.push({f"s{i}": {}}, message=f"push {i}"))
        request_sync(git_rt, w.source_id, "webhook")
    wait_for(lambda: (r := _runs(git_rt, w.source_id)) and r[-1].result != "running" and r[-1].revision == shas[-1]
             and _idle(git_rt, w.source_id), what="last revision applied")
    runs = _runs(git_rt, w.source_id)
    assert len(runs) < 30
    with git_rt.db.session() as s:
        assert s.get(Source, w.source_id).last_revision == shas[-1]
        pending = s.scalars(select(PlanRow).where(PlanRow.source_id == w.source_id, PlanRow.status == "pending")).all()
    assert [p.revision for p in pending] == [shas[-1]]


def _idle(rt, sid):
    with rt.db.session() as s:
        return s.get(Source, sid).sync_requested_at is None


def test_editing_a_watched_folder_reconciles(git_rt, tmp_path, controller):
    folder = tmp_path / "worktree"
    (folder / "app").mkdir(parents=True)
    w = World(git_rt, tmp_path)
    (folder / "app" / "orch.yaml").write_text(w.manifest({"web": {}}))
    with git_rt.db.session() as s:
        src = Source(name=f"wt-{tmp_path.name[-12:]}", url=str(folder), branch="", paths=["**/orch.yaml"],
                     poll_interval=3600)
        s.add(src)
        s.flush()
        sid = src.id
    request_sync(git_rt, sid, "test")
    wait_for(lambda: _plan_names(git_rt, sid) == {"stack/web"}, what="first plan")
    controller.refresh_schedule()   # picks up the new folder now rather than in 5 s (and polls it once)
    # the new poll job fires once at once: let its sync finish, and the watcher be ready, before editing
    wait_for(lambda: any(r.trigger == "poll" and r.result != "running" for r in _runs(git_rt, sid))
             and _idle(git_rt, sid) and sid not in controller.in_flight, what="the poll's sync to finish")
    assert controller.watchers[sid].wait_ready(10)
    before = len(_runs(git_rt, sid))
    (folder / "app" / "orch.yaml").write_text(w.manifest({"web": {}, "api": {}}))
    wait_for(lambda: _plan_names(git_rt, sid) == {"stack/web", "stack/api"}, timeout=30, what="plan after the edit")
    assert any(r.trigger == "watch" for r in _runs(git_rt, sid)[before:])


def _plan_names(rt, sid):
    with rt.db.session() as s:
        rows = s.scalars(select(PlanRow).where(PlanRow.source_id == sid, PlanRow.status == "pending")).all()
        return {c["resource"] for r in rows for c in r.changes}


def test_alert_after_three_failed_intervals(api_client, git_rt, viewer):
    import datetime as dt

    with git_rt.db.session() as s:
        src = Source(name="failing", url="http://127.0.0.1:9/x.git", poll_interval=10, status="error",
                     created_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=45))
        s.add(src)
        s.flush()
        sid = src.id
    one = api_client.get(f"/api/sources/{sid}", headers=viewer.headers).json()
    assert one["alert"] is True and one["alert_reason"]


@pytest.fixture
def api_client(git_rt):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(git_rt, background=False)) as c:
        yield c


def _controller_proc(url: str, tmp, lease: int):
    env = {**os.environ, "JARVIS_DATABASE_URL": url, "JARVIS_DATA_DIR": str(tmp), "JARVIS_EXAMPLES_SOURCE": "false",
           "JARVIS_LEADER_LEASE_SECONDS": str(lease), "JARVIS_SECRET_KEY": "k" * 40, "JARVIS_LOG_JSON": "false"}
    return subprocess.Popen([sys.executable, "-m", "api.cli", "controller"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_leader_failover_between_two_controller_processes(tmp_path):
    name = pg.create_database("jarvis_leader")
    url = pg.sqlalchemy_url(name)
    lease = 3
    procs = []
    try:
        a = _controller_proc(url, tmp_path / "a", lease)
        procs.append(a)
        from controller.store.db import Database

        db = Database(url)
        holder = wait_for(lambda: _holder(db), what="a leader")
        assert f":{a.pid}:" in holder
        b = _controller_proc(url, tmp_path / "b", lease)
        procs.append(b)
        time.sleep(lease)
        assert f":{a.pid}:" in _holder(db)            # b waits while a renews
        os.killpg(a.pid, signal.SIGKILL)
        a.wait()
        killed_at = time.time()
        wait_for(lambda: f":{b.pid}:" in (_holder(db) or ""), timeout=2 * lease + 10, what="takeover by b")
        took = time.time() - killed_at
        db.dispose()
        print(f"takeover after {took:.1f}s (lease {lease}s)")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        pg.drop_database(name)


def _holder(db):
    from controller.store.models import utcnow

    try:
        with db.session() as s:
            row = s.get(Lease, "controller")
            return row.holder if row is not None and row.expires_at > utcnow() else None
    except Exception:   # the first controller is still creating the tables
        return None


def test_connection_check_through_the_api(api_client, operator, git_rt, tmp_path):
    with git_rt.db.session() as s:
        c = connections.create(s, git_rt.secrets, name=f"fs-check-{tmp_path.name[-8:]}", type="filestore",
                               environment="", config={"root": str(tmp_path)}, credentials={}, created_by="t")
        cid = c.id
    r = api_client.post(f"/api/connections/{cid}/test", headers=operator.headers)
    assert r.json() == {"ok": True, "message": "directory exists", "details": {}}
