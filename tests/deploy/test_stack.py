"""Jarvis's own stack (deploy/stack.yml) on this machine's real Swarm, through its published port.

One deployment is shared by every test here (the `stack` fixture in conftest.py); the tests run
in file order, each leaving the stack healthy for the next. What cannot run here is changed by
tests/deploy/stack.override.yml, which says why for each part. Fault figures (failed requests,
failover time, jobs lost or run twice) are collected in `stack.figures` and written out at the
end (JARVIS_E2E_FIGURES, default /tmp/jarvis-e2e-figures.json).
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.deploy import fullstack as fs
from tests.deploy.fullstack import wait_for

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]
FINAL = ("success", "error", "canceled", "timeout")


def _run(stack, replica, runbook: str, **inputs) -> int:
    with stack.http(replica) as c:
        res = c.post(f"/api/runbooks/{runbook}/execute", json={"input": inputs})
    assert res.status_code == 202, res.text
    return res.json()["id"]


def _job(stack, job_id: int) -> dict:
    replica = stack.api_replicas()[0]
    with stack.http(replica) as c:
        res = c.get(f"/api/jobs/{job_id}")
    assert res.status_code == 200, res.text
    return res.json()


def _final(stack, job_id: int, timeout: float = 180) -> dict:
    return wait_for(lambda: (j := _job(stack, job_id))["status"] in FINAL and j, timeout, f"job {job_id} final")


def _claims(stack, job_id: int) -> list[dict]:
    """Every `job.claimed` line of the worker service's logs for this job."""
    out = []
    for line in stack.logs("worker").splitlines():
        if '"job.claimed"' in line:
            rec = json.loads(line[line.index("{"):])
            if rec.get("job_id") == job_id:
                out.append(rec)
    return out


def _successes(job: dict) -> int:
    return sum(1 for s in job["steps"] if s["status"] == "success")


def test_every_service_is_healthy_and_migrations_ran_once(stack):
    for svc in stack.services():
        assert stack.service_ready(svc), svc.name
    logs = {name: stack.logs(name) for name in ("migrate", "api", "worker", "controller")}
    applied = logs["migrate"].count("(upgraded from") + sum(text.count('"db.migrated"') for text in logs.values())
    seen = [line for text in logs.values() for line in text.splitlines() if "revision" in line or "migrat" in line]
    assert applied == 1, f"the schema must be migrated by exactly one process of the deployment: {seen[:20]}"


def test_a_second_deploy_of_the_same_stack_changes_nothing(stack):
    before = {s.name: (json.dumps(s.attrs["Spec"], sort_keys=True), {t["ID"] for t in s.tasks()})
              for s in stack.services()}
    out = stack.deploy()
    assert "Creating service" not in out
    after = {s.name: (json.dumps(s.attrs["Spec"], sort_keys=True), {t["ID"] for t in s.tasks()})
             for s in stack.services()}
    assert set(after) == set(before)
    for name in before:
        assert after[name][0] == before[name][0], f"{name}: its spec changed"
        assert after[name][1] == before[name][1], f"{name}: tasks were replaced"


def test_login_connection_source_runbook_and_live_log_through_another_replica(stack):
    a, b = stack.api_replicas()[:2]
    with stack.http(a) as ca, stack.http(b) as cb:
        me_a, me_b = ca.get("/api/auth/me"), cb.get("/api/auth/me")
        assert me_a.status_code == me_b.status_code == 200
        instance_a, instance_b = me_a.headers["x-jarvis-instance"], me_b.headers["x-jarvis-instance"]
        assert instance_a != instance_b and a.container_id.startswith(instance_a)
        conn = ca.post("/api/connections", json={"name": "prod-swarm", "type": "docker",
                                                 "config": {"base_url": "unix:///var/run/docker.sock"}})
        assert conn.status_code == 201, conn.text
        src = ca.post("/api/sources", json={"name": "jarvis-self", "url": "/e2e/repo", "branch": "main",
                                            "paths": ["examples/jarvis-self/orch.yaml"], "poll_interval": 3600})
        assert src.status_code == 201, src.text
        stack.figures["source_id"] = src.json()["id"]
        assert cb.get("/api/connections").json()[0]["name"] == "prod-swarm"   # one database behind both

    # a runbook that uses the connection, queued through A, run by a worker
    logs_job = _run(stack, a, "swarm-logs", connection="prod-swarm", service="jarvis_redis", lines=5)
    done = _final(stack, logs_job)
    assert done["status"] == "success", done
    workers = {stack.container(t)[:12] for t in stack.running_tasks("worker")}
    claims = _claims(stack, logs_job)
    assert len(claims) == 1 and claims[0]["worker"].split(":")[0] in workers

    # a longer one queued through A, its live log watched through B
    job_id = _run(stack, a, "e2e-ticks", seconds=4)
    frames, events = [], []
    url = f"ws://127.0.0.1:{b.port}/ws/jobs/{job_id}?token={stack.token}"
    with connect(url, open_timeout=10) as ws:
        assert ws.response.headers["x-jarvis-instance"] == instance_b
        while True:
            frame = json.loads(ws.recv(timeout=60))
            frames.append(frame)
            if frame["type"] == "events":
                events += frame["events"]
            if frame["type"] == "end":
                break
    assert frame["status"] == "success"
    counters = [e["counter"] for e in events]
    assert counters == sorted(set(counters)) and counters[-1] == frame["last_counter"]
    assert any(f["type"] == "events" for f in frames[:-1]), "events arrived while the job ran"
    assert sum(1 for e in events if e.get("task") == "tick" and e["type"] == "runner_item_on_ok") == 4


