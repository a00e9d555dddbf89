"""Benchmark: GET /api/containers against `docker ps` on the same engine, in the same run (issue 13, 2).

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_containers [--containers 200] [--stacks 20] [--samples 30]

Starts `--containers` real containers (jarvis-test/sleep:1) spread over `--stacks` compose-labelled
stacks of 2 services each, then times, `--samples` times each: the whole list route's work
(`containers_tree` over a docker connection to this host's engine: one list and one inspect per
container, grouped into environment → stack → service), the same through the HTTP route (TestClient,
PostgreSQL, a viewer's token), and `docker ps -a` (the CLI, a fresh process each time) plus the bare
Engine API list call it makes. Prints p50/p99 in ms. The containers are removed at the end.

The file name has no `test_` prefix so `pytest tests` does not collect it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker

from controller.contract import ConnectionInfo
from reconcilers.containers import containers_tree

LOCAL = ConnectionInfo(name="bench-local", type="docker", config={"base_url": "unix:///var/run/docker.sock"})


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def start(run: str, n: int, stacks: int) -> list[str]:
    def one(i: int) -> str:
        s = i % stacks
        return subprocess.run(
            ["docker", "run", "-d", "--name", f"{run}-{i}", "--label", f"com.docker.compose.project={run}-s{s}",
             "--label", f"com.docker.compose.service=svc{i % 2}", "--label", f"jarvis.bench={run}",
             "jarvis-test/sleep:1"], check=True, capture_output=True, text=True).stdout.strip()
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def http_list(samples: int) -> list[float]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from controller import connections
    from controller.accounts import users
    from controller.runtime import Runtime
    from tests.conftest import make_settings
    from tests.support import pg
    from tests.support.tokens import bearer_token

    name = pg.create_database()
    rt = Runtime.start(make_settings(Path(tempfile.mkdtemp(prefix="jarvis-bench-")), pg.sqlalchemy_url(name)),
                       first_admin=False)
    try:
        with rt.db.session() as s:
            connections.create(s, rt.secrets, name=LOCAL.name, type="docker", environment="bench",
                               config=dict(LOCAL.config), credentials={}, created_by="bench")
            uid = users.create(s, "bench@example.test", "bench-password-1", "viewer").id
        headers = {"Authorization": f"Bearer {bearer_token(rt, uid, 'viewer')}"}
        with TestClient(create_app(rt, background=False)) as client:
            assert client.get("/api/containers", headers=headers).status_code == 200
            return timed(lambda: client.get("/api/containers", headers=headers), samples)
    finally:
        rt.close()
        pg.drop_database(name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--containers", type=int, default=200)
    p.add_argument("--stacks", type=int, default=20)
    p.add_argument("--samples", type=int, default=30)
    a = p.parse_args(argv)
    run = f"bench{uuid.uuid4().hex[:6]}"
    ids = start(run, a.containers, a.stacks)
    api = docker.from_env().api
    try:
        total = len(api.containers(all=True))
        tree = containers_tree([LOCAL])
        mine = sum(st["containers"] for env in tree for st in env["stacks"] if (st["name"] or "").startswith(run))
        assert mine == a.containers, (mine, a.containers)
        rows = {
            "containers_tree (list + inspect each, grouped)": timed(lambda: containers_tree([LOCAL]), a.samples),
            "GET /api/containers (HTTP, auth, response model)": http_list(a.samples),
            "docker ps -a (CLI process)": timed(lambda: subprocess.run(["docker", "ps", "-a"], check=True,
                                                                       capture_output=True), a.samples),
            "Engine API GET /containers/json?all=1": timed(lambda: api.containers(all=True), a.samples),
        }
        print(f"{a.containers} bench containers in {a.stacks} stacks, {total} containers on the engine in all, "
              f"{a.samples} samples each")
        for label, values in rows.items():
            print(f"  {label:52s} p50 {statistics.median(values):8.1f} ms   p99 {pct(values, 99):8.1f} ms")
    finally:
        for i in range(0, len(ids), 50):
            subprocess.run(["docker", "rm", "-f", *ids[i:i + 50]], capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
