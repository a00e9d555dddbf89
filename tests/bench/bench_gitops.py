"""Benchmark: the GitOps path — plan at scale, webhook to stored plan, a burst of pushes (issue 4).

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_gitops [--runs 3] [--manifests 1000] [--resources 10]
        [--repo-manifests 100] [--samples 10] [--pushes 1000] [--push-seconds 10]
        [--incremental-manifests 100,1000] [--only plan,webhook,burst,incremental]

1. Plan at scale: 1,000 manifests x 10 resources against live state with 1% drift. Each manifest
   is parsed (`parse_manifest`: YAML, pydantic, positions) and planned (`plan_manifest`: desired,
   observe, diff, ignore rules, Plan) with an in-memory reconciler (the filestore test reconciler
   whose `observe` returns live state prepared beforehand), so Jarvis's own work is timed, not I/O.
   Plan time is the median of `--runs`; peak memory is tracemalloc's peak over one more run (all
   plans kept alive) and the process's max RSS. Goal: under 1 s and under 300 MB.
2. Webhook to stored plan: a repository of 100 manifests served over HTTP by git's http-backend
   (tests/support/gitserver.py), a source on it with a webhook secret, the real API under uvicorn
   (embedded, PostgreSQL) and a leading `Controller` in this process. Each sample commits a change
   to one manifest, POSTs a signed push (real HMAC-SHA256) and waits for that manifest's plan row
   for the new revision; also the whole sync (100 plans) finished. p50/p99 per run, median of runs.
   Reference: Argo CD polls every 3 minutes, Flux every minute, SwarmCD every 2.
3. 1,000 pushes in 10 s to the same source (a commit and a signed webhook each): how many syncs
   ran (reconcile_runs rows, `Controller.syncs_started`) and the revision finally applied, which
   must be the last commit's sha, with no waiting plan for an older version of its manifest than
   the head's (a push re-plans only what it changed, so plans may carry older revisions).
4. A push reconciles only what it changed (issue 10 §5): for a repository of 100 and of 1,000
   manifests (`--incremental-manifests`), each run times a full sync of the repository ("sync
   now": every manifest parsed, observed and planned), then `--samples` signed pushes changing one
   manifest each: POST → that manifest's plan row stored, and POST → sync finished. Per size: the
   median over runs of the full sync and of the pushes' p50s, and the ratio one-manifest sync / full
   sync. Goal: ratio ≤ 0.1, and POST → stored plan p50 under 100 ms on 100 manifests.

The file name has no `test_` prefix so `pytest tests` does not collect it.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
import uuid
from pathlib import Path

import httpx
import psycopg

from controller.contract import ConnectionInfo, LiveState, Scope
from controller.gitops.planner import plan_manifest
from controller.manifests.loader import parse_manifest
from controller.plans import Resource
from tests.support import pg, plugins
from tests.support.gitserver import GitHttpServer, commit, make_repo
from tests.support.tokens import bearer_token

# the file-store test kind, pip-installed for this process: the server below finds it by its entry point
sys.path.insert(0, str(plugins.install(plugins.KINDS / "filestore",
                                       Path(tempfile.mkdtemp(prefix="jarvis-bench-kinds-")) / "site")))
from jarvis_test_filestore import FileStoreReconciler  # noqa: E402

CONN = "bench-fs"
SOURCE = "bench"
SECRET = "bench-webhook-secret-0123456789"
POLLS = "Argo CD polls every 3 min (180 s), Flux every 1 min (60 s), SwarmCD every 2 min (120 s)"


def manifest_text(i: int, resources: int, policy: str = "manual", variant: int = 0) -> str:
    stacks = "\n".join(f"  - {{name: m{i}-s{j}, endpoint: {'edge' if j == 0 and variant % 2 else 'prod'}, "
                       f"compose: compose-{j}.yml}}" for j in range(resources))
    return textwrap.dedent(f"""\
        apiVersion: jarvis/v1
        name: m{i}
        policy: {{sync: {policy}, prune: false}}
        connections: {{filestore: {CONN}}}
        """) + f"# variant {variant}\nfilestore:\n{stacks}\n"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


# ---- 1. plan at scale ------------------------------------------------------------------------

class PreparedStore(FileStoreReconciler):
    """The filestore reconciler with `observe` answering from prepared live state: no I/O timed."""

    kind = "memstore"

    def __init__(self, live: dict[str, LiveState] | None = None) -> None:
        super().__init__()
        self.live = live or {}

    def observe(self, connection: ConnectionInfo, scope: Scope, desired) -> LiveState:
        return self.live[scope.manifest]


def prepare_live(texts: dict[str, str], drift_every: int) -> tuple[dict[str, LiveState], int]:
    """Live state equal to the desired state except every `drift_every`-th resource (endpoint changed)."""
    r = PreparedStore()
    live, n, drifted = {}, 0, 0
    for path, text in texts.items():
        m = parse_manifest(text, path, known_connections={CONN}).manifest
        scope = Scope(source=SOURCE, manifest=m.name)
        out = []
        for res in r.desired(m, scope, {}).resources:
            spec = dict(res.spec)
            if n % drift_every == 0:
                spec["endpoint"] = "hand-edited"
                drifted += 1
            n += 1
            out.append(Resource(type=res.type, name=res.name, spec=spec, owned=True, id=res.name))
        live[m.name] = LiveState(resources=tuple(out), health={"target": f"memstore:{CONN}"})
    return live, drifted


def plan_all(texts: dict[str, str], reconciler: PreparedStore) -> tuple[list, float, float]:
    conn = ConnectionInfo(name=CONN, type="filestore", config={"root": "/nonexistent"})
    began = time.perf_counter()
    parsed = []
    for path, text in texts.items():
        result = parse_manifest(text, path, known_connections={CONN})
        if result.errors:
            raise RuntimeError(f"{path}: {result.errors[0]}")
        parsed.append((path, result.manifest))
    parse_s = time.perf_counter() - began
    plans = []
    for path, m in parsed:
        plans += plan_manifest(m, path=path, source=SOURCE, revision="0" * 40, reconcilers={"memstore": reconciler},
                               connection=lambda name: conn, files={})
    return plans, parse_s, time.perf_counter() - began


def bench_plan(runs: int, manifests: int, resources: int) -> None:
    texts = {f"apps/m{i}/orch.yaml": manifest_text(i, resources) for i in range(manifests)}
    live, drifted = prepare_live(texts, drift_every=100)
    reconciler = PreparedStore(live)
    plan_all(dict(list(texts.items())[:20]), reconciler)   # warm-up: imports, pydantic's validators
    totals, parses = [], []
    for i in range(runs):
        gc.collect()
        plans, parse_s, total_s = plan_all(texts, reconciler)
        changes = sum(len(tp.plan.changes) for tp in plans if tp.plan)
        errors = [tp.error for tp in plans if tp.error]
        if errors or changes != drifted:
            raise RuntimeError(f"plan found {changes} changes (expected {drifted}); errors: {errors[:3]}")
        totals.append(total_s)
        parses.append(parse_s)
        print(f"  plan run {i + 1}: {total_s:.3f} s (parse {parse_s:.3f} s, desired+observe+diff "
              f"{total_s - parse_s:.3f} s), {len(plans)} target plans, {changes} changes", flush=True)
        del plans
    gc.collect()
    tracemalloc.start()
    plans, _, _ = plan_all(texts, reconciler)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del plans
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"1. Plan at scale: {manifests} manifests x {resources} resources, {drifted} drifted "
          f"({drifted / (manifests * resources):.0%}): {statistics.median(totals):.3f} s (median of {runs}; parse "
          f"{statistics.median(parses):.3f} s), peak memory {peak / 2**20:.0f} MB traced, process max RSS "
          f"{maxrss_mb:.0f} MB. Goal: < 1 s, < 300 MB", flush=True)


# ---- the live stack for 2 and 3 --------------------------------------------------------------

class Stack:
    """PostgreSQL database, runtime, uvicorn serving the API, a leading Controller, a git HTTP server."""

    def __init__(self, tmp: Path, repo_manifests: int, resources: int) -> None:
        import uvicorn

        from api.app import create_app
        from controller import connections
        from controller.accounts import users
        from controller.gitops.service import Controller
        from controller.runtime import Runtime
        from controller.settings import Settings
        from tests.support.redis_server import free_port

        self.tmp = tmp
        self.db_name = pg.create_database("jarvis_bench")
        self.conninfo = f"{pg.ADMIN_DSN.rsplit('/', 1)[0]}/{self.db_name}"
        settings = Settings(data_dir=tmp / "data", database_url=pg.sqlalchemy_url(self.db_name), embedded=True,
                            log_json=False, log_level="WARNING", examples_source=False, run_controller=False,
                            run_worker=False, secret_key="bench-signing-key-" + "k" * 40,
                            requests_per_minute=10**9, drift_interval_seconds=3600)
        self.rt = Runtime.start(settings, first_admin=False)
        (tmp / "live").mkdir()
        self.repo_root = tmp / "served"
        self.repo = make_repo(self.repo_root / "app")
        self.texts = {f"apps/m{i}/orch.yaml": manifest_text(i, resources) for i in range(repo_manifests)}
        commit(self.repo, dict(self.texts), "initial")
        self.git = GitHttpServer(self.repo_root).start()
        self.url = self.git.url_for("app")
        with self.rt.db.session() as s:
            connections.create(s, self.rt.secrets, name=CONN, type="filestore", environment="bench",
                               config={"root": str(tmp / "live")}, credentials={}, created_by="bench")
            admin = users.create(s, "bench-admin@example.test", "bench-Password-4711-long", "admin")
            admin_id = admin.id
        token = bearer_token(self.rt, admin_id, "admin", 120)

        port = free_port()
        self.api = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.rt, background=False), host="127.0.0.1",
                                                    port=port, log_level="warning"))
        self.server_thread = threading.Thread(target=self.server.run, daemon=True)
        self.server_thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        self.http = httpx.Client(base_url=self.api, timeout=30)
        r = self.http.post("/api/sources", headers={"Authorization": f"Bearer {token}"},
                           json={"name": SOURCE, "url": self.url, "branch": "main", "paths": ["**/orch.yaml"],
                                 "poll_interval": 3600, "webhook_secret": SECRET})
        r.raise_for_status()
        self.source_id = r.json()["id"]
        self.ctl = Controller(self.rt).start()
        self.rt.services["controller"] = self.ctl   # as `start_controller` does: a push wakes it at once
        self.wait_idle(timeout=max(120, repo_manifests))

    def sql(self, query: str, *params):
        # one connection for the bench's own polling: a connection per poll would load the machine it times
        if getattr(self, "_sql", None) is None:
            self._sql = psycopg.connect(self.conninfo, autocommit=True)
        return self._sql.execute(query, params).fetchall()

    def wait_idle(self, timeout: float = 300) -> None:
        """No sync requested, none in flight, at least one finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stamp = self.sql("select sync_requested_at from sources where id = %s", self.source_id)[0][0]
            running = self.sql("select count(*) from reconcile_runs where source_id = %s and finished_at is null",
                               self.source_id)[0][0]
            done = self.sql("select count(*) from reconcile_runs where source_id = %s and finished_at is not null",
                            self.source_id)[0][0]
            if stamp is None and running == 0 and done > 0 and not self.ctl.in_flight:
                return
            time.sleep(0.05)
        raise RuntimeError("the controller did not become idle")

    def push(self, n: int) -> tuple[str, str]:
        """Commit a change to one manifest; returns (sha, path)."""
        i = n % len(self.texts)
        path = f"apps/m{i}/orch.yaml"
        resources = self.texts[path].count("- {name:")
        sha = commit(self.repo, {path: manifest_text(i, resources, variant=n + 1)}, f"push {n}")
        return sha, path

    def webhook(self, sha: str, path: str) -> httpx.Response:
        body = json.dumps({
            "ref": "refs/heads/main", "before": "0" * 39 + "1", "after": sha, "created": False, "deleted": False,
            "forced": False, "repository": {"full_name": "bench/app", "clone_url": self.url + ".git",
                                            "ssh_url": "git@127.0.0.1:bench/app.git", "html_url": self.url},
            "commits": [{"id": sha, "added": [], "removed": [], "modified": [path]}],
            "head_commit": {"id": sha}}).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        r = self.http.post("/api/webhooks/github", content=body, headers={
            "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature})
        if r.status_code != 202 or not r.json().get("sources"):
            raise RuntimeError(f"webhook answered {r.status_code}: {r.text}")
        return r

    def close(self) -> None:
        self.ctl.stop()
        self.server.should_exit = True
        self.server_thread.join(timeout=10)
        self.http.close()
        if getattr(self, "_sql", None) is not None:
            self._sql.close()
        self.git.stop()
        self.rt.close()
        pg.drop_database(self.db_name)


# ---- 2. webhook to stored plan -----------------------------------------------------------------

def bench_webhook(stack: Stack, runs: int, samples: int) -> None:
    per_run = []
    n = 0
    for run in range(runs):
        plan_ms, sync_ms = [], []
        for _ in range(samples):
            plan, sync, _summary = timed_push(stack, n)
            n += 1
            plan_ms.append(plan)
            sync_ms.append(sync)
        per_run.append((pct(plan_ms, 50), pct(plan_ms, 99), pct(sync_ms, 50), pct(sync_ms, 99)))
        print(f"  webhook run {run + 1}: {samples} pushes, POST -> plan row stored p50 {per_run[-1][0]:.0f} ms "
              f"p99 {per_run[-1][1]:.0f} ms; POST -> sync of all manifests finished p50 {per_run[-1][2]:.0f} ms "
              f"p99 {per_run[-1][3]:.0f} ms", flush=True)
    m = [statistics.median(r[k] for r in per_run) for k in range(4)]
    print(f"2. Webhook to stored plan, {len(stack.texts)} manifests over git http-backend (median of {runs} runs): "
          f"p50 {m[0]:.0f} ms, p99 {m[1]:.0f} ms (whole sync p50 {m[2]:.0f} ms, p99 {m[3]:.0f} ms). "
          f"Reference: {POLLS}", flush=True)


# ---- 3. a burst of pushes ----------------------------------------------------------------------

def bench_burst(stack: Stack, runs: int, pushes: int, seconds: float) -> None:
    results = []
    for run in range(runs):
        stack.wait_idle()
        first_run = stack.sql("select coalesce(max(id), 0) from reconcile_runs")[0][0]
        started_before = stack.ctl.syncs_started
        began = time.perf_counter()
        sha = ""
        for i in range(pushes):
            delay = began + i * seconds / pushes - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sha, path = stack.push(100_000 * (run + 1) + i)
            stack.webhook(sha, path)
        pushed_s = time.perf_counter() - began
        stack.wait_idle()
        settled_s = time.perf_counter() - began
        syncs = stack.sql("select count(*) from reconcile_runs where source_id = %s and id > %s",
                          stack.source_id, first_run)[0][0]
        applied = stack.sql("select last_revision from sources where id = %s", stack.source_id)[0][0]
        last_run = stack.sql("select revision, result from reconcile_runs where source_id = %s order by id desc "
                             "limit 1", stack.source_id)[0]
        plan_revs = {r[0] for r in stack.sql("select distinct revision from plans where source_id = %s and "
                                             "status = 'pending'", stack.source_id)}
        # a push re-plans only what it changed: a waiting plan may be for an older revision, but never for
        # an older version of its manifest than the one at the head
        stale = stack.sql("select count(*) from plans p join manifests a on a.source_id = p.source_id and "
                          "a.path = p.manifest_path and a.revision = p.revision join manifests h on "
                          "h.source_id = p.source_id and h.path = p.manifest_path and h.revision = %s "
                          "where p.source_id = %s and p.status = 'pending' and a.content <> h.content",
                          sha, stack.source_id)[0][0]
        ok = applied == sha and last_run[0] == sha and stale == 0 and bool(plan_revs)
        results.append((syncs, ok))
        print(f"  burst run {run + 1}: {pushes} pushes in {pushed_s:.1f} s, settled after {settled_s:.1f} s: "
              f"{syncs} syncs ran (Controller.syncs_started +{stack.ctl.syncs_started - started_before}), last "
              f"commit {sha[:12]}, source.last_revision {applied[:12]}, last sync {last_run[0][:12]} "
              f"({last_run[1]}), pending plans for {len(plan_revs)} revisions, {stale} for an outdated manifest: "
              f"{'the last commit is applied' if ok else 'NOT THE LAST COMMIT'}", flush=True)
    print(f"3. {pushes} pushes in {seconds:.0f} s to one source (median of {runs} runs): "
          f"{statistics.median(r[0] for r in results):.0f} syncs ran; final revision is the last commit's sha in "
          f"{sum(1 for r in results if r[1])}/{runs} runs", flush=True)


# ---- 4. a push reconciles only what it changed ----------------------------------------------------

def timed_push(stack: Stack, n: int) -> tuple[float, float, dict]:
    """(POST → plan row stored, POST → sync finished) in ms for a push changing one manifest, and the
    finished run's summary."""
    sha, path = stack.push(n)
    began = time.perf_counter()
    stack.webhook(sha, path)
    plan_at = sync_at = None
    deadline = time.monotonic() + 600
    while sync_at is None and time.monotonic() < deadline:
        if plan_at is None and stack.sql("select 1 from plans where source_id = %s and revision = %s and "
                                         "manifest_path = %s", stack.source_id, sha, path):
            plan_at = time.perf_counter()
        done = stack.sql("select summary from reconcile_runs where source_id = %s and revision = %s and "
                         "finished_at is not null", stack.source_id, sha)
        if done:
            sync_at = time.perf_counter()
            plan_at = plan_at or sync_at
            summary = done[0][0]
        else:
            time.sleep(0.002)
    if sync_at is None:
        raise RuntimeError(f"no sync of {sha} within 600 s")
    stack.wait_idle()
    return (plan_at - began) * 1000, (sync_at - began) * 1000, summary


def timed_full_sync(stack: Stack) -> tuple[float, dict]:
    """A "sync now" of the head revision (every manifest parsed, observed, planned): ms and its summary."""
    stack.wait_idle()
    last = stack.sql("select coalesce(max(id), 0) from reconcile_runs where source_id = %s", stack.source_id)[0][0]
    began = time.perf_counter()
    stack.sql("update sources set sync_requested_at = now(), sync_reason = 'manual' where id = %s returning id",
              stack.source_id)
    stack.ctl.tick()   # what the API's "sync now" stamp waits for at most one tick; not timed here
    deadline = time.monotonic() + 1200
    while time.monotonic() < deadline:
        done = stack.sql("select summary from reconcile_runs where source_id = %s and id > %s and "
                         "finished_at is not null", stack.source_id, last)
        if done:
            elapsed = (time.perf_counter() - began) * 1000
            stack.wait_idle()
            return elapsed, done[0][0]
        time.sleep(0.005)
    raise RuntimeError("the full sync did not finish within 1200 s")


def bench_incremental(sizes: list[int], runs: int, samples: int, resources: int) -> None:
    lines = []
    for size in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="jarvis-bench-incr-"))
        began = time.perf_counter()
        stack = Stack(tmp, size, resources)
        print(f"  {size} manifests x {resources} resources: first sync finished after "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        try:
            fulls, plan_p50s, sync_p50s = [], [], []
            n = 0
            for run in range(runs):
                full_ms, full_summary = timed_full_sync(stack)
                if not full_summary["scope"]["full"] or full_summary["scope"]["replanned"] != size:
                    raise RuntimeError(f"the full sync planned {full_summary['scope']}")
                plan_ms, sync_ms, inside_ms = [], [], []
                for _ in range(samples):
                    p, s_, summary = timed_push(stack, n)
                    n += 1
                    if summary["scope"]["full"] or summary["scope"]["replanned"] != 1:
                        raise RuntimeError(f"a one-manifest push planned {summary['scope']}")
                    plan_ms.append(p)
                    sync_ms.append(s_)
                    inside_ms.append(summary["duration_s"] * 1000)
                fulls.append(full_ms)
                plan_p50s.append(pct(plan_ms, 50))
                sync_p50s.append(pct(sync_ms, 50))
                print(f"  {size} manifests, run {run + 1}: full sync {full_ms:.0f} ms (reads {full_summary['reads']}); "
                      f"{samples} one-manifest pushes: POST -> plan stored p50 {plan_p50s[-1]:.0f} ms p99 "
                      f"{pct(plan_ms, 99):.0f} ms, POST -> sync finished p50 {sync_p50s[-1]:.0f} ms p99 "
                      f"{pct(sync_ms, 99):.0f} ms (of which inside sync_source p50 {pct(inside_ms, 50):.0f} ms)", flush=True)
            full, plan, sync = (statistics.median(v) for v in (fulls, plan_p50s, sync_p50s))
            lines.append(f"   {size} manifests: full sync {full:.0f} ms; one-manifest push: POST -> plan stored p50 "
                         f"{plan:.0f} ms, POST -> sync finished p50 {sync:.0f} ms; ratio one-manifest sync / full "
                         f"sync {sync / full:.3f}")
        finally:
            stack.close()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"4. A push reconciles only what it changed (median of {runs} runs, {samples} pushes each):\n"
          + "\n".join(lines) + "\n   Goal: ratio <= 0.1; POST -> plan stored p50 < 100 ms on 100 manifests", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--manifests", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=10)
    parser.add_argument("--repo-manifests", type=int, default=100)
    parser.add_argument("--samples", type=int, default=10, help="pushes per webhook-latency run")
    parser.add_argument("--pushes", type=int, default=1000)
    parser.add_argument("--push-seconds", type=float, default=10.0)
    parser.add_argument("--incremental-manifests", default="100,1000",
                        help="repository sizes for part 4, comma-separated")
    parser.add_argument("--only", default="plan,webhook,burst,incremental")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    print(f"gitops benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    if "plan" in parts:
        bench_plan(args.runs, args.manifests, args.resources)
    if parts & {"webhook", "burst"}:
        tmp = Path(tempfile.mkdtemp(prefix="jarvis-bench-gitops-"))
        stack = Stack(tmp, args.repo_manifests, args.resources)
        try:
            if "webhook" in parts:
                bench_webhook(stack, args.runs, args.samples)
            if "burst" in parts:
                bench_burst(stack, args.runs, args.pushes, args.push_seconds)
        finally:
            stack.close()
            shutil.rmtree(tmp, ignore_errors=True)
    if "incremental" in parts:
        bench_incremental([int(x) for x in args.incremental_manifests.split(",")], args.runs, args.samples,
                          args.resources)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