@pytest.mark.xfail(strict=True, reason="the repository is read now (../../deploy/stack.yml, a checkout owned by "
                                       "another uid), but the controller's environment lacks the stack's variables "
                                       "(JARVIS_DOMAIN, ACME_EMAIL) and the test deployment's override differs from "
                                       "deploy/stack.yml, so the plan is an error, not an empty plan (issue 18)")
def test_jarvis_self_plans_no_changes_against_the_running_stack(stack):
    source_id = stack.figures["source_id"]
    replica = stack.api_replicas()[0]
    with stack.http(replica) as c:
        before = c.get(f"/api/sources/{source_id}/history").json()
        assert c.post(f"/api/sources/{source_id}/sync").status_code == 202
        run = wait_for(lambda: (h := c.get(f"/api/sources/{source_id}/history").json()) and len(h) > len(before)
                       and h[0]["finished_at"] and h[0], 120, "the sync asked for")
        assert run["result"] == "ok", (run["error"], run["result_text"])
        assert run["plan_ids"] == [], run          # nothing to change: no plan waits for approval
        items = c.get("/api/drift", params={"source_id": source_id}).json()["items"]
    # every service of deploy/stack.yml was read through ../../deploy/stack.yml and found as deployed
    assert items and {i["target"] for i in items} == {"swarm:prod-swarm"}, items
    assert {i["status"] for i in items} == {"in_sync"}, [(i["resource"], i["status"], i["error"])
                                                         for i in items if i["status"] != "in_sync"]


def test_rolling_the_api_to_a_new_image_fails_no_request(stack):
    fs.run("docker", "build", "-q", "-t", f"{fs.IMAGE}-rolled", "-", input=f"FROM {fs.IMAGE}\nLABEL jarvis.e2e=rolled\n")
    results: list[tuple[str, bool]] = []
    updating = threading.Event()
    updating.set()

    def roll():
        try:
            fs.run("docker", "service", "update", "--quiet", "--image", f"{fs.IMAGE}-rolled",
                   "--update-order", "start-first", f"{fs.STACK}_api", timeout=600)
        finally:
            updating.clear()

    roller = threading.Thread(target=roll)
    roller.start()
    i = 0
    # the load loop routes as Traefik does: to running, healthy tasks Swarm has not told to stop
    while updating.is_set() or len(results) < 20:
        replicas = stack.api_replicas()
        if not replicas:
            results.append(("no replica", False))
            continue
        r = replicas[i % len(replicas)]
        i += 1
        try:
            with stack.http(r, timeout=10) as c:
                res = c.get("/api/auth/me")
            results.append((res.headers.get("x-jarvis-instance", ""), res.status_code == 200))
        except httpx.HTTPError as exc:
            results.append((repr(exc), False))
    roller.join()
    failed = [r for r in results if not r[1]]
    stack.figures["rolling_update"] = {"requests": len(results), "failed": len(failed)}
    assert not failed, failed[:5]
    new = {t["Status"]["ContainerStatus"]["ContainerID"][:12] for t in stack.running_tasks("api")}
    assert {inst for inst, _ in results[-10:]} <= new, "the last requests were served by the new tasks"
    for t in stack.running_tasks("api"):
        assert t["Spec"]["ContainerSpec"]["Image"].startswith(f"{fs.IMAGE}-rolled")


