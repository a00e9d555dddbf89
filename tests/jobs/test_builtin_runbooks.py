"""Built-in runbooks end to end: API → queue → worker → ansible-runner, with connection secrets."""

from __future__ import annotations

import socket
import uuid

import pytest

from controller import connections
from tests.jobs.conftest import wait_job
from tests.support.sshd import running_sshd


@pytest.fixture(scope="module")
def sshd():
    with running_sshd() as server:
        yield server


def _ssh_connection(rt, server, known_hosts: bool) -> str:
    name = f"ssh-{uuid.uuid4().hex[:6]}"
    config = {"known_hosts": server.known_hosts_line} if known_hosts else {}
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=name, type="ssh", environment="test", config=config,
                           credentials={"private_key": server.private_key}, created_by="test")
    return name


def test_gather_facts_over_ssh_with_a_pinned_host_key(jobs_client, jobs_rt, operator, sshd):
    conn = _ssh_connection(jobs_rt, sshd, known_hosts=True)
    r = jobs_client.post("/api/runbooks/gather-facts/execute", headers=operator.headers,
                         json={"input": {"connection": conn, "host": sshd.host, "port": sshd.port, "user": sshd.user,
                                         "python": "/usr/bin/python3"}})
    assert r.status_code == 202, r.text
    job = wait_job(jobs_rt, r.json()["id"])
    assert job.status == "success", job.reason
    facts = jobs_client.get(f"/api/jobs/{job.id}", headers=operator.headers).json()["output"]["facts"]
    assert facts["hostname"] == socket.gethostname().split(".")[0]
    events = jobs_client.get(f"/api/jobs/{job.id}/events", headers=operator.headers).text
    assert sshd.private_key.splitlines()[1] not in events


def test_unknown_host_key_is_refused(jobs_client, jobs_rt, operator, sshd):
    conn = _ssh_connection(jobs_rt, sshd, known_hosts=False)   # host key checking stays on
    r = jobs_client.post("/api/runbooks/gather-facts/execute", headers=operator.headers,
                         json={"input": {"connection": conn, "host": sshd.host, "port": sshd.port, "user": sshd.user}})
    job = wait_job(jobs_rt, r.json()["id"])
    assert job.status == "error" and "target" in job.reason


def test_connection_of_the_wrong_type_is_422(jobs_client, jobs_rt, operator):
    with jobs_rt.db.session() as db:
        connections.create(db, jobs_rt.secrets, name="not-ssh", type="docker", environment="",
                           config={"base_url": "unix:///var/run/docker.sock"},
                           credentials={}, created_by="t")
    r = jobs_client.post("/api/runbooks/gather-facts/execute", headers=operator.headers,
                         json={"input": {"connection": "not-ssh", "host": "x"}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input.connection"
