"""GET /api/containers, a container's detail and logs, and a restart, on real containers: through a
docker connection to this host's engine and through Portainer's Docker proxy (the emulator)."""

from __future__ import annotations

import subprocess
import textwrap
import uuid
from datetime import datetime

from sqlalchemy import select

from controller import connections
from controller.store.models import AuditEntry
from tests.emulators.portainer.server import INACTIVE
from tests.support.waiting import wait_for

from .conftest import SECRET_VALUE, docker


def _find(tree: dict, connection: str, cid: str) -> tuple[dict, dict, dict, dict]:
    for env in tree["environments"]:
        if env["connection"] != connection:
            continue
        for stack in env["stacks"]:
            for svc in stack["services"]:
                for c in svc["containers"]:
                    if c["id"] == cid:
                        return env, stack, svc, c
    raise AssertionError(f"container {cid[:12]} not listed under {connection}")


def _docker_time(text: str) -> datetime:
    """docker's RFC 3339 with nanoseconds ("…:33.827629123Z") to microseconds."""
    base, _, frac = text.removesuffix("Z").partition(".")
    return datetime.fromisoformat(f"{base}.{(frac + '000000')[:6]}+00:00")


def _started(cid: str) -> str:
    return docker("inspect", "-f", "{{.State.StartedAt}}", cid)


def test_the_list_groups_containers_by_environment_stack_and_service(client, viewer, container, docker_conn,
                                                                      portainer_conn, emulator, runtime):
    # a Swarm stack deployed through Portainer, and a docker connection whose engine cannot be reached
    stack = f"ctrs{uuid.uuid4().hex[:6]}"
    compose = textwrap.dedent("""\
        version: "3.8"
        services:
          web:
            image: jarvis-test/sleep:1
        """)
    emulator.create_stack(1, {"name": stack, "stackFileContent": compose, "swarmID": emulator.swarm_id(),
                              "env": []}, "admin")
    task = wait_for(lambda: docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.stack.namespace={stack}"),
                    "the stack's task container", timeout=90)
    with runtime.db.session() as db:
        down = connections.create(db, runtime.secrets, name=f"down-{uuid.uuid4().hex[:6]}", type="docker",
                                  environment="test", config={"base_url": "tcp://127.0.0.1:9", "tls": False},
                                  credentials={}, created_by="test")
        down_name, down_id = down.name, down.id
    try:
        r = client.get("/api/containers", headers=viewer.headers)
        assert r.status_code == 200, r.text
        tree = r.json()

        env, grp, svc, c = _find(tree, docker_conn, container["id"])
        assert (env["name"], env["connection_type"], env["endpoint"], env["error"]) == (docker_conn, "docker", None, None)
        assert grp["name"] is None and svc["name"] is None
        assert c["name"] == container["name"] and c["ref"] == container["id"]
        assert c["state"] == "running" and c["image"] == "jarvis-test/sleep:1" and c["restarts"] == 0
        assert c["health"] in ("starting", "healthy")
        created, started = (datetime.fromisoformat(c[k]) for k in ("created", "started"))
        assert created <= started and started == _docker_time(_started(container["id"]))
        (port,) = c["ports"]
        host_port = int(docker("port", container["id"], "80/tcp").rsplit(":", 1)[1])
        assert port == {"private": 80, "public": host_port, "protocol": "tcp", "ip": "127.0.0.1"}

        # the same engine through Portainer: environment "prod" (endpoint 1), the stack and its service
        env, grp, svc, c = _find(tree, portainer_conn, task)
        assert (env["name"], env["connection_type"], env["endpoint"]) == ("prod", "portainer", 1)
        assert grp["name"] == stack and svc["name"] == f"{stack}_web" and grp["containers"] == 1 and grp["errors"] == 0
        assert c["ref"] == f"1:{task}" and c["node"]
        _, _, _, standalone = _find(tree, portainer_conn, container["id"])
        assert standalone["ref"] == f"1:{container['id']}"

        (bad,) = [e for e in tree["environments"] if e["connection"] == down_name]
        assert bad["status"] == "down" and bad["stacks"] == [] and "cannot reach the docker engine" in bad["error"]
        r = client.get(f"/api/containers/{down_name}/{container['id']}", headers=viewer.headers)
        assert r.status_code == 503 and "cannot reach" in r.json()["detail"]
    finally:
        with runtime.db.session() as db:
            db.delete(connections.get(db, down_id))


