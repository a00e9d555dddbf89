"""GET /metrics: the state of Jarvis as Prometheus reads it, guarded by a bearer token, and true
whichever API process answers."""

from __future__ import annotations

import datetime as dt
import secrets

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from controller.accounts import users
from controller.gitops.leader import NAME as LEADER_LEASE
from controller.runtime import Runtime
from controller.store.models import (
    DriftItem,
    Job,
    Lease,
    Manifest,
    PlanRow,
    ReconcileRun,
    Source,
    TargetStatus,
    utcnow,
)
from tests.conftest import make_settings
from tests.support import pg
from tests.support.jarvis_server import JarvisServer
from tests.support.redis_server import RedisServer
from tests.support.tokens import bearer_token

TOKEN = "scrape-token-" + "s" * 20
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a scrape."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


@pytest.fixture
def fresh_db():
    """A database of its own: the figures below are exact, not mixed with other tests' rows."""
    name = pg.create_database("jarvis_metrics")
    yield pg.sqlalchemy_url(name)
    pg.drop_database(name)


@pytest.fixture
def metrics_rt(fresh_db, tmp_path):
    rt = Runtime.start(make_settings(tmp_path, fresh_db, metrics_token=TOKEN), first_admin=False)
    yield rt
    rt.close()


@pytest.fixture
def mclient(metrics_rt):
    with TestClient(create_app(metrics_rt, background=False)) as c:
        yield c


def test_metrics_want_the_configured_bearer_token(mclient):
    assert mclient.get("/metrics").status_code == 401
    wrong = mclient.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "JARVIS_METRICS_TOKEN" in wrong.json()["detail"]
    ok = mclient.get("/metrics", headers=BEARER)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")
    assert samples(ok.text)[("jarvis_database_up", ())] == 1


def test_metrics_are_refused_until_configured_and_open_only_on_purpose(pg_url, tmp_path):
    for overrides, status in (({}, 403), ({"metrics_public": True}, 200)):
        rt = Runtime.start(make_settings(tmp_path, pg_url, **overrides), first_admin=False)
        try:
            with TestClient(create_app(rt, background=False)) as c:
                res = c.get("/metrics")
            assert res.status_code == status, res.text
            if status == 403:
                assert "JARVIS_METRICS_PUBLIC" in res.json()["detail"]
        finally:
            rt.close()


def test_metrics_token_can_come_from_a_file(pg_url, tmp_path):
    secret = tmp_path / "metrics_token"
    secret.write_text(TOKEN + "\n")
    rt = Runtime.start(make_settings(tmp_path, pg_url, metrics_token_file=secret), first_admin=False)
    try:
        with TestClient(create_app(rt, background=False)) as c:
            assert c.get("/metrics").status_code == 401
            assert c.get("/metrics", headers=BEARER).status_code == 200
    finally:
        rt.close()


def _seed(rt) -> None:
    now = utcnow()
    with rt.db.session() as s:
        src = Source(name="shop", url="/srv/shop", poll_interval=60, status="error",
                     last_sync_at=now - dt.timedelta(seconds=30), last_success_at=now - dt.timedelta(seconds=600))
        s.add(src)
        s.flush()
        s.add_all([ReconcileRun(source_id=src.id, trigger="poll", started_at=now - dt.timedelta(seconds=3),
                                finished_at=now, result="ok"),
                   ReconcileRun(source_id=src.id, trigger="poll", started_at=now - dt.timedelta(seconds=40),
                                finished_at=now, result="error"),
                   ReconcileRun(source_id=src.id, trigger="poll", result="running")])
        s.add_all([DriftItem(source_id=src.id, manifest_path="orch.yaml", target="swarm:prod", resource=f"service/{n}",
                             status=st) for n, st in (("a", "in_sync"), ("b", "in_sync"), ("c", "drifted"))])
        s.add_all([PlanRow(source_id=src.id, manifest_path="orch.yaml", target="swarm:prod", kind="swarm",
                           connection="prod", revision="r1", policy="manual", status=st, checksum="c" * 64)
                   for st in ("pending", "held", "held", "applied")])
        s.add_all([Job(runbook="restart-service", status="pending", created_at=now - dt.timedelta(seconds=90)),
                   Job(runbook="restart-service", status="pending", created_at=now),
                   Job(runbook="restart-service", status="error", finished_at=now),
                   Job(runbook="restart-service", status="success", finished_at=now),
                   Job(runbook="backup-postgres", status="success", finished_at=now - dt.timedelta(hours=2)),
                   Job(runbook="backup-postgres", status="success", finished_at=now - dt.timedelta(hours=30))])
        s.add(Lease(name=LEADER_LEASE, holder="ctl-1", expires_at=now + dt.timedelta(seconds=30)))
        s.add(TargetStatus(target="swarm:prod", kind="swarm", connection="prod", observed_at=now,
                           health={"nodes": {"node-1": {"state": "ready"}, "node-2": {"state": "down"}}}))
        s.add(Manifest(source_id=src.id, path="backups/orch.yaml", revision="r1", content="", valid=True,
                       desired={"backups": [{"name": "db", "runbook": "backup-postgres", "schedule": "15 */6 * * *"},
                                            {"name": "db2", "runbook": "backup-postgres", "schedule": "0 3 * * *"}]}))


