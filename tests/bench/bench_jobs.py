"""Benchmark: the jobs engine — event pipeline, job overhead, throughput (issue 3).

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_jobs [--runs 3] [--events 20000] [--clients 50]
        [--jobs 200] [--workers 4] [--queue memory|redis|both] [--only sink,events,overhead,throughput]

Starts a throwaway PostgreSQL database and `jarvis serve` (embedded, uvicorn) as a subprocess
whose catalog includes the runbooks in tests/bench/runbooks/, then measures:

1. Event pipeline.
   a. `sink`: 20,000 synthetic events through `controller.jobs.events.EventSink` in this process
      (batched inserts into PostgreSQL, then publish on a MemoryBus to 50 in-process subscribers):
      the storage + publish path alone, without Ansible. Events stored/s, bus lag p50/p99.
   b. `ansible alone`: `ansible-playbook` on the same 20-loop playbook: the rate at which Ansible
      itself produces events — the ceiling for the end-to-end figure.
   c. `events`: one `bench-events` job emitting 20,000 events through the API, watched by 50 real
      WebSocket clients (`websockets`). Events stored/s (the job's `last_counter` sampled every
      100 ms), delivery lag p50/p99 (receive time − the event's `created`, stamped by Ansible when
      it made the event, so the lag covers runner → batch insert → bus → WebSocket), and events
      lost or repeated: every client must receive counters 1..N exactly once (a client told to
      resume reconnects from its cursor, as the UI does; resumes are counted).
   Reference: AWX throttles WebSocket delivery to about 30 events/s per job and its UI shows at
   most 4,000 events. Goal: ≥ 5,000 events/s stored, lag p99 < 250 ms.
2. Job overhead: a one-task playbook (`bench-one`) through the API (POST execute, then the
   WebSocket until `end`) against `ansible-playbook` on the same playbook, interleaved in the same
   run. Goal: ratio of medians ≤ 1.3.
3. Throughput: 200 `bench-one` jobs posted at once, 4 workers: jobs/s from the first POST to the
   last job final. `--queue memory`: the in-process queue with one worker of concurrency 4 (the
   embedded mode); `--queue redis`: a private redis-server and four `jarvis worker --concurrency 1`
   processes (the full stack).

Each figure is the median of `--runs` runs. Prints the load average: the figures depend on what
else runs on the machine. The file name has no `test_` prefix so `pytest tests` does not collect it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import websockets

from tests.bench.bench_auth_me import EMAIL, PASSWORD, login
from tests.support import pg
from tests.support.jarvis_server import JarvisServer, jarvis_bin
from tests.support.redis_server import RedisServer

RUNBOOKS = Path(__file__).resolve().parent / "runbooks"
EVENTS_PLAYBOOK = RUNBOOKS / "bench-events" / "playbook.yml"
ONE_PLAYBOOK = RUNBOOKS / "bench-one" / "playbook.yml"
LOOPS = 20          # debug loops in bench-events/playbook.yml
FINAL = ("success", "error", "canceled", "timeout")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def med(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def dsn(db_name: str) -> str:
    return f"{pg.ADMIN_DSN.rsplit('/', 1)[0]}/{db_name}"


# ---- 1a. EventSink alone ---------------------------------------------------------------------

def bench_sink(db_url: str, data_dir: Path, events: int, subscribers: int, rate: float | None) -> dict:
    """Synthetic events through EventSink (PostgreSQL inserts + MemoryBus fan-out to `subscribers`).

    `rate` None: added as fast as possible (the storage capacity). A rate: added in 10 ms slices at
    that many events/s, so the bus lag is the pipeline's, not a backlog of events added at once.
    """
    from controller.jobs.bus import MemoryBus
    from controller.jobs.events import EventSink
    from controller.runtime import Runtime
    from controller.settings import Settings
    from controller.store.models import Job

    settings = Settings(data_dir=data_dir, database_url=db_url, embedded=True, log_json=False,
                        examples_source=False, run_controller=False, run_worker=False,
                        secret_key="bench-signing-key-" + "k" * 40)
    rt = Runtime.start(settings, first_admin=False)
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, daemon=True)
    loop_thread.start()
    try:
        with rt.db.session() as s:
            job = Job(runbook="bench-sink", status="running")
            s.add(job)
            s.flush()
            job_id = job.id
        bus = MemoryBus()
        lags: list[float] = []
        got = [0] * subscribers
        done = asyncio.Event()

        async def consume(i: int, sub) -> None:
            while got[i] < events:
                msg = await sub.get()
                if msg.get("type") == "events":
                    now = time.time()
                    for ev in msg["events"]:
                        got[i] += 1
                        lags.append((now - dt.datetime.fromisoformat(ev["created"]).timestamp()) * 1000)
            if all(g >= events for g in got):
                done.set()
        if subscribers == 0:
            done.set()

        async def setup():
            for i in range(subscribers):
                sub = await bus.subscribe(job_id, lambda: None, events + 10)
                asyncio.get_running_loop().create_task(consume(i, sub))

        asyncio.run_coroutine_threadsafe(setup(), loop).result()
        sink = EventSink(rt.db, bus, job_id, 0, flush_count=settings.event_flush_count,
                         flush_ms=settings.event_flush_ms)
        began = time.perf_counter()
        for n in range(events):
            if rate and n % max(1, int(rate / 100)) == 0:
                delay = began + n / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            sink.add({"event": "runner_item_on_ok", "uuid": f"u{n}", "host": "localhost", "task": "loop",
                      "stdout": f"ok: [localhost] => (item={n}) => {{\"msg\": \"item {n}\"}}",
                      "created": dt.datetime.now(dt.UTC).isoformat(),
                      "event_data": {"host": "localhost", "task": "loop", "res": {"msg": f"item {n}"}}},
                     "bench")
        added = time.perf_counter() - began
        sink.close()
        stored = time.perf_counter() - began
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(done.wait(), 120), loop).result()
        with psycopg.connect(rt.settings.sqlalchemy_url.replace("postgresql+psycopg", "postgresql")) as c:
            count = c.execute("select count(*) from job_events where job_id = %s", (job_id,)).fetchone()[0]
        return {"events": count, "add_rate": events / added, "stored_rate": events / stored,
                "lag_p50": pct(lags, 50), "lag_p99": pct(lags, 99), "delivered": sum(got)}
    finally:
        loop.call_soon_threadsafe(loop.stop)
        rt.close()


# ---- 1b. Ansible alone -----------------------------------------------------------------------

def ansible_env() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", "ANSIBLE_GATHERING": "explicit",
            "ANSIBLE_NOCOWS": "1", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": "auto_silent"}


def run_ansible(playbook: Path, inventory: Path, extravars: dict) -> float:
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory),
                    "-e", json.dumps(extravars), str(playbook)], env=ansible_env(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
    return time.perf_counter() - began


# ---- 1c. the job, watched by 50 WebSocket clients --------------------------------------------

@dataclass
class Watch:
    counters: list[int] = field(default_factory=list)
    lags_ms: list[float] = field(default_factory=list)
    end: dict | None = None
    resumes: int = 0


async def watch(ws_url: str, token: str, job_id: int, started: asyncio.Event | None = None) -> Watch:
    out, after = Watch(), 0
    headers = {"Authorization": f"Bearer {token}"}
    while out.end is None:
        async with websockets.connect(f"{ws_url}/ws/jobs/{job_id}?after={after}", additional_headers=headers,
                                      max_size=None, max_queue=None) as ws:
            if started is not None:
                started.set()
                started = None
            async for raw in ws:
                now = time.time()
                msg = json.loads(raw)
                kind = msg["type"]
                if kind == "events":
                    for ev in msg["events"]:
                        out.counters.append(ev["counter"])
                        out.lags_ms.append((now - dt.datetime.fromisoformat(ev["created"]).timestamp()) * 1000)
                        after = ev["counter"]
                elif kind == "end":
                    out.end = msg
                    break
                elif kind == "resume":
                    out.resumes += 1
                    after = msg["after"]
                    break
                elif kind == "error":
                    raise RuntimeError(f"WebSocket refused: {msg}")
    return out


class CounterSampler:
    """Samples the job's stored `last_counter` every 100 ms: the stored-events curve."""

    def __init__(self, conninfo: str, job_id: int) -> None:
        self.conninfo, self.job_id = conninfo, job_id
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as c:
            while not self._stop.is_set():
                row = c.execute("select last_counter, status from jobs where id = %s", (self.job_id,)).fetchone()
                self.samples.append((time.perf_counter(), row[0]))
                if row[1] in FINAL:
                    return
                self._stop.wait(0.1)

    def start(self) -> CounterSampler:
        self._thread.start()
        return self

    def join(self) -> None:
        self._thread.join(timeout=60)
        self._stop.set()

    def rate(self) -> float:
        """Events stored per second, from the first stored event to the last."""
        nonzero = [(t, n) for t, n in self.samples if n > 0]
        if len(nonzero) < 2:
            return float("nan")
        (t0, n0), (t1, n1) = nonzero[0], nonzero[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else float("nan")


async def events_run(server_url: str, token: str, conninfo: str, events: int, clients: int) -> dict:
    ws_url = server_url.replace("http://", "ws://")
    async with httpx.AsyncClient(base_url=server_url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as http:
        r = await http.post("/api/runbooks/bench-events/execute", json={"input": {"items": events // LOOPS}})
        r.raise_for_status()
        job_id = r.json()["id"]
    sampler = CounterSampler(conninfo, job_id).start()
    connected = [asyncio.Event() for _ in range(clients)]
    began = time.perf_counter()
    tasks = [asyncio.create_task(watch(ws_url, token, job_id, connected[i])) for i in range(clients)]
    await asyncio.gather(*(e.wait() for e in connected))
    connect_s = time.perf_counter() - began
    watches = await asyncio.gather(*tasks)
    await asyncio.to_thread(sampler.join)
    with psycopg.connect(conninfo) as c:
        status, last = c.execute("select status, last_counter from jobs where id = %s", (job_id,)).fetchone()
        stored = c.execute("select count(*) from job_events where job_id = %s", (job_id,)).fetchone()[0]
    expected = list(range(1, last + 1))
    lost = sum(len(set(expected) - set(w.counters)) for w in watches)
    repeated = sum(len(w.counters) - len(set(w.counters)) for w in watches)
    exact = sum(1 for w in watches if w.counters == expected and w.end and w.end["last_counter"] == last)
    lags = [x for w in watches for x in w.lags_ms]
    return {"job_id": job_id, "status": status, "stored": stored, "last": last, "rate": sampler.rate(),
            "lag_p50": pct(lags, 50), "lag_p99": pct(lags, 99), "lost": lost, "repeated": repeated,
            "exact_clients": exact, "resumes": sum(w.resumes for w in watches), "connect_s": connect_s}


# ---- 2. job overhead --------------------------------------------------------------------------

async def api_one_job(server_url: str, token: str) -> float:
    ws_url = server_url.replace("http://", "ws://")
    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=server_url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as http:
        r = await http.post("/api/runbooks/bench-one/execute", json={"input": {}})
        r.raise_for_status()
        job_id = r.json()["id"]
    w = await watch(ws_url, token, job_id)
    elapsed = time.perf_counter() - began
    if w.end["status"] != "success":
        raise RuntimeError(f"bench-one job {job_id} ended {w.end['status']}")
    return elapsed


# ---- 3. throughput ----------------------------------------------------------------------------

def throughput_run(server_url: str, token: str, conninfo: str, jobs: int) -> float:
    began = time.perf_counter()
    ids = []
    with httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for _ in range(jobs):
            r = http.post("/api/runbooks/bench-one/execute", json={"input": {}})
            r.raise_for_status()
            ids.append(r.json()["id"])
    with psycopg.connect(conninfo, autocommit=True) as c:
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            rows = c.execute("select status, count(*) from jobs where id = any(%s) group by status", (ids,)).fetchall()
            done = {s: n for s, n in rows if s in FINAL}
            if sum(done.values()) == jobs:
                elapsed = time.perf_counter() - began
                if done.get("success", 0) != jobs:
                    raise RuntimeError(f"throughput jobs did not all succeed: {done}")
                return jobs / elapsed
            time.sleep(0.1)
    raise RuntimeError("throughput jobs did not finish in 30 minutes")


# ---- main -------------------------------------------------------------------------------------

def start_stack(queue: str, db_name: str, tmp: Path, workers: int) -> tuple[JarvisServer, list, RedisServer | None]:
    env = {"JARVIS_RUNBOOK_PATHS": json.dumps([str(RUNBOOKS)]), "JARVIS_RUN_WORKER": "true",
           "JARVIS_WORKER_CONCURRENCY": str(workers), "JARVIS_LOG_LEVEL": "WARNING"}
    redis = None
    tmp.mkdir(parents=True, exist_ok=True)
    if queue == "redis":
        redis = RedisServer().start()
        env.update(JARVIS_REDIS_URL=redis.url, JARVIS_RUN_WORKER="false", JARVIS_WORKER_CONCURRENCY="1")
    server = JarvisServer(pg.sqlalchemy_url(db_name), tmp, env).start()
    procs = []
    if queue == "redis":
        for i in range(workers):
            log = open(tmp / f"worker-{i}.log", "wb")   # noqa: SIM115 (owned by the process)
            procs.append(subprocess.Popen([jarvis_bin(), "worker", "--concurrency", "1"], env=server.env,
                                          stdout=log, stderr=subprocess.STDOUT, cwd=tmp))
    return server, procs, redis


def stop_stack(server: JarvisServer, procs: list, redis: RedisServer | None) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    server.stop()
    if redis:
        redis.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sink-rate", type=float, default=5000, help="events/s offered in the paced sink run")
    parser.add_argument("--overhead-runs", type=int, default=7, help="jobs per side in the overhead comparison")
    parser.add_argument("--queue", choices=["memory", "redis", "both"], default="memory",
                        help="queue for the throughput run")
    parser.add_argument("--only", default="sink,ansible,events,overhead,throughput")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    print(f"jobs benchmark: {os.cpu_count()} CPUs, PostgreSQL, load average {os.getloadavg()[0]:.2f}", flush=True)

    db_name = pg.create_database("jarvis_bench")
    tmp = Path(tempfile.mkdtemp(prefix="jarvis-bench-jobs-"))
    inventory = tmp / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    conninfo = dsn(db_name)
    try:
        if "sink" in parts:
            rows, paced = [], []
            for i in range(args.runs):
                r = bench_sink(pg.sqlalchemy_url(db_name), tmp / "sink", args.events, 0, None)
                rows.append(r)
                p = bench_sink(pg.sqlalchemy_url(db_name), tmp / "sink", args.events, args.clients, args.sink_rate)
                paced.append(p)
                print(f"  sink run {i + 1}: unpaced {r['events']} stored at {r['stored_rate']:.0f} events/s "
                      f"(added at {r['add_rate']:.0f}/s); paced at {args.sink_rate:.0f}/s with {args.clients} bus "
                      f"subscribers: bus lag p50 {p['lag_p50']:.0f} ms p99 {p['lag_p99']:.0f} ms, "
                      f"{p['delivered']} delivered", flush=True)
            print(f"1a. EventSink alone, {args.events} events (median of {len(rows)}): "
                  f"{med(r['stored_rate'] for r in rows):.0f} events/s stored; at {args.sink_rate:.0f} events/s "
                  f"offered with {args.clients} bus subscribers, lag (created -> received) p50 "
                  f"{med(p['lag_p50'] for p in paced):.0f} ms p99 {med(p['lag_p99'] for p in paced):.0f} ms",
                  flush=True)
        if "ansible" in parts:
            rates = []
            for i in range(args.runs):
                secs = run_ansible(EVENTS_PLAYBOOK, inventory, {"input": {"items": args.events // LOOPS}})
                rates.append(args.events / secs)
                print(f"  ansible-playbook run {i + 1}: {args.events} item events in {secs:.1f} s = "
                      f"{rates[-1]:.0f} events/s", flush=True)
            print(f"1b. Ansible alone (ansible-playbook, same playbook, median of {len(rates)}): "
                  f"{med(rates):.0f} events/s — the ceiling for 1c", flush=True)

        server, procs, redis = start_stack("memory", db_name, tmp / "serve", args.workers)
        try:
            server.jarvis("user", "add", "--email", EMAIL, "--role", "operator", "--password-stdin",
                          stdin=PASSWORD + "\n")
            token = login(server.url)
            if "events" in parts:
                rows = []
                for i in range(args.runs):
                    r = asyncio.run(events_run(server.url, token, conninfo, args.events, args.clients))
                    rows.append(r)
                    print(f"  events run {i + 1}: job {r['job_id']} {r['status']}, {r['stored']} events stored at "
                          f"{r['rate']:.0f}/s, lag p50 {r['lag_p50']:.0f} ms p99 {r['lag_p99']:.0f} ms, lost "
                          f"{r['lost']}, repeated {r['repeated']}, clients exact {r['exact_clients']}/{args.clients}, "
                          f"resumes {r['resumes']}, {args.clients} clients connected in {r['connect_s']:.2f} s",
                          flush=True)
                print(f"1c. Event pipeline through the API, {args.clients} WebSocket clients (median of {len(rows)}): "
                      f"{med(r['rate'] for r in rows):.0f} events/s stored, lag p50 {med(r['lag_p50'] for r in rows):.0f}"
                      f" ms p99 {med(r['lag_p99'] for r in rows):.0f} ms, events lost {sum(r['lost'] for r in rows)}, "
                      f"repeated {sum(r['repeated'] for r in rows)}. Reference: AWX ~30 events/s per job over "
                      f"WebSocket, UI shows at most 4,000 events. Goal: >= 5,000/s stored, p99 < 250 ms", flush=True)
            if "overhead" in parts:
                asyncio.run(api_one_job(server.url, token))          # warm-up: imports, pools
                run_ansible(ONE_PLAYBOOK, inventory, {"input": {}})
                api_s, cli_s = [], []
                for i in range(max(3, args.overhead_runs)):
                    api_s.append(asyncio.run(api_one_job(server.url, token)))
                    cli_s.append(run_ansible(ONE_PLAYBOOK, inventory, {"input": {}}))
                    print(f"  overhead run {i + 1}: API {api_s[-1]:.2f} s, ansible-playbook {cli_s[-1]:.2f} s",
                          flush=True)
                print(f"2. Job overhead (median of {len(api_s)}): API to success {med(api_s):.2f} s vs "
                      f"ansible-playbook {med(cli_s):.2f} s: ratio {med(api_s) / med(cli_s):.2f} (goal <= 1.3)",
                      flush=True)
            if "throughput" in parts and args.queue in ("memory", "both"):
                rates = []
                for i in range(args.runs):
                    rates.append(throughput_run(server.url, token, conninfo, args.jobs))
                    print(f"  throughput run {i + 1} (in-process queue, 1 worker x concurrency {args.workers}): "
                          f"{rates[-1]:.2f} jobs/s", flush=True)
                print(f"3. Throughput, {args.jobs} one-task jobs, in-process queue, worker concurrency "
                      f"{args.workers} (median of {len(rates)}): {med(rates):.2f} jobs/s", flush=True)
        finally:
            stop_stack(server, procs, redis)
        if "throughput" in parts and args.queue in ("redis", "both"):
            server, procs, redis = start_stack("redis", db_name, tmp / "serve-redis", args.workers)
            try:
                token = login(server.url)
                rates = []
                for i in range(args.runs):
                    rates.append(throughput_run(server.url, token, conninfo, args.jobs))
                    print(f"  throughput run {i + 1} (Redis stream, {args.workers} `jarvis worker --concurrency 1`): "
                          f"{rates[-1]:.2f} jobs/s", flush=True)
                print(f"3. Throughput, {args.jobs} one-task jobs, Redis queue, {args.workers} worker processes "
                      f"(median of {len(rates)}): {med(rates):.2f} jobs/s", flush=True)
            finally:
                stop_stack(server, procs, redis)
        print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    finally:
        pg.drop_database(db_name)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