def test_detail_shows_env_names_never_values(client, viewer, container, docker_conn, portainer_conn):
    for conn, ref in ((docker_conn, container["id"]), (portainer_conn, f"1:{container['id']}")):
        r = client.get(f"/api/containers/{conn}/{ref}", headers=viewer.headers)
        assert r.status_code == 200, r.text
        assert SECRET_VALUE not in r.text
        d = r.json()
        assert d["id"] == container["id"] and d["ref"] == ref and d["name"] == container["name"]
        assert {"API_TOKEN", "MODE", "PATH"} <= set(d["env_names"])
        assert {"type": "volume", "source": container["volume"], "destination": "/data", "read_only": False} in d["mounts"]
        ip = docker("inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", container["id"])
        assert d["networks"] == [{"name": "bridge", "ip": ip}]
        assert d["command"][:2] == ["/bin/sh", "-c"]
        assert d["resources"]["memory_bytes"] > 0 and d["resources"]["pids"] >= 1
        assert [p["private"] for p in d["ports"]] == [80]

    assert client.get(f"/api/containers/{docker_conn}/{'0' * 64}", headers=viewer.headers).status_code == 404
    assert client.get(f"/api/containers/{portainer_conn}/7:{container['id']}", headers=viewer.headers).status_code == 404
    r = client.get(f"/api/containers/{portainer_conn}/{container['id']}", headers=viewer.headers)
    assert r.status_code == 422 and "<endpoint id>:<container id>" in r.json()["detail"]
    assert client.get(f"/api/containers/nope-{uuid.uuid4().hex[:4]}/{container['id']}",
                      headers=viewer.headers).status_code == 404


def test_logs_match_docker_logs_stream_by_stream(client, viewer, container, docker_conn, portainer_conn):
    done = subprocess.run(["docker", "logs", container["id"]], capture_output=True, text=True, check=True)
    want = {"stdout": done.stdout.splitlines(), "stderr": done.stderr.splitlines()}
    assert want == {"stdout": ["out-one", "out-two"], "stderr": ["err-one"]}
    for conn, ref in ((docker_conn, container["id"]), (portainer_conn, f"1:{container['id']}")):
        r = client.get(f"/api/containers/{conn}/{ref}/logs", headers=viewer.headers)
        assert r.status_code == 200, r.text
        lines = r.json()["lines"]
        for stream in ("stdout", "stderr"):
            assert [x["text"] for x in lines if x["stream"] == stream] == want[stream]
        assert all(x["time"] is None for x in lines)

        stamped = client.get(f"/api/containers/{conn}/{ref}/logs", params={"timestamps": "true", "tail": 1},
                             headers=viewer.headers).json()["lines"]
        assert len(stamped) == 1 and stamped[0]["time"]
        later = client.get(f"/api/containers/{conn}/{ref}/logs", params={"since": "2999-01-01T00:00:00Z"},
                           headers=viewer.headers).json()["lines"]
        assert later == []
    r = client.get(f"/api/containers/{docker_conn}/{container['id']}/logs", params={"tail": 0}, headers=viewer.headers)
    assert r.status_code == 422


def test_restart_is_for_operators_audited_and_really_restarts(client, viewer, operator, runtime, container,
                                                              docker_conn, portainer_conn):
    before = _started(container["id"])
    r = client.post(f"/api/containers/{docker_conn}/{container['id']}/restart", headers=viewer.headers)
    assert r.status_code == 403
    assert _started(container["id"]) == before

    for conn, ref in ((docker_conn, container["id"]), (portainer_conn, f"1:{container['id']}")):
        r = client.post(f"/api/containers/{conn}/{ref}/restart", headers=operator.headers)
        assert r.status_code == 200, r.text
        after = _started(container["id"])
        assert after != before and r.json()["state"] == "running"
        assert r.json()["started"][:19] == after[:19]
        before = after
        with runtime.db.session() as db:
            entry = db.scalars(select(AuditEntry).where(AuditEntry.target == f"container/{conn}/{ref}")
                               .order_by(AuditEntry.id.desc())).first()
            assert (entry.action, entry.result, entry.user_email) == ("containers.restart", "success", operator.email)
            assert entry.detail["name"] == container["name"] and entry.detail["environment"] in (conn, "prod")
    with runtime.db.session() as db:   # the refused attempt is audited too (its target: the path)
        denied = db.scalars(select(AuditEntry).where(
            AuditEntry.target == f"/api/containers/{docker_conn}/{container['id']}/restart",
            AuditEntry.result == "denied")).all()
        assert [(d.user_email, d.action) for d in denied] == [(viewer.email, "containers.restart")]
    assert r.json()["restarts"] == 0   # a restart by hand is not the engine's restart count


def test_a_down_environment_and_a_connection_without_containers(client, viewer, runtime, emulator, portainer_conn):
    emulator.add_endpoint("edge", status=INACTIVE)
    tree = client.get("/api/containers", headers=viewer.headers).json()
    mine = {e["name"]: e for e in tree["environments"] if e["connection"] == portainer_conn}
    assert set(mine) == {"prod", "edge"}
    assert (mine["edge"]["status"], mine["edge"]["error"], mine["edge"]["stacks"]) == ("down", "the environment is down", [])
    assert mine["prod"]["status"] == "up" and mine["prod"]["stacks"]

    with runtime.db.session() as db:
        cf = connections.create(db, runtime.secrets, name=f"cf-{uuid.uuid4().hex[:6]}", type="cloudflare",
                                environment="test", config={}, credentials={"api_token": "t" * 40}, created_by="test")
        cf_name, cf_id = cf.name, cf.id
    try:
        assert all(e["connection"] != cf_name for e in client.get("/api/containers", headers=viewer.headers).json()["environments"])
        r = client.get(f"/api/containers/{cf_name}/abc123", headers=viewer.headers)
        assert r.status_code == 404 and "has no containers" in r.json()["detail"]
    finally:
        with runtime.db.session() as db:
            db.delete(connections.get(db, cf_id))
