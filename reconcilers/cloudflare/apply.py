"""Applies a planned set of record changes to one zone, converging from whatever is live now.

The zone is read first (every page) and each change is re-planned against it, so re-running a
half-applied plan converges: a create whose record now exists becomes a no-op or an overwrite,
a delete of a record already gone is done, an update of a vanished record becomes a create.
Operations go out deletes, then updates, then creates, in batches of at most 200; a batch the
API refuses (it is atomic) is replayed one call per operation so one bad record does not hold
back the rest, and each change gets its own result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .client import BatchOps, CloudflareClient, CloudflareError, chunk_ops
from .normalise import identity, live_spec

ALREADY_EXISTS = {81057, 81058}
NOT_FOUND = {81044}


def _key(spec: Mapping[str, Any]) -> tuple[str, str, str]:
    return spec["name"], spec["type"], identity(spec)


def _same(record: Mapping[str, Any], body: Mapping[str, Any], zone: str) -> bool:
    return (live_spec(record, zone) == live_spec(body, zone)
            and (record.get("comment") or "") == (body.get("comment") or ""))


def plan_ops(live: Sequence[Mapping[str, Any]], changes: Sequence[Mapping[str, Any]], zone: str,
             ) -> tuple[BatchOps, list[tuple[str, int]], dict[int, str]]:
    """(operations, op index → change index per kind, changes already done) from the live zone."""
    by_id = {r["id"]: r for r in live}
    by_key: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    by_name_type: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in live:
        spec = live_spec(r, zone)
        by_key.setdefault(_key(spec), r)
        by_name_type.setdefault((spec["name"], spec["type"]), []).append(r)
    ops = BatchOps()
    owners: list[tuple[str, int]] = []
    done: dict[int, str] = {}
    order = {"delete": 0, "update": 1, "create": 2}
    for i, ch in sorted(enumerate(changes), key=lambda p: order[p[1]["action"]]):
        action, body = ch["action"], ch.get("body") or {}
        if action == "delete":
            if ch.get("live_id") in by_id:
                ops.deletes.append({"id": ch["live_id"]})
                owners.append(("deletes", i))
            else:
                done[i] = "already deleted"
            continue
        target = by_id.get(ch.get("live_id") or "")
        if target is None:
            spec = live_spec(body, zone)
            target = by_key.get(_key(spec))
            if target is None and spec["type"] == "CNAME":
                same_name = by_name_type.get((spec["name"], "CNAME"), [])
                target = next((r for r in same_name if (r.get("comment") or "") == body.get("comment")), None)
        if target is not None and _same(target, body, zone):
            done[i] = "already applied"
        elif target is not None:
            ops.puts.append({"id": target["id"], **body})
            owners.append(("puts", i))
        else:
            ops.posts.append(dict(body))
            owners.append(("posts", i))
    rank = {"deletes": 0, "patches": 1, "puts": 2, "posts": 3}
    owners.sort(key=lambda o: rank[o[0]])   # stable: the same order as the lists in `ops`
    return ops, owners, done


def _single(client: CloudflareClient, zone_id: str, kind: str, op: Mapping[str, Any]) -> str:
    try:
        if kind == "deletes":
            client.delete_record(zone_id, op["id"])
        elif kind == "puts":
            client.put_record(zone_id, op["id"], {k: v for k, v in op.items() if k != "id"})
        else:
            client.create_record(zone_id, op)
    except CloudflareError as exc:
        if kind == "deletes" and exc.codes & NOT_FOUND:
            return "already deleted"
        if kind == "posts" and exc.codes & ALREADY_EXISTS:
            return "already applied"
        raise
    return "applied"


def apply_changes(client: CloudflareClient, zone_id: str, zone: str,
                  changes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Apply `changes` ([{action, resource, live_id?, body?}]) to one zone; per-change results."""
    live = client.list_records(zone_id)
    ops, owners, done = plan_ops(live, changes, zone)
    results: dict[int, dict[str, Any]] = {i: {"status": "noop", "detail": why} for i, why in done.items()}
    flat = [(kind, op) for kind in ("deletes", "patches", "puts", "posts") for op in getattr(ops, kind)]
    batches = chunk_ops(ops)
    batch_calls = 0
    start = 0
    for batch in batches:
        count = len(batch)
        part = list(zip(flat[start:start + count], owners[start:start + count], strict=True))
        start += count
        try:
            batch_calls += 1
            client.batch(zone_id, batch)
            for _, (_, idx) in part:
                results[idx] = {"status": "applied"}
            continue
        except CloudflareError as exc:
            if exc.status >= 500 or exc.status == 429 or exc.status == 0:
                for _, (_, idx) in part:
                    results[idx] = {"status": "failed", "error": str(exc)}
                continue
        for (kind, op), (_, idx) in part:   # the batch was refused as a whole: one call each
            try:
                status = _single(client, zone_id, kind, op)
                results[idx] = {"status": "applied" if status == "applied" else "noop", "detail": status}
            except CloudflareError as exc:
                results[idx] = {"status": "failed", "error": str(exc)}
    out = []
    for i, ch in enumerate(changes):
        out.append({"resource": ch.get("resource", ""), "action": ch["action"], **results[i]})
    return {
        "changes": out,
        "failed": sum(1 for r in out if r["status"] == "failed"),
        "applied": sum(1 for r in out if r["status"] == "applied"),
        "calls": client.calls,
        "calls_by": dict(client.calls_by),
        "pages_read": client.pages_read,
        "batches": batch_calls,
    }
