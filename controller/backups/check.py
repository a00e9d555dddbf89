"""`restic check` of a repository, behind the check-repository runbook (the job's connection is the
backup-repository itself): ok only when restic finds no error; the output names what it found."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from controller.backups import ops
from controller.backups.restic import Repository
from controller.contract import ConnectionInfo


def check(input: dict[str, Any], conns: Mapping[str, ConnectionInfo]) -> dict[str, Any]:
    with Repository(conns["connection"]) as repo:
        out = repo.check(str(input.get("read_data_subset") or ""))
        count = len(repo.snapshots())
    last = [ln for ln in out.strip().splitlines() if ln.strip()][-1:] or ["no errors were found"]
    return {"ok": True, "snapshots": count, "msg": f"restic check of {repo.location}: {last[0]} ({count} snapshots)"}


OPS = {"check": check}

if __name__ == "__main__":
    sys.exit(ops.main(OPS, prog="controller.backups.check"))
