"""A remote Swarm, over tcp+TLS and over ssh, through every path a user takes: an apply job run by the
worker with ansible-runner, and each Swarm runbook (restart, scale, rollback, logs) run as a job.

The engine is this machine's, reached through a recording mutual-TLS proxy or a recording socket an
ssh tunnel forwards to: a request that went to the local socket instead is not in the log, so a step
that silently fell back to `unix:///var/run/docker.sock` fails these tests. An apply to an engine that
cannot be reached fails its step naming the address and creates nothing on the local engine.
"""

from __future__ import annotations

import socket
import textwrap
import uuid
from dataclasses import dataclass, field

import docker.types
import pytest
from sqlalchemy import select

from api.processes import jobs_service
from controller import connections
from controller.gitops import decisions
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import PlanRow, Source
from tests.conftest import make_settings
from tests.support.engine_proxy import RequestLog, TlsEngineProxy, UnixEngineRelay
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job
from tests.support.sshd import running_sshd


@dataclass
class Remote:
    kind: str
    config: dict
    credentials: dict
    log: RequestLog
    dead_url: str = ""
    closers: list = field(default_factory=list)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd():
    with running_sshd() as server:
        yield server


@pytest.fixture(params=["tcp+tls", "ssh"])
def remote(request, tmp_path):
    if request.param == "tcp+tls":
        proxy = TlsEngineProxy()
        r = Remote("tcp+tls", {"base_url": proxy.base_url}, dict(proxy.client_secrets), proxy.log,
                   dead_url=f"tcp://127.0.0.1:{_closed_port()}", closers=[proxy.close])
    else:
        server = request.getfixturevalue("sshd")
        relay = UnixEngineRelay(tmp_path / "engine.sock")
        r = Remote("ssh", {"base_url": f"ssh://{server.user}@{server.host}:{server.port}",
                           "known_hosts": server.known_hosts_line, "remote_socket": relay.path},
                   {"ssh_key": server.private_key}, relay.log,
                   dead_url=f"ssh://{server.user}@127.0.0.1:{_closed_port()}", closers=[relay.close])
    yield r
    for close in r.closers:
        close()


@pytest.fixture
def rt(pg_url, tmp_path, swarm_engine):
    runtime = Runtime.start(make_settings(tmp_path / "data", pg_url), first_admin=False)
    jobs = jobs_service(runtime)
    jobs.start_worker()
    yield runtime
    with runtime.db.session() as db:
        for src in db.scalars(select(Source).where(Source.name == "test-src")):
            db.delete(src)
    runtime.close()


def _connection(rt, remote: Remote) -> str:
    name = f"remote-{remote.kind.replace('+', '-')}-{uuid.uuid4().hex[:6]}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=name, type="docker", environment="test", config=remote.config,
                           credentials=remote.credentials, created_by="test")
    return name


def _source(rt, tmp_path, conn: str, service: str, policy: str) -> int:
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, {"app/orch.yaml": textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: m{uuid.uuid4().hex[:8]}
        policy: {{sync: {policy}, prune: false}}
        connections: {{swarm: {conn}}}
        services:
          {service}:
            image: jarvis-test/sleep:1
            replicas: 1
        """)}, "remote app")
    with rt.db.session() as db:
        src = Source(name="test-src", url=str(repo), branch="main", paths=["**/orch.yaml"])
        db.add(src)
        db.flush()
        return src.id


def _names(engine) -> set[str]:
    return {s["Spec"]["Name"] for s in engine.api.services()}


def test_an_apply_job_reaches_the_remote_engine(rt, remote, tmp_path, swarm_engine):
    conn, service = _connection(rt, remote), f"remote-web-{uuid.uuid4().hex[:6]}"
    res = sync_source(rt, _source(rt, tmp_path, conn, service, "auto"), "test")
    assert res.error == "" and len(res.job_ids) == 1, res
    remote.log.clear()                      # what follows is the apply alone

    job = wait_job(rt, res.job_ids[0], timeout=240)

    assert job.status == "success", job.reason
    assert service in _names(swarm_engine)
    assert remote.log.matching("POST /services/create"), remote.log.requests


def test_every_swarm_runbook_reaches_the_remote_engine(rt, remote, swarm_engine):
    conn, service = _connection(rt, remote), f"remote-rb-{uuid.uuid4().hex[:6]}"
    stack = f"remote-stack-{uuid.uuid4().hex[:6]}"      # the service is a stack of one, for stack-redeploy
    swarm_engine.services.create("jarvis-test/httpd:1", name=service,
                                 labels={"jarvis.source": "test-src", "com.docker.stack.namespace": stack},
                                 update_config=docker.types.UpdateConfig(monitor=1_000_000_000))
    jobs = jobs_service(rt)
    service_id = swarm_engine.api.inspect_service(service)["ID"]

    def run(name: str, **extra):
        remote.log.clear()
        with rt.db.session() as db:
            job = jobs.run_runbook(db, name, {"connection": conn, **({} if "stack" in extra else {"service": service}),
                                              **extra},
                                   user_email="ops@example.test", user_role="operator")
        done = wait_job(rt, job.id, timeout=240)
        assert done.status == "success", f"{name}: {done.reason}"
        return done.output_json.get(name.replace("-", "_"), {})

    def spec():
        return swarm_engine.api.inspect_service(service)["Spec"]

    before = spec()["TaskTemplate"].get("ForceUpdate", 0)
    assert "converged" in run("swarm-restart")["msg"]
    assert spec()["TaskTemplate"]["ForceUpdate"] == before + 1
    assert remote.log.matching(f"POST /services/({service_id}|{service})/update"), remote.log.requests

    run("swarm-scale", replicas=2)
    assert spec()["Mode"]["Replicated"]["Replicas"] == 2
    assert remote.log.matching(f"POST /services/({service_id}|{service})/update"), remote.log.requests

    assert "rolled back" in run("swarm-rollback")["msg"]
    assert spec()["Mode"]["Replicated"]["Replicas"] == 1
    assert remote.log.matching(f"POST /services/({service_id}|{service})/update"), remote.log.requests

    out = run("swarm-logs", lines=5)
    assert len(out["lines"]) <= 5
    assert remote.log.matching(f"GET /services/({service_id}|{service})/logs"), remote.log.requests

    before = spec()["TaskTemplate"].get("ForceUpdate", 0)
    assert run("stack-redeploy", stack=stack, wait_seconds=120)["msg"] == f"stack {stack}: 1 services rolled"
    assert spec()["TaskTemplate"]["ForceUpdate"] == before + 1
    assert remote.log.matching(f"POST /services/({service_id}|{service})/update"), remote.log.requests


def test_an_apply_to_an_unreachable_engine_fails_naming_it_and_touches_nothing_here(rt, remote, tmp_path,
                                                                                    swarm_engine):
    conn, service = _connection(rt, remote), f"remote-gone-{uuid.uuid4().hex[:6]}"
    res = sync_source(rt, _source(rt, tmp_path, conn, service, "manual"), "test")
    assert res.error == "" and len(res.plan_ids) == 1, res
    with rt.db.session() as db:       # the engine moves away between the plan and its approval
        row = connections.by_name(db, conn)
        connections.update(db, rt.secrets, row, config={**remote.config, "base_url": remote.dead_url})
    with rt.db.session() as db:
        plan = db.get(PlanRow, res.plan_ids[0])
        job = decisions.approve(rt, db, plan.id, plan.checksum, "ops@example.test")

    done = wait_job(rt, job.id, timeout=240)

    assert done.status == "error"
    assert remote.dead_url in done.reason, done.reason
    assert service not in _names(swarm_engine)          # nothing fell back to the local engine
