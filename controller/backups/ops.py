"""The command line behind the backup runbooks: `python -m <module> <op> --input JSON ...`.

A runbook's playbook runs one operation on the controller host and records what it prints: one
JSON object, `failed` true with `msg` saying why, or the operation's result (the snapshot, its
size, what retention removed). Connections arrive in the one step shape (`step_connection`):
`--connection` is the job's `jarvis_connection`, `--repository` its `jarvis_connections.repository`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from controller.contract import ConnectionInfo
from controller.jobs import step_connection

Op = Callable[[dict[str, Any], Mapping[str, ConnectionInfo]], dict[str, Any]]


def main(ops: Mapping[str, Op], argv: list[str] | None = None, prog: str = "backup-ops") -> int:
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("op", choices=sorted(ops))
    p.add_argument("--input", required=True, help="the runbook's input, as JSON (no secrets)")
    p.add_argument("--connection", default="", help="the job's jarvis_connection, as JSON")
    p.add_argument("--repository", default="", help="jarvis_connections.repository, as JSON")
    a = p.parse_args(argv)
    try:
        conns = {role: step_connection.read(text) for role, text in
                 (("connection", a.connection), ("repository", a.repository)) if text.strip()}
        result = {"failed": False, **ops[a.op](json.loads(a.input), conns)}
    except Exception as exc:  # the runbook's output says what failed, in words
        text = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
        result = {"failed": True, "msg": f"{a.op} failed: {text}"}
    print(json.dumps(result, default=str))
    return 1 if result.get("failed") else 0


def keep_policy(input: Mapping[str, Any]) -> dict[str, int]:
    """`keep` (the newest N) and `keep_daily/weekly/monthly` of a backup's input, as restic's --keep-*."""
    policy = {"last": input.get("keep")}
    policy.update({name: input.get(f"keep_{name}") for name in ("daily", "weekly", "monthly")})
    return {k: int(v) for k, v in policy.items() if v}


def summary(result: Mapping[str, Any], target: str, filename: str) -> dict[str, Any]:
    """What a backup run reports (and the backups table records) from restic's backup summary."""
    return {"snapshot_id": result["snapshot_id"], "snapshot_time": result.get("time"), "target": target,
            "file": filename, "size": int(result.get("total_bytes_processed") or 0),
            "added": int(result.get("data_added") or 0)}


if __name__ == "__main__":   # pragma: no cover - the modules that define ops call main themselves
    sys.exit(2)
