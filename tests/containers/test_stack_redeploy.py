"""Redeploying a stack on the real Swarm: through the API (operators, audited) and through the runbooks
of both connection types (docker, and Portainer's Docker proxy in the emulator). Every service's tasks
are replaced with the same spec; a compose project's containers are restarted; a stack that does not
exist is a 404 naming it, and the stack is untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from controller.contract import ConnectionInfo
from controller.store.models import AuditEntry
from tests.support.waiting import wait_for

from .conftest import API_KEY, docker
from .test_container_runbooks import _run

COMPOSE = textwrap.dedent("""\
    version: "3.8"
    services:
      web:
        image: jarvis-test/sleep:1
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
        deploy: {update_config: {monitor: 1s}}
      worker:
        image: jarvis-test/sleep:1
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    """)


def _running_tasks(stack: str) -> dict[str, str]:
    """service name -> id of its running task."""
    out = subprocess.run(["docker", "stack", "ps", stack, "--filter", "desired-state=running", "--format",
                          "{{json .}}", "--no-trunc"], capture_output=True, text=True).stdout   # none yet: exit 1
    tasks = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {t["Name"].rsplit(".", 1)[0]: t["ID"] for t in tasks if t["CurrentState"].startswith("Running")}


@pytest.fixture
def stack(tmp_path):
    name = f"rdp{uuid.uuid4().hex[:6]}"
    (tmp_path / "stack.yml").write_text(COMPOSE)
    docker("stack", "deploy", "--detach=true", "--resolve-image", "never", "-c", str(tmp_path / "stack.yml"), name)
    wait_for(lambda: len(_running_tasks(name)) == 2, "both services running", timeout=120)
    yield name
    subprocess.run(["docker", "stack", "rm", name], capture_output=True)


def _rolled(stack: str, before: dict[str, str]) -> bool:
    now = _running_tasks(stack)
    return len(now) == 2 and all(now[s] != before[s] for s in before)


def test_an_operator_redeploys_a_stack_every_task_is_replaced_and_it_is_audited(client, viewer, operator, runtime,
                                                                               stack, docker_conn):
    before = _running_tasks(stack)
    url = f"/api/containers/{docker_conn}/stacks/{stack}/redeploy"
    assert client.post(url, headers=viewer.headers).status_code == 403
    assert _running_tasks(stack) == before

    r = client.post(url, headers=operator.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "swarm" and body["stack"] == stack and body["environment"] == docker_conn
    assert sorted(s["name"] for s in body["services"]) == [f"{stack}_web", f"{stack}_worker"]
    assert all(s["force_update"] == 1 for s in body["services"])
    wait_for(lambda: _rolled(stack, before), "every service's task replaced", timeout=120)
    # the same spec: the image and command the stack file gave
    spec = json.loads(docker("service", "inspect", f"{stack}_web"))[0]["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert spec["Image"] == "jarvis-test/sleep:1" and spec["Args"][0] == "/bin/sh", spec

    with runtime.db.session() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.target == f"stack/{docker_conn}/{stack}")
                           .order_by(AuditEntry.id.desc())).first()
        assert (entry.action, entry.result, entry.user_email) == ("containers.restart", "success", operator.email)
        assert sorted(entry.detail["services"]) == [f"{stack}_web", f"{stack}_worker"]

    missing = client.post(f"/api/containers/{docker_conn}/stacks/nosuch{stack}/redeploy", headers=operator.headers)
    assert missing.status_code == 404 and f"nosuch{stack}" in missing.json()["detail"]
    bad = client.post(f"/api/containers/{docker_conn}/stacks/..%2Fx/redeploy", headers=operator.headers)
    assert bad.status_code in (400, 404, 422), bad.text


def test_a_compose_project_has_its_containers_restarted(client, operator, docker_conn):
    project = f"cmp{uuid.uuid4().hex[:6]}"
    cid = docker("run", "-d", "--name", f"{project}-web-1", "--label", f"com.docker.compose.project={project}",
                 "--label", "com.docker.compose.service=web", "jarvis-test/sleep:1", "/bin/sh", "-c",
                 "trap 'exit 0' TERM; while true; do sleep 1; done")
    try:
        before = docker("inspect", "-f", "{{.State.StartedAt}}", cid)
        r = client.post(f"/api/containers/{docker_conn}/stacks/{project}/redeploy", headers=operator.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["mode"] == "compose" and [c["name"] for c in body["containers"]] == [f"{project}-web-1"]
        assert docker("inspect", "-f", "{{.State.StartedAt}}", cid) != before
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)


def test_the_redeploy_runbooks_roll_the_stack_on_both_connection_types(stack, emulator, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")   # ansible-playbook
    local = ConnectionInfo(name="local", type="docker", config={"base_url": "unix:///var/run/docker.sock"})
    ptr = ConnectionInfo(name="ptr", type="portainer", config={"base_url": emulator.url}, secrets={"api_key": API_KEY})
    for conn, name, ref in ((local, "stack-redeploy", stack), (ptr, "portainer-stack-redeploy", f"1:{stack}")):
        before = _running_tasks(stack)
        status, out, stdout = _run(name, conn, stack=ref, wait_seconds=120)
        assert status == "successful", stdout
        assert out["msg"] == f"stack {stack}: 2 services rolled", out
        assert out["states"] == {f"{stack}_web": "completed", f"{stack}_worker": "completed"}
        # the runbook waited for the update to complete: the new tasks are the running ones
        wait_for(lambda before=before: _rolled(stack, before), "every service's task replaced", timeout=60)
        assert API_KEY not in stdout

    status, out, stdout = _run("stack-redeploy", local, stack=f"nosuch{stack}")
    assert status == "failed" and f"no stack 'nosuch{stack}'" in out["msg"], stdout
