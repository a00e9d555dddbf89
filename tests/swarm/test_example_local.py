"""examples/local deploys to this machine's single-node Swarm with nothing but the connection `local`,
created the way a new operator creates it: by accepting embedded Jarvis's offer (issue 12).

The example is committed as shipped except for what a shared test engine needs: a unique prefix for its
object names (the example's objects all start with `hello-`), the local test images (no registry is
reachable here) and a free published port."""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from api.processes import jobs_service
from controller import local_offer
from controller.gitops import decisions
from controller.gitops.loop import sync_source
from controller.manifests import parse_file
from controller.runtime import Runtime
from controller.store.models import Connection, PlanRow, Source
from tests.conftest import make_settings
from tests.support import pg
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "local"
IMAGES = {"nginx:1.27-alpine": "jarvis-test/httpd:1", "traefik/whoami:v1.10": "jarvis-test/sleep:1",
          "/usr/share/nginx/html/index.html": "/www/index.html"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def rt(tmp_path, swarm_engine, monkeypatch):
    """An embedded runtime on a database of its own (no connection `local` in it yet), with a worker."""
    monkeypatch.setenv("HELLO_API_TOKEN", "hello-test-token-" + uuid.uuid4().hex[:6])
    name = pg.create_database()
    runtime = Runtime.start(make_settings(tmp_path / "data", pg.sqlalchemy_url(name)), first_admin=False)
    jobs_service(runtime).start_worker()
    yield runtime
    runtime.close()
    pg.drop_database(name)


def _as_committed(prefix: str, port: int) -> dict[str, str]:
    files = {}
    for path in EXAMPLE.rglob("*"):
        if path.is_file():
            text = path.read_text().replace("hello-", prefix).replace('"8088:80"', f'"{port}:80"')
            for old, new in IMAGES.items():
                text = text.replace(old, new)
            files[f"local/{path.relative_to(EXAMPLE)}"] = text
    return files


def db_reason(rt, sid: int) -> str:
    """The reason the controller would sync with (it runs stamped syncs with it as their trigger)."""
    with rt.db.session() as db:
        return db.get(Source, sid).sync_reason


def test_the_shipped_example_needs_only_the_connection_local():
    result = parse_file(str(EXAMPLE / "orch.yaml"))
    assert result.ok, result
    m = result.manifest
    assert m.connections.model_dump(exclude_none=True) == {"swarm": "local"}
    assert not m.dns and not m.servers and not m.stacks and not m.compose


def test_examples_local_plans_and_converges_after_the_offered_connection(rt, tmp_path, swarm_engine, request):
    prefix = f"l{uuid.uuid4().hex[:6]}-"
    request.node.jarvis_cleanup = [prefix]       # the swarm conftest removes what starts with it
    port = _free_port()
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, _as_committed(prefix, port), "examples/local")
    with rt.db.session() as db:
        src = Source(name=f"{prefix}src", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        sid = src.id

    res = sync_source(rt, sid, "test")       # without the connection: invalid, nothing planned
    assert not res.plan_ids
    with rt.db.session() as db:               # the offer: this engine is a Swarm manager
        (offer,) = local_offer.offers(rt, db)
        assert (offer.kind, offer.name, offer.type) == ("swarm", "local", "docker")
        assert offer.config == {"base_url": "unix:///var/run/docker.sock"} and "swarm manager" in offer.message
        local_offer.accept(rt, db, "swarm", "admin@example.test")
    with rt.db.session() as db:
        assert db.scalar(select(Connection.type).where(Connection.name == "local")) == "docker"
        assert local_offer.offers(rt, db) == []                    # offered no more once it exists
        assert db.get(Source, sid).sync_requested_at is not None   # the source syncs again

    res = sync_source(rt, sid, db_reason(rt, sid))
    assert res.error == "" and len(res.plan_ids) == 1 and not res.job_ids, res   # manual: waits
    with rt.db.session() as db:
        plan = db.get(PlanRow, res.plan_ids[0])
        assert plan.status == "pending" and not plan.errors, plan.errors
        assert plan.target == "swarm:local"
        keys = {c["resource"] for c in plan.changes}
        job = decisions.approve(rt, db, plan.id, plan.checksum, "admin@example.test")
        job_id, plan_id = job.id, plan.id
    # two services, a network, a config, a secret (versioned by content: name_hash)
    assert {f"service/{prefix}web", f"service/{prefix}api", f"network/{prefix}net"} <= keys, keys
    assert {k.split("_")[0] for k in keys} >= {f"config/{prefix}page", f"secret/{prefix}token"}, keys
    job = wait_job(rt, job_id, timeout=300)
    assert job.status == "success", job.reason

    names = {s["Spec"]["Name"] for s in swarm_engine.api.services()}
    assert {f"{prefix}web", f"{prefix}api"} <= names
    res = sync_source(rt, sid, "verify")      # in sync: nothing to plan
    assert not res.plan_ids and not res.job_ids, res
    with rt.db.session() as db:
        assert db.scalar(select(PlanRow.converged).where(PlanRow.id == plan_id)) is True
    # the page is the example's config, served by the web service (asked from inside its container: a
    # published port's routing mesh is not reachable from every test host)
    deadline, body = time.monotonic() + 120, b""
    while time.monotonic() < deadline and b"hello from Jarvis" not in body:
        running = swarm_engine.containers.list(filters={"label": f"com.docker.swarm.service.name={prefix}web"})
        if running:
            body = running[0].exec_run(["wget", "-q", "-O-", "http://127.0.0.1/"]).output
        else:
            time.sleep(1)
    assert b"hello from Jarvis" in body, body