def test_killing_the_leading_controller_hands_the_lead_over(stack):
    lease = int(stack.service("controller").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
                [[e.split("=")[0] for e in stack.service("controller").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]]
                 .index("JARVIS_LEADER_LEASE_SECONDS")].split("=")[1])
    holder = wait_for(lambda: fs.psql(stack, "select holder from leases where name = 'controller' and expires_at > now() at time zone 'utc'"),
                      30, "a leader")
    leader = next(t for t in stack.running_tasks("controller") if stack.container(t).startswith(holder.split(":")[0]))
    killed_at = time.monotonic()
    fs.run("docker", "kill", stack.container(leader))
    new_holder = wait_for(
        lambda: (h := fs.psql(stack, "select holder from leases where name = 'controller'")) and
        h.split(":")[0] != holder.split(":")[0] and h, 2 * lease + 5, "another controller leading")
    stack.figures["failover_s"] = round(time.monotonic() - killed_at, 1)
    stack.figures["leader_lease_s"] = lease
    assert new_holder
    # and it reconciles: a sync asked for now is run by the new leader
    source_id = stack.figures["source_id"]
    replica = stack.api_replicas()[0]
    with stack.http(replica) as c:
        before = c.get(f"/api/sources/{source_id}/history").json()
        assert c.post(f"/api/sources/{source_id}/sync").status_code == 202
        wait_for(lambda: (h := c.get(f"/api/sources/{source_id}/history").json()) and len(h) > len(before)
                 and h[0]["finished_at"], 60, "a sync by the new leader")
    stack.wait_healthy()


def test_killing_a_worker_mid_job_retries_it_once(stack):
    replica = stack.api_replicas()[0]
    job_id = _run(stack, replica, "e2e-ticks", seconds=15)
    wait_for(lambda: _job(stack, job_id)["last_counter"] >= 4, 60, "the job part-way")
    host = _claims(stack, job_id)[-1]["worker"].split(":")[0]
    worker = next(t for t in stack.running_tasks("worker") if stack.container(t).startswith(host))
    fs.run("docker", "kill", stack.container(worker))
    done = _final(stack, job_id, timeout=240)
    # its retry policy (runbook.yaml: max_attempts 2 on interrupted) runs it again, once
    assert done["status"] == "success" and done["attempt"] == 2, done
    by_attempt = {s["attempt"]: s["status"] for s in done["steps"]}
    assert by_attempt == {1: "error", 2: "success"}, done["steps"]
    claims = _claims(stack, job_id)
    assert sorted(c["attempt"] for c in claims) == [1, 2], "each attempt claimed once, by one worker"
    stack.figures["worker_kill"] = {"lost": 0 if done["status"] in FINAL else 1,
                                    "run_twice": max(0, _successes(done) - 1)}
    stack.wait_healthy()


def _fault_jobs(stack, fault: str, restart_service: str, probe_503: bool, count: int) -> list[dict]:
    """`count` jobs queued (more than the workers' 4 slots: some wait in the queue), then a restart."""
    replica = stack.api_replicas()[0]
    jobs = [_run(stack, replica, "e2e-ticks", seconds=3) for _ in range(count)]
    statuses: list[int] = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            for r in stack.api_replicas() or []:
                try:
                    with stack.http(r, timeout=5) as c:
                        statuses.append(c.get("/api/auth/me").status_code)
                except httpx.HTTPError:
                    statuses.append(0)
            time.sleep(0.1)   # pacing of the probe loop, not a wait for a condition

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    fs.run("docker", "service", "update", "--quiet", "--force", f"{fs.STACK}_{restart_service}", timeout=300)
    stack.wait_healthy()
    wait_for(lambda: statuses and statuses[-1] == 200, 120, "the API answering again")
    stop.set()
    prober.join()
    done = [_final(stack, j, timeout=240) for j in jobs]
    stack.figures[fault] = {"jobs": len(jobs), "lost": sum(1 for d in done if d["status"] not in FINAL),
                            "run_twice": sum(1 for d in done if _successes(d) > 1),
                            "api_statuses": sorted(set(statuses))}
    # down means 503 (with Retry-After), never a 500 or a refused connection
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    if probe_503:
        assert 503 in statuses, "the API answers 503 while the database is down"
    for d in done:
        assert _successes(d) <= 1, d
        assert d["status"] == "success" or d["reason"].endswith("interrupted"), d
    return done


def test_restarting_postgres_answers_503_then_recovers_losing_no_job(stack):
    _fault_jobs(stack, "postgres_restart", "postgres", probe_503=True, count=4)


def test_restarting_redis_runs_every_queued_job_once(stack):
    done = _fault_jobs(stack, "redis_restart", "redis", probe_503=False, count=8)
    assert all(d["status"] == "success" and d["attempt"] == 1 for d in done), done
