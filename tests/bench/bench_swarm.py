"""Swarm reconciler benchmarks against the real engine (`python -m tests.bench.bench_swarm`).

1. No-op reconcile of a 50-service stack: Jarvis observe+diff (engine write calls counted, must
   be 0) against `docker stack deploy` of the same file (what SwarmCD/Portainer run each interval).
2. One image change to converged: Jarvis plan + ansible step against `docker service update --image`.
3. Plan for 500 services across 50 manifests: observe + diff time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ansible_runner
import docker

from controller.contract import Scope
from controller.jobs import step_connection
from controller.plans import Plan
from reconcilers.swarm import SwarmReconciler
from reconcilers.swarm.apply import apply_change
from reconcilers.swarm.observe import observe_engine, read_engine

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def counting_client() -> tuple[docker.DockerClient, dict[str, int]]:
    """A client whose every HTTP request is counted by method (a requests response hook)."""
    client = docker.from_env()
    counts: dict[str, int] = {}

    def hook(resp, *args, **kwargs):
        counts[resp.request.method] = counts.get(resp.request.method, 0) + 1
    client.api.hooks["response"].append(hook)
    return client, counts


def compose_text(n: int, replicas: int) -> str:
    lines = ["services:"]
    for i in range(n):
        lines += [f"  s{i:03d}:", "    image: jarvis-test/sleep:1", f"    environment: {{IDX: '{i}'}}",
                  f"    deploy: {{replicas: {replicas}}}"]
    return "\n".join(lines) + "\n"


def plan_once(rec, client, manifest, scope, files):
    desired = rec.desired(manifest, scope, files)
    live = observe_engine(read_engine(client), scope, desired)
    return desired, rec.diff(desired, live, target="swarm:local", prune=True)


def converge(rec, client, manifest, scope, files):
    desired, changes = plan_once(rec, client, manifest, scope, files)
    for c in changes:
        data = desired.secrets.get(c.resource.split("/", 1)[1])
        result = apply_change(client, c.to_dict(), data, timeout=120)
        assert not result.get("failed"), result


def remove_stack(stack: str) -> None:
    subprocess.run(["docker", "stack", "rm", stack], capture_output=True)


def bench_noop(tmp: Path) -> None:
    path = tmp / "stack50.yml"
    path.write_text(compose_text(50, 0))
    files = {"stack50.yml": path.read_bytes()}
    rec, (client, counts) = SwarmReconciler(), counting_client()
    scope = Scope("bench", "benchj")
    converge(rec, client, {"name": "benchj", "compose": "stack50.yml"}, scope, files)
    subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", str(path), "benchc"],
                   check=True, capture_output=True)
    jarvis, cli = [], []
    writes = 0
    for _ in range(RUNS):
        counts.clear()
        t = time.perf_counter()
        _, changes = plan_once(rec, client, {"name": "benchj", "compose": "stack50.yml"}, scope, files)
        jarvis.append(time.perf_counter() - t)
        assert not changes, [c.resource for c in changes]
        writes += sum(v for k, v in counts.items() if k != "GET")
        t = time.perf_counter()
        subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", str(path), "benchc"],
                       check=True, capture_output=True)
        cli.append(time.perf_counter() - t)
    jm, cm = statistics.median(jarvis), statistics.median(cli)
    print(f"1. no-op reconcile, 50 services, {RUNS} runs: jarvis observe+diff median {jm * 1000:.0f} ms "
          f"({writes} engine write calls), docker stack deploy median {cm * 1000:.0f} ms, ratio {jm / cm:.3f} "
          f"(goal <= 0.2)")
    remove_stack("benchj")
    remove_stack("benchc")


def bench_image_change(tmp: Path) -> None:
    client = docker.from_env()
    rec = SwarmReconciler()
    scope = Scope("bench", "benchimg")
    client.api.create_service({"ContainerSpec": {"Image": "jarvis-test/sleep:1"}}, name="bench-cli-img")
    jarvis, cli = [], []
    images = ["jarvis-test/sleep:2", "jarvis-test/sleep:1"]
    converge(rec, client, {"name": "benchimg", "services": {"bench-j-img": "jarvis-test/sleep:1"}}, scope, {})
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    for i in range(RUNS):
        image = images[i % 2]
        t = time.perf_counter()
        desired, changes = plan_once(rec, client, {"name": "benchimg", "services": {"bench-j-img": image}}, scope, {})
        (step,) = rec.steps(Plan("swarm", tuple(changes)), _conn())
        with tempfile.TemporaryDirectory() as d:
            r = ansible_runner.run(private_data_dir=d, playbook=step.playbook, quiet=True,
                                   extravars={**step.vars, step_connection.VAR: step_connection.to_vars(_conn())})
        assert r.status == "successful", r.stdout.read()
        jarvis.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["docker", "service", "update", "--detach=false", "--quiet", "--image", image,
                        "bench-cli-img"], check=True, capture_output=True)
        cli.append(time.perf_counter() - t)
    jm, cm = statistics.median(jarvis), statistics.median(cli)
    print(f"2. one image change to converged, {RUNS} runs: jarvis plan+ansible step median {jm:.2f} s, "
          f"docker service update --image median {cm:.2f} s, ratio {jm / cm:.2f} (goal <= 1.5)")
    client.api.remove_service("bench-cli-img")
    client.api.remove_service("bench-j-img")


def bench_push_to_converged(tmp: Path) -> None:
    """Issue 5 bench 2 as a user lives it: a git commit, the controller's sync (what a webhook's
    stamp triggers), the plan, the apply job through the queue, the worker and ansible-runner, to
    converged — against `docker service update --image` on a service of its own, same run."""
    import textwrap

    from api.processes import jobs_service
    from controller import connections
    from controller.gitops.loop import sync_source
    from controller.runtime import Runtime
    from controller.store.models import Source
    from tests.conftest import make_settings
    from tests.support import pg
    from tests.support.gitserver import commit, make_repo
    from tests.support.jobs import wait_job

    client = docker.from_env()
    db_name = pg.create_database("jarvis_bench_swarm")
    rt = Runtime.start(make_settings(tmp / "data", pg.sqlalchemy_url(db_name)), first_admin=False)
    jobs = jobs_service(rt)
    jobs.start_worker()

    def manifest(image: str) -> str:
        return textwrap.dedent(f"""\
            apiVersion: jarvis/v1
            name: benchpush
            policy: {{sync: auto}}
            connections: {{swarm: local}}
            services:
              bench-push-web: {{image: {image}, replicas: 1}}
            """)

    try:
        with rt.db.session() as db:
            connections.create(db, rt.secrets, name="local", type="docker", environment="",
                               config={"base_url": "unix:///var/run/docker.sock"}, credentials={}, created_by="b")
        repo = tmp / "repo"
        make_repo(repo)
        commit(repo, {"orch.yaml": manifest("jarvis-test/sleep:1")}, "first")
        with rt.db.session() as db:
            src = Source(name="bench", url=str(repo), branch="main", paths=["orch.yaml"])
            db.add(src)
            db.flush()
            sid = src.id
        first = sync_source(rt, sid, "bench")
        assert wait_job(rt, first.job_ids[0], timeout=300).status == "success"
        client.api.create_service({"ContainerSpec": {"Image": "jarvis-test/sleep:1"}}, name="bench-cli-push")
        jarvis, cli = [], []
        for i in range(RUNS):
            image = ["jarvis-test/sleep:2", "jarvis-test/sleep:1"][i % 2]
            t = time.perf_counter()
            commit(repo, {"orch.yaml": manifest(image)}, f"image {image}")
            res = sync_source(rt, sid, "webhook")
            job = wait_job(rt, res.job_ids[0], timeout=300)
            assert job.status == "success", job.reason
            jarvis.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(["docker", "service", "update", "--detach=false", "--quiet", "--image", image,
                            "bench-cli-push"], check=True, capture_output=True)
            cli.append(time.perf_counter() - t)
        jm, cm = statistics.median(jarvis), statistics.median(cli)
        print(f"2b. push to converged (commit, sync, plan, queued apply job, worker, ansible-runner), {RUNS} runs: "
              f"jarvis median {jm:.2f} s, docker service update --image median {cm:.2f} s, ratio {jm / cm:.2f} "
              "(goal <= 1.5)")
    finally:
        for name in ("bench-cli-push", "bench-push-web"):
            try:
                client.api.remove_service(name)
            except docker.errors.APIError:
                pass
        rt.close()
        pg.drop_database(db_name)


def _conn():
    from controller.contract import ConnectionInfo
    return ConnectionInfo("local", "docker", config={"base_url": "unix:///var/run/docker.sock"})


def bench_500(tmp: Path) -> None:
    client = docker.from_env()
    rec = SwarmReconciler()
    manifests = []
    for m in range(50):
        scope = Scope("bench500", f"m{m:02d}")
        manifest = {"name": f"m{m:02d}", "services": {f"b500-m{m:02d}-s{i}": {"image": "jarvis-test/sleep:1",
                                                                               "replicas": 0} for i in range(10)}}
        desired = rec.desired(manifest, scope, {})
        for r in desired.resources:
            client.api._result(client.api._post_json(client.api._url("/services/create"),
                                                     data={**r.spec, "Name": r.name}), True)
        manifests.append((manifest, scope))
    times = []
    for _ in range(max(1, RUNS // 2)):
        t = time.perf_counter()
        total = 0
        for manifest, scope in manifests:
            _, changes = plan_once(rec, client, manifest, scope, {})
            total += len(changes)
        times.append(time.perf_counter() - t)
        assert total == 0
    raw_t = time.perf_counter()
    raw = read_engine(client)
    read_once = time.perf_counter() - raw_t
    t = time.perf_counter()
    for manifest, scope in manifests:
        rec.diff(rec.desired(manifest, scope, {}), observe_engine(raw, scope, rec.desired(manifest, scope, {})),
                 target="swarm:local", prune=True)
    shared = time.perf_counter() - t + read_once
    print(f"3. plan 500 services across 50 manifests: observe+diff per manifest (50 engine reads) median "
          f"{statistics.median(times):.2f} s; one shared engine read + 50 diffs {shared:.2f} s")
    for svc in client.api.services(filters={"label": "jarvis.source=bench500"}):
        client.api.remove_service(svc["ID"])


def main() -> None:
    subprocess.run(["sh", str(ROOT / "tests/infra/docker.sh")], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as d:
        bench_noop(Path(d))
        bench_image_change(Path(d))
        bench_push_to_converged(Path(d))
        bench_500(Path(d))


if __name__ == "__main__":
    main()
