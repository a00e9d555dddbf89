"""GET /api/logs on real sources: a Swarm service's merged tasks compared line for line with
`docker service logs`, a container with `docker logs`, a job's stored events; and bad input."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from controller.store.models import Job, JobEvent

from .conftest import LINES, REPLICAS, docker, docker_service_logs, docker_time


def _ours(lines: list[dict]) -> list[tuple]:
    return [(datetime.fromisoformat(x["time"]), x["labels"]["name"], x["labels"]["node"], x["stream"], x["text"])
            for x in lines]


def _get(client, who, **params):
    return client.get("/api/logs", params=params, headers=who.headers)


def test_a_service_reads_as_docker_service_logs_line_for_line(client, viewer, service, docker_conn):
    r = _get(client, viewer, source="service", selector=f"{docker_conn}/{service}")
    assert r.status_code == 200, r.text
    body = r.json()
    ours = _ours(body["lines"])
    theirs = docker_service_logs(service)
    assert len(ours) == REPLICAS * (2 * LINES + 1) and not body["truncated"]
    assert [x[0] for x in ours] == sorted(x[0] for x in ours)            # merged in time order
    assert sorted(ours) == sorted(theirs)                                # the same lines, labels and streams
    # every task is there, labelled with its slot, and the level comes from the text
    slots = {x["labels"]["slot"] for x in body["lines"]}
    assert slots == {str(i) for i in range(1, REPLICAS + 1)}
    assert {x["level"] for x in body["lines"] if x["stream"] == "stderr"} == {"error"}
    assert {x["level"] for x in body["lines"] if x["text"] == "WARN the last line"} == {"warn"}
    assert all(x["labels"]["name"] == f"{service}.{x['labels']['slot']}.{x['labels']['task']}" for x in body["lines"])


def test_limit_since_and_filters_cut_the_same_lines_docker_has(client, viewer, service, docker_conn):
    sel = f"{docker_conn}/{service}"
    theirs = sorted(docker_service_logs(service))
    last = _ours(_get(client, viewer, source="service", selector=sel, limit=4).json()["lines"])
    assert last == theirs[-4:]
    since = theirs[len(theirs) // 2][0]
    got = _ours(_get(client, viewer, source="service", selector=sel, since=since.isoformat()).json()["lines"])
    assert got == [x for x in theirs if x[0] >= since]
    first = _ours(_get(client, viewer, source="service", selector=sel, since=theirs[0][0].isoformat(),
                       direction="forward", limit=3).json()["lines"])
    assert first == theirs[:3]
    text = _ours(_get(client, viewer, source="service", selector=sel, q="OUT 2 FROM").json()["lines"])
    assert sorted(text) == sorted(x for x in theirs if "out 2 from" in x[4])
    assert len(text) == REPLICAS
    rx = _ours(_get(client, viewer, source="service", selector=sel, q=r"^ERROR err [12] \|", regex=True).json()["lines"])
    assert sorted(rx) == sorted(x for x in theirs if x[4].startswith(("ERROR err 1 |", "ERROR err 2 |")))
    assert len(rx) == 2 * REPLICAS


def test_a_container_reads_as_docker_logs(client, viewer, service, docker_conn):
    cid = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.swarm.service.name={service}").split()[0]
    body = _get(client, viewer, source="container", selector=f"{docker_conn}/{cid}").json()
    run = subprocess.run(["docker", "logs", "--timestamps", cid], capture_output=True, text=True, check=True)
    theirs = sorted([(docker_time(line.split(" ", 1)[0]), s, line.split(" ", 1)[1])
                     for s, out in (("stdout", run.stdout), ("stderr", run.stderr)) for line in out.splitlines()])
    assert sorted((datetime.fromisoformat(x["time"]), x["stream"], x["text"]) for x in body["lines"]) == theirs
    assert len(theirs) == 2 * LINES + 1


def test_a_jobs_events_read_as_lines(client, viewer, runtime):
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    with runtime.db.session() as db:
        job = Job(runbook="logs-test", title="logs test")
        db.add(job)
        db.flush()
        job_id = job.id
        for i in range(1, 6):
            db.add(JobEvent(job_id=job_id, counter=i, type="runner_on_ok", host="web1", task=f"task {i}",
                            stdout=f"line {i}a\nline {i}b" if i % 2 else "", created=t0 + timedelta(seconds=i)))
    body = _get(client, viewer, source="job", selector=str(job_id)).json()
    assert [x["text"] for x in body["lines"]] == ["line 1a", "line 1b", "line 3a", "line 3b", "line 5a", "line 5b"]
    assert body["lines"][2]["labels"] == {"counter": "3", "type": "runner_on_ok", "host": "web1", "task": "task 3"}
    tail = _get(client, viewer, source="job", selector=str(job_id), limit=3).json()
    assert [x["text"] for x in tail["lines"]] == ["line 3b", "line 5a", "line 5b"]
    ranged = _get(client, viewer, source="job", selector=str(job_id), since=(t0 + timedelta(seconds=2)).isoformat(),
                  until=(t0 + timedelta(seconds=4)).isoformat()).json()
    assert [x["text"] for x in ranged["lines"]] == ["line 3a", "line 3b"]


def test_bad_input_is_refused_in_words(client, viewer, service, docker_conn, remote_conn):
    sel = f"{docker_conn}/{service}"
    r = _get(client, viewer, source="service", selector=sel, q="(unclosed", regex=True)
    assert r.status_code == 422 and "not a valid regular expression" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "q"
    now = datetime.now(UTC)
    r = _get(client, viewer, source="service", selector=sel, since=(now - timedelta(days=9)).isoformat(),
             until=now.isoformat())
    assert r.status_code == 422 and "RANGE_MAX" in r.json()["detail"] and "7.0 days" in r.json()["detail"]
    r = _get(client, viewer, source="journal", selector=sel)
    assert r.status_code == 422 and "source" in r.json()["detail"]
    r = _get(client, viewer, source="service", selector=f"no-such-conn/{service}")
    assert r.status_code == 404 and "no-such-conn" in r.json()["detail"]
    r = _get(client, viewer, source="service", selector=f"{docker_conn}/lgs-no-such-service")
    assert r.status_code == 404 and "lgs-no-such-service" in r.json()["detail"]
    r = _get(client, viewer, source="service", selector=service)
    assert r.status_code == 422 and "<connection>/<service>" in r.json()["detail"]
    r = _get(client, viewer, source="service", selector=sel, limit=10001)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
    r = _get(client, viewer, source="job", selector="abc")
    assert r.status_code == 422
    # a remote connection's service is read through that connection, never from the local engine
    r = _get(client, viewer, source="service", selector=f"{remote_conn}/{service}")
    assert r.status_code == 503 and remote_conn in r.json()["detail"]
    assert client.get("/api/logs", params={"source": "service", "selector": sel}).status_code == 401


def test_a_service_through_portainer_reads_the_same_lines(client, viewer, service, docker_conn, portainer_conn):
    direct = _get(client, viewer, source="service", selector=f"{docker_conn}/{service}").json()["lines"]
    proxied = _get(client, viewer, source="service", selector=f"{portainer_conn}/1:{service}")
    assert proxied.status_code == 200, proxied.text
    assert proxied.json()["lines"] == direct and len(direct) == REPLICAS * (2 * LINES + 1)
    r = _get(client, viewer, source="service", selector=f"{portainer_conn}/{service}")
    assert r.status_code == 422 and "<endpoint id>:<service name>" in r.json()["detail"]
