"""Benchmark: GET /api/auth/me under 50 concurrent clients for 20 s, on PostgreSQL.

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_auth_me [--runs 3] [--duration 20] [--clients 50] [--tool auto]

Starts a throwaway PostgreSQL database (tests/support/pg.py), runs `jarvis serve` as a
subprocess against it (embedded, so the key is generated; no worker, no controller; the
general per-token limit raised so it does not interfere), adds a user with `jarvis user add`,
logs in, and loads `GET /api/auth/me` with that token. The load tool is `wrk` (`--latency`
gives the percentiles) when it is installed, otherwise an httpx/asyncio client in this process.
Prints requests/s, median and p99 latency and errors per run, then the median of the runs.
The file name has no `test_` prefix so `pytest tests` does not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import pg
from tests.support.jarvis_server import JarvisServer

EMAIL = "bench@example.com"
PASSWORD = "bench-Password-4711-long"   # passes the strength check


@dataclass
class Result:
    tool: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def login(url: str) -> str:
    r = httpx.post(f"{url}/api/auth/login", json={"email": EMAIL, "password": PASSWORD, "remember_me": False},
                   timeout=30)
    r.raise_for_status()
    return r.json()["access_token"]


# ---- load tools ----------------------------------------------------------------------------

def run_wrk(url: str, token: str, clients: int, duration: int) -> Result:
    threads = max(1, min(clients, os.cpu_count() or 1))
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--latency", "--timeout", "10s",
                          "-H", f"Authorization: Bearer {token}", f"{url}/api/auth/me"],
                         capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Result:
    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise ValueError(f"no {pct}% line in wrk output:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    total = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Result("wrk", total, rps, latency("50"), latency("99"), errors)


def run_httpx(url: str, token: str, clients: int, duration: int) -> Result:
    return asyncio.run(_httpx_load(url, token, clients, duration))


async def _httpx_load(url: str, token: str, clients: int, duration: int) -> Result:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=10) as client:
        end = time.perf_counter() + duration

        async def one_client() -> None:
            nonlocal errors
            while (start := time.perf_counter()) < end:
                try:
                    r = await client.get("/api/auth/me")
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - start) * 1000)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result("httpx", len(latencies) + errors, (len(latencies) + errors) / elapsed,
                  statistics.median(latencies) if latencies else 0.0, q[98], errors)


# ---- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20, help="seconds per run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--keep-log", action="store_true", help="print the server log's tail at the end")
    args = parser.parse_args(argv)
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    load = run_wrk if tool == "wrk" else run_httpx

    db_name = pg.create_database("jarvis_bench")
    tmp = Path(tempfile.mkdtemp(prefix="jarvis-bench-"))
    server = JarvisServer(pg.sqlalchemy_url(db_name), tmp)
    try:
        server.start()
        server.jarvis("user", "add", "--email", EMAIL, "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
        token = login(server.url)
        load(server.url, token, args.clients, 2)   # warm-up: connections, pools, caches
        print(f"GET /api/auth/me, {args.clients} clients, {args.duration}s per run, tool {tool}, "
              f"{os.cpu_count()} CPUs, PostgreSQL", flush=True)
        results = []
        cpu_per_request = []
        for i in range(args.runs):
            cpu_before = server.cpu_seconds()
            r = load(server.url, token, args.clients, args.duration)
            cpu_per_request.append((server.cpu_seconds() - cpu_before) * 1000 / max(r.requests, 1))
            results.append(r)
            print(f"  run {i + 1}: {r.rps:8.1f} req/s   median {r.p50_ms:7.2f} ms   p99 {r.p99_ms:7.2f} ms   "
                  f"errors {r.errors} of {r.requests}   server CPU {cpu_per_request[-1]:.2f} ms/request",
                  flush=True)
        med = lambda f: statistics.median(getattr(r, f) for r in results)  # noqa: E731
        print(f"  median of {len(results)} runs: {med('rps'):.1f} req/s   median {med('p50_ms'):.2f} ms   "
              f"p99 {med('p99_ms'):.2f} ms   errors {sum(r.errors for r in results)}   "
              f"server CPU {statistics.median(cpu_per_request):.2f} ms/request")
        print(f"  load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        if args.keep_log:
            print(server.log_tail())
    finally:
        server.stop()
        pg.drop_database(db_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
