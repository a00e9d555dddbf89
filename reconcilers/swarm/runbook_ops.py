"""Operations behind the Swarm runbooks: restart, scale, roll back, show logs.

Run by the runbook playbooks as `python -m reconcilers.swarm.runbook_ops <op> ...` on localhost;
prints one JSON object (the playbook records it with set_stats) and exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from controller.jobs import step_connection
from reconcilers.swarm.apply import wait_converged
from reconcilers.swarm.engine import client_for


def _update(client, service: str, spec: dict[str, Any], params: dict[str, Any] | None = None) -> None:
    api = client.api
    current = api.inspect_service(service)
    url = api._url("/services/{0}/update", current["ID"])
    api._result(api._post_json(url, data=spec, params={"version": current["Version"]["Index"], **(params or {})}),
                True)


def restart(client, service: str, timeout: int) -> dict[str, Any]:
    spec = client.api.inspect_service(service)["Spec"]
    spec["TaskTemplate"]["ForceUpdate"] = int(spec["TaskTemplate"].get("ForceUpdate", 0)) + 1
    _update(client, service, spec)
    return wait_converged(client, service, timeout, updating=True)


def scale(client, service: str, replicas: int, timeout: int) -> dict[str, Any]:
    spec = client.api.inspect_service(service)["Spec"]
    if "Replicated" not in (spec.get("Mode") or {}):
        return {"failed": True, "msg": f"service {service}: is global, it cannot be scaled"}
    spec["Mode"] = {"Replicated": {"Replicas": replicas}}
    _update(client, service, spec)
    return wait_converged(client, service, timeout, updating=True)


def rollback(client, service: str, timeout: int) -> dict[str, Any]:
    svc = client.api.inspect_service(service)
    if not svc.get("PreviousSpec"):
        return {"failed": True, "msg": f"service {service}: has no previous spec to roll back to"}
    _update(client, service, svc["Spec"], {"rollback": "previous"})
    result = wait_converged(client, service, timeout, updating=True)
    # Here a completed rollback is the goal, not a failed update.
    if result.get("rolled_back") and client.api.inspect_service(service)["UpdateStatus"]["State"] == "rollback_completed":
        errors = result.get("task_errors") or []
        return {"failed": False, "rolled_back": True, "task_errors": errors,
                "msg": f"service {service}: rolled back to the previous spec"}
    if not result.get("failed"):
        result["msg"] = f"service {service}: rolled back to the previous spec; " + result["msg"]
    return result


def logs(client, service: str, lines: int, artifact_dir: str) -> dict[str, Any]:
    raw = client.api.service_logs(service, stdout=True, stderr=True, tail=lines, timestamps=True, details=False)
    text = b"".join(raw).decode(errors="replace") if not isinstance(raw, bytes) else raw.decode(errors="replace")
    out_lines = text.splitlines()[-lines:]
    # the job's own artifact folder (the worker's jarvis_artifacts_dir): the job lists the file after the run
    name = f"{service}.log"
    fd = os.open(os.path.join(artifact_dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(out_lines) + ("\n" if out_lines else ""))
    return {"failed": False, "msg": f"service {service}: {len(out_lines)} log lines", "lines": out_lines,
            "artifact": name}


def _run(a: argparse.Namespace, client) -> dict[str, Any]:
    if a.op == "restart":
        return restart(client, a.service, a.timeout)
    if a.op == "scale":
        if a.replicas is None or a.replicas < 0:
            return {"failed": True, "msg": "input.replicas: a number >= 0 is required"}
        return scale(client, a.service, a.replicas, a.timeout)
    if a.op == "rollback":
        return rollback(client, a.service, a.timeout)
    if not a.artifact_dir:
        return {"failed": True, "msg": "logs: --artifact-dir (the job's artifact folder) is required"}
    return logs(client, a.service, a.lines, a.artifact_dir)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="runbook_ops")
    p.add_argument("op", choices=["restart", "scale", "rollback", "logs"])
    p.add_argument("--service", required=True)
    p.add_argument("--replicas", type=int)
    p.add_argument("--lines", type=int, default=100)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--connection", required=True, help="the job's jarvis_connection, as JSON")
    p.add_argument("--artifact-dir", help="logs: the job's artifact folder (jarvis_artifacts_dir)")
    a = p.parse_args(argv)
    try:
        client = client_for(step_connection.read(a.connection))
        try:
            result = _run(a, client)
        finally:
            client.close()      # an ssh tunnel and the key material it wrote go with it
    except Exception as exc:  # the runbook's output says what failed, in words
        text = getattr(exc, "explanation", None) or str(exc)
        result = {"failed": True, "msg": f"service {a.service}: {a.op} failed: {text}"}
    print(json.dumps(result))
    return 1 if result.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