def test_metrics_report_the_state_stored_in_the_database(metrics_rt, mclient):
    _seed(metrics_rt)
    m = samples(mclient.get("/metrics", headers=BEARER).text)
    shop = (("source", "shop"),)
    assert m[("jarvis_reconciles_total", (("result", "error"), ("source", "shop")))] == 1
    assert m[("jarvis_reconciles_total", (("result", "ok"), ("source", "shop")))] == 1
    assert m[("jarvis_reconcile_duration_seconds_count", shop)] == 2          # the running one is not done
    assert m[("jarvis_reconcile_duration_seconds_sum", shop)] == pytest.approx(43, abs=0.01)
    assert m[("jarvis_reconcile_duration_seconds_bucket", (("le", "5.0"), ("source", "shop")))] == 1
    assert m[("jarvis_reconcile_duration_seconds_bucket", (("le", "60.0"), ("source", "shop")))] == 2
    assert m[("jarvis_source_failing", shop)] == 1
    assert m[("jarvis_source_poll_interval_seconds", shop)] == 60
    assert utcnow().timestamp() - m[("jarvis_source_last_success_timestamp_seconds", shop)] == pytest.approx(600, abs=30)
    assert m[("jarvis_drift_items", (("status", "in_sync"),))] == 2
    assert m[("jarvis_drift_items", (("status", "drifted"),))] == 1
    assert m[("jarvis_plans_awaiting_approval", (("status", "held"),))] == 2
    assert m[("jarvis_plans_awaiting_approval", (("status", "pending"),))] == 1
    assert m[("jarvis_jobs_active", (("runbook", "restart-service"), ("status", "pending")))] == 2
    assert m[("jarvis_jobs_finished_total", (("runbook", "restart-service"), ("status", "error")))] == 1
    assert m[("jarvis_queue_depth", ())] == 2
    assert m[("jarvis_queue_oldest_pending_age_seconds", ())] == pytest.approx(90, abs=30)
    assert m[("jarvis_controller_has_leader", ())] == 1
    assert m[("jarvis_controller_leader", (("holder", "ctl-1"),))] == 1
    assert m[("jarvis_swarm_node_ready", (("node", "node-1"), ("target", "swarm:prod")))] == 1
    assert m[("jarvis_swarm_node_ready", (("node", "node-2"), ("target", "swarm:prod")))] == 0
    backup = (("runbook", "backup-postgres"),)
    assert utcnow().timestamp() - m[("jarvis_backup_last_success_timestamp_seconds", backup)] == pytest.approx(7200, abs=30)
    assert m[("jarvis_backup_interval_seconds", backup)] == 6 * 3600    # the shorter of its two schedules


def test_an_expired_lease_means_no_leader(metrics_rt, mclient):
    with metrics_rt.db.session() as s:
        s.add(Lease(name=LEADER_LEASE, holder="gone", expires_at=utcnow() - dt.timedelta(seconds=1)))
    m = samples(mclient.get("/metrics", headers=BEARER).text)
    assert m[("jarvis_controller_has_leader", ())] == 0
    assert not [k for k in m if k[0] == "jarvis_controller_leader"]


def test_http_requests_are_counted_per_route_template(mclient):
    def count(route: str, status: str) -> float:
        m = samples(mclient.get("/metrics", headers=BEARER).text)
        return m.get(("jarvis_http_requests_total", (("method", "GET"), ("route", route), ("status", status))), 0)

    before = count("/api/jobs/{job_id}", "401"), count("(unmatched)", "404")
    for n in (101, 102, 103):
        mclient.get(f"/api/jobs/{n}")
        mclient.get(f"/no-such-page-{n}")
    assert (count("/api/jobs/{job_id}", "401"), count("(unmatched)", "404")) == (before[0] + 3, before[1] + 3)
    m = samples(mclient.get("/metrics", headers=BEARER).text)
    assert m[("jarvis_http_request_duration_seconds_count", (("method", "GET"), ("route", "/api/jobs/{job_id}")))] >= 3


def test_websocket_watchers_are_counted_while_connected(metrics_rt, mclient):
    with metrics_rt.db.session() as s:
        job = Job(runbook="restart-service", status="running")
        s.add(job)
        user = users.create(s, "watcher@example.test", "pw-" + secrets.token_urlsafe(12), "viewer")
        s.flush()
        job_id, uid = job.id, user.id
    token = bearer_token(metrics_rt, uid, "viewer")

    def watchers() -> float:
        return samples(mclient.get("/metrics", headers=BEARER).text)[("jarvis_websocket_watchers", ())]

    base = watchers()
    with mclient.websocket_connect(f"/ws/jobs/{job_id}?token={token}") as ws:
        assert ws.receive_json()["type"] == "status"
        assert watchers() == base + 1
    assert watchers() == base


def test_several_api_processes_report_one_sum(fresh_db, tmp_path):
    """`jarvis serve --workers 2`: whichever process answers a scrape, it counts every process's requests."""
    redis = RedisServer().start()
    server = JarvisServer(fresh_db, tmp_path, {"JARVIS_REDIS_URL": redis.url, "JARVIS_METRICS_TOKEN": TOKEN},
                          serve_args=("--workers", "2"))
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as c:
            for _ in range(40):
                c.get("/healthz")
            key = ("jarvis_http_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
            counts = []
            for _ in range(12):
                counts.append(samples(c.get("/metrics", headers=BEARER).text)[key])
        # every answer counts all the healthz answers (the start-up probe's too), not its own process's share
        assert len(set(counts)) == 1 and counts[0] >= 40, counts
        assert (tmp_path / "metrics").is_dir() and any((tmp_path / "metrics").iterdir())
    finally:
        server.stop()
        redis.stop()
