"""The container runbooks' one step: `python -m reconcilers.containers.runbook_ops restart|logs|redeploy`.

A runbook's playbook runs it with the job's connection (`jarvis_connection`, its credentials in the
environment: controller.jobs.step_connection) and records the JSON it prints. It calls the same
functions as the containers API (`service.py`), so a restart or a log read is the same either way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from controller.contract import ConnectionInfo
from controller.errors import JarvisError
from controller.jobs import step_connection

from .service import container_logs, restart_container
from .stacks import redeploy_stack, wait_rolled


def restart(conn: ConnectionInfo, ref: str) -> dict[str, Any]:
    after = restart_container(conn, ref)
    return {"failed": False, "msg": f"container {after['name']} restarted ({after['state']}, started {after['started']})",
            "container": {k: str(after[k]) if k == "started" else after[k]
                          for k in ("name", "ref", "stack", "service", "environment", "state", "started")}}


def logs(conn: ConnectionInfo, ref: str, lines: int, artifact_dir: str) -> dict[str, Any]:
    got = container_logs(conn, ref, tail=lines, since=None, until=None)
    text = [f"{line['time'].isoformat() if line['time'] else '-'} {line['stream']} {line['text']}" for line in got]
    # the job's own artifact folder (the worker's jarvis_artifacts_dir): the job lists the file after the run
    name = "container-" + "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in ref)[:80] + ".log"
    fd = os.open(os.path.join(artifact_dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(text) + ("\n" if text else ""))
    return {"failed": False, "msg": f"container {ref}: {len(text)} log lines", "lines": text, "artifact": name}


def redeploy(conn: ConnectionInfo, ref: str, timeout: int) -> dict[str, Any]:
    done = redeploy_stack(conn, ref)
    waited = wait_rolled(conn, done, timeout)
    return {**waited, "stack": {k: done[k] for k in ("stack", "environment", "mode")},
            "services": [s["name"] for s in done["services"]],
            "containers": [{"name": c["name"], "started": str(c["started"])} for c in done["containers"]]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="reconcilers.containers.runbook_ops")
    p.add_argument("op", choices=["restart", "logs", "redeploy"])
    p.add_argument("--ref", required=True, help="the container id or, to redeploy, the stack name "
                                                "(<endpoint id>: first on Portainer)")
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--timeout", type=int, default=300, help="redeploy: seconds to wait for the services to roll")
    p.add_argument("--connection", required=True, help="the job's jarvis_connection, as JSON")
    p.add_argument("--artifact-dir", help="logs: the job's artifact folder (jarvis_artifacts_dir)")
    a = p.parse_args(argv)
    try:
        conn = step_connection.read(a.connection)
        if a.op == "restart":
            result = restart(conn, a.ref)
        elif a.op == "redeploy":
            result = redeploy(conn, a.ref, max(10, a.timeout))
        elif not a.artifact_dir:
            result = {"failed": True, "msg": "logs: --artifact-dir (the job's artifact folder) is required"}
        else:
            result = logs(conn, a.ref, max(1, min(a.lines, 10000)), a.artifact_dir)
    except JarvisError as exc:      # not found, unreachable, refused: in words
        result = {"failed": True, "msg": f"{_noun(a.op)} {a.ref}: {a.op} failed: {exc.message}"}
    except Exception as exc:  # the runbook's output says what failed, in words
        result = {"failed": True, "msg": f"{_noun(a.op)} {a.ref}: {a.op} failed: {type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    return 1 if result.get("failed") else 0


def _noun(op: str) -> str:
    return "stack" if op == "redeploy" else "container"


if __name__ == "__main__":
    sys.exit(main())
