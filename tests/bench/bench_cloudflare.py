"""Benchmark: 1,000 mixed record changes to one Cloudflare zone, batched vs one call per record.

Usage (from the repository root):

    .venv/bin/python -m tests.bench.bench_cloudflare [--runs 5] [--changes 1000]

Each run starts a fresh emulator (tests/emulators/cloudflare) holding a zone with 1,200 records
Jarvis owns, plans 1,000 changes (40% creates, 30% updates, 30% deletes) with the production
reconciler, and applies them with the production client (`reconcilers.cloudflare.apply`):
one zone lookup, the pages of the zone's records, then batches of 200. The comparison applies the same
plan the way octoDNS, dnscontrol and Terraform's provider do: one call per record (after the
same listing). Prints HTTP calls and wall time per run and the medians, and checks the goal
calls <= ceil(changes/200) + pages read + 1. Cloudflare allows 1,200 calls per 5 minutes.
The file name has no `test_` prefix so `pytest tests` does not collect it.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

from controller.contract import ConnectionInfo, Scope
from reconcilers.cloudflare import CloudflareReconciler
from reconcilers.cloudflare.apply import apply_changes
from reconcilers.cloudflare.client import CloudflareClient
from reconcilers.cloudflare.normalise import api_body, owner_marker
from tests.emulators.cloudflare import CloudflareEmulator

TOKEN = "bench-token"
ZONE = "bench.example"
SCOPE = Scope(source="bench", manifest="zone")
EXISTING = 1200


def _setup(n_changes: int):
    emu = CloudflareEmulator().start()
    emu.add_zone(ZONE)
    emu.add_token(TOKEN)
    marker = owner_marker(SCOPE.source, SCOPE.manifest)
    for i in range(EXISTING):
        emu.seed(ZONE, type="A", name=f"h{i}.{ZONE}", content=f"10.0.{i // 250}.{i % 250}", ttl=300,
                 comment=marker)
    creates, updates = int(n_changes * 0.4), int(n_changes * 0.3)
    deletes = n_changes - creates - updates
    records = []
    for i in range(deletes, EXISTING):           # the first `deletes` records leave the manifest
        content = f"10.0.{i // 250}.{i % 250}"
        if i < deletes + updates:
            content = f"10.9.{i // 250}.{i % 250}"  # updated value
        records.append({"name": f"h{i}", "type": "A", "content": content, "ttl": 300})
    records += [{"name": f"new{i}", "type": "TXT", "content": f"v=bench {i}"} for i in range(creates)]
    conn = ConnectionInfo(name="bench", type="cloudflare", config={"base_url": emu.url},
                          secrets={"api_token": TOKEN})
    rec = CloudflareReconciler()
    desired = rec.desired({"dns": {"zone": ZONE, "records": records}}, SCOPE, {})
    changes = rec.diff(desired, rec.observe(conn, SCOPE, desired), target="cloudflare:cf", prune=True)
    assert len(changes) == n_changes, len(changes)
    items = [{"action": str(c.action), "resource": c.resource, "live_id": c.live_id,
              **({"body": api_body(c.desired, marker)} if c.desired else {})} for c in changes]
    return emu, conn, rec, desired, items


def run_batched(n_changes: int) -> dict:
    emu, conn, rec, desired, items = _setup(n_changes)
    try:
        emu.reset_counts()
        start = time.perf_counter()
        with CloudflareClient(TOKEN, emu.url) as client:
            zone_id = client.zone(ZONE)["id"]
            result = apply_changes(client, zone_id, ZONE, items)
        elapsed = time.perf_counter() - start
        calls = emu.total_requests
        pages = emu.requests["GET /zones/{zone_id}/dns_records"]
        assert result["failed"] == 0, result
        assert rec.diff(desired, rec.observe(conn, SCOPE, desired), target="cloudflare:cf", prune=True) == []
        assert not emu.violations, emu.violations[:3]
        return {"calls": calls, "seconds": elapsed, "pages": pages, "batches": result["batches"]}
    finally:
        emu.stop()


def run_per_record(n_changes: int) -> dict:
    emu, conn, rec, desired, items = _setup(n_changes)
    try:
        emu.reset_counts()
        start = time.perf_counter()
        with CloudflareClient(TOKEN, emu.url) as client:
            zone_id = client.zone(ZONE)["id"]
            client.list_records(zone_id)
            for it in sorted(items, key=lambda c: ("delete", "update", "create").index(c["action"])):
                if it["action"] == "delete":
                    client.delete_record(zone_id, it["live_id"])
                elif it["action"] == "update":
                    client.put_record(zone_id, it["live_id"], it["body"])
                else:
                    client.create_record(zone_id, it["body"])
        elapsed = time.perf_counter() - start
        assert rec.diff(desired, rec.observe(conn, SCOPE, desired), target="cloudflare:cf", prune=True) == []
        return {"calls": emu.total_requests, "seconds": elapsed}
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--changes", type=int, default=1000)
    args = ap.parse_args(argv)
    batched, single = [], []
    for i in range(args.runs):
        b, s = run_batched(args.changes), run_per_record(args.changes)
        batched.append(b)
        single.append(s)
        print(f"run {i + 1}: batched {b['calls']} calls {b['seconds']:.3f}s ({b['pages']} page(s), "
              f"{b['batches']} batch(es)) | one call per record {s['calls']} calls {s['seconds']:.3f}s")
    mb = statistics.median(r["calls"] for r in batched)
    ms = statistics.median(r["calls"] for r in single)
    tb = statistics.median(r["seconds"] for r in batched)
    ts = statistics.median(r["seconds"] for r in single)
    pages = max(r["pages"] for r in batched)
    goal = math.ceil(args.changes / 200) + pages + 1
    print(f"\n{args.changes} changes to one zone ({EXISTING} records before), median of {args.runs} runs:")
    print(f"  Jarvis (batch of 200):   {mb:>6.0f} HTTP calls  {tb:8.3f} s")
    print(f"  one call per record:     {ms:>6.0f} HTTP calls  {ts:8.3f} s   (octoDNS/dnscontrol/Terraform style)")
    print(f"  goal: calls <= ceil({args.changes}/200) + {pages} page(s) + 1 = {goal}: "
          f"{'met' if mb <= goal else 'NOT met'}")
    print(f"  Cloudflare's limit is 1,200 calls per 5 minutes: one call per record uses "
          f"{ms / 1200:.0%} of it, batches {mb / 1200:.1%}")
    return 0 if mb <= goal else 1


if __name__ == "__main__":
    sys.exit(main())
