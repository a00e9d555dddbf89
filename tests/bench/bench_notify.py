"""Benchmark (issue 16, 2): an Alertmanager webhook → the incident stored → its notification received
by a signed webhook channel: p50 and p99 over 200 alerts.

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_notify [--runs 3] [--alerts 200]

Starts a throwaway PostgreSQL database and `jarvis serve` on it (embedded: the API, the worker and the
notification dispatcher in one process), adds an `alertmanager` connection, a `notify-webhook` channel to
a receiver on loopback in this process (which verifies each signature), and a rule sending
incident.opened to it with no de-duplication and no rate limit. Then, one alert at a time, POSTs
Alertmanager's webhook body (version 4, one firing alert with a fingerprint of its own) and times:
the answer (the incident is committed before Jarvis answers) and the receipt of its notification.
Prints p50/p99 of both per run, then the median of the runs. Not collected by pytest (no `test_` prefix).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.notifications.receivers import HttpReceiver
from tests.support import pg
from tests.support.jarvis_server import JarvisServer

EMAIL = "bench@example.com"
PASSWORD = "bench-Password-4711-long"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def alert(i: int, run: int) -> dict:
    return {"version": "4", "status": "firing", "receiver": "jarvis", "groupKey": "{}:{}", "truncatedAlerts": 0,
            "externalURL": "http://alertmanager.bench", "alerts": [{
                "status": "firing", "labels": {"alertname": f"Bench{run}x{i}", "instance": "node-1",
                                               "severity": "warning"},
                "annotations": {"summary": "benchmark alert"}, "startsAt": "2026-12-04T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph",
                "fingerprint": secrets.token_hex(8)}]}


def one_run(run: int, alerts: int) -> tuple[list[float], list[float], int]:
    name = pg.create_database("jarvis_bench_notify")
    data = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    server = JarvisServer(pg.sqlalchemy_url(name), data, extra_env={"JARVIS_LOG_LEVEL": "WARNING"})
    secret, token = secrets.token_hex(24), secrets.token_hex(32)
    receiver = HttpReceiver(secret=secret).start()
    try:
        server.start()
        server.jarvis("user", "add", "--email", EMAIL, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
        with httpx.Client(base_url=server.url, timeout=30) as c:
            login = c.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
            login.raise_for_status()
            h = {"Authorization": f"Bearer {login.json()['access_token']}"}
            for body in ({"name": "am", "type": "alertmanager", "environment": "prod", "config": {},
                          "credentials": {"token": token}},
                         {"name": "hook", "type": "notify-webhook", "environment": "prod",
                          "config": {"url": f"{receiver.url}/in"}, "credentials": {"secret": secret}}):
                c.post("/api/connections", headers=h, json=body).raise_for_status()
            c.post("/api/notifications/rules", headers=h, json={
                "name": "bench", "channel": "hook", "events": ["incident.opened"], "dedupe_seconds": 0,
                "max_per_hour": 0}).raise_for_status()
            am = {"Authorization": f"Bearer {token}"}
            c.post("/api/alerts/alertmanager", headers=am, json=alert(-1, run)).raise_for_status()   # warm-up
            receiver.wait(1, timeout=30)
            stored, received = [], []
            for i in range(alerts):
                t0 = time.perf_counter()
                r = c.post("/api/alerts/alertmanager", headers=am, json=alert(i, run))
                t1 = time.perf_counter()
                assert r.status_code == 200 and r.json()["opened"] == 1, r.text
                got = receiver.wait(i + 2, timeout=30)[i + 1]
                assert got.json()["title"].startswith(f"Incident opened: Bench{run}x{i} "), got.json()["title"]
                stored.append((t1 - t0) * 1000)
                received.append((got.at - t0) * 1000)
        bad = sum(1 for r in receiver.received if r.verified is not True)
        return stored, received, bad
    finally:
        receiver.stop()
        server.stop()
        pg.drop_database(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--alerts", type=int, default=200)
    args = ap.parse_args(argv)
    rows = []
    for run in range(args.runs):
        stored, received, bad = one_run(run, args.alerts)
        rows.append((pct(stored, 50), pct(stored, 99), pct(received, 50), pct(received, 99)))
        print(f"run {run + 1}: {args.alerts} alerts  webhook→incident stored p50 {rows[-1][0]:.1f} ms "
              f"p99 {rows[-1][1]:.1f} ms  webhook→notification received p50 {rows[-1][2]:.1f} ms "
              f"p99 {rows[-1][3]:.1f} ms  unverified signatures {bad}", flush=True)
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(f"median of {args.runs} runs: incident stored p50 {med[0]:.1f} ms p99 {med[1]:.1f} ms; "
          f"notification received p50 {med[2]:.1f} ms p99 {med[3]:.1f} ms  (load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
