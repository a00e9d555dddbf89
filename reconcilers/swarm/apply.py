"""Apply one Change through the Docker API and wait for the service to converge.

Called by the `jarvis_swarm` ansible module (playbooks/library) so each step is one playbook run;
kept importable so the logic is tested on its own too. Results are plain dicts: `changed`,
`failed`, `msg`, `rolled_back`, `task_errors` (never a secret value).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import docker
import docker.errors

SERVICE_TIMEOUT = 300


def _ids(client: docker.DockerClient, kind: str) -> dict[str, str]:
    api = client.api
    if kind == "networks":
        return {n["Name"]: n["Id"] for n in api.networks()}
    items = api.secrets() if kind == "secrets" else api.configs()
    return {o["Spec"]["Name"]: o["ID"] for o in items}


def engine_spec(client: docker.DockerClient, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised spec with names resolved to the IDs the Engine API needs."""
    out = {**dict(spec), "Name": name}
    task = dict(out["TaskTemplate"])
    c = dict(task["ContainerSpec"])
    if task.get("Networks"):
        ids = _ids(client, "networks")
        task["Networks"] = [{**a, "Target": ids.get(a["Target"], a["Target"])} for a in task["Networks"]]
    for kind, key, name_key, id_key in (("secrets", "Secrets", "SecretName", "SecretID"),
                                        ("configs", "Configs", "ConfigName", "ConfigID")):
        if c.get(key):
            ids = _ids(client, kind)
            missing = [r[name_key] for r in c[key] if r[name_key] not in ids]
            if missing:
                raise ValueError(f"{key.lower()}: {', '.join(missing)} does not exist on the engine")
            c[key] = [{**r, id_key: ids[r[name_key]]} for r in c[key]]
    task["ContainerSpec"] = c
    out["TaskTemplate"] = task
    return out


def _task_errors(client: docker.DockerClient, service_id: str) -> list[dict[str, Any]]:
    out = []
    for t in client.api.tasks(filters={"service": service_id}):
        st = t.get("Status", {})
        if st.get("Err") or st.get("State") in ("failed", "rejected"):
            out.append({"task": t["ID"][:12], "state": st.get("State"), "error": st.get("Err", ""),
                        "exit_code": (st.get("ContainerStatus") or {}).get("ExitCode"),
                        "image": t.get("Spec", {}).get("ContainerSpec", {}).get("Image")})
    return out


def _running_current(client: docker.DockerClient, svc: Mapping[str, Any]) -> tuple[int, int]:
    """(tasks running the service's current image, tasks wanted)."""
    image = svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    tasks = client.api.tasks(filters={"service": svc["ID"], "desired-state": "running"})
    running = sum(1 for t in tasks if t["Status"]["State"] == "running"
                  and t["Spec"]["ContainerSpec"]["Image"] == image)
    mode = svc["Spec"].get("Mode") or {}
    wanted = mode["Replicated"].get("Replicas", 1) if "Replicated" in mode else len(tasks)
    return running, wanted


def wait_converged(client: docker.DockerClient, service_id: str, timeout: float = SERVICE_TIMEOUT,
                   poll: float = 0.5, updating: bool = False) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    name = service_id
    stable_since: float | None = None
    seen_errors: int | None = None
    while True:
        svc = client.api.inspect_service(service_id)
        name = svc["Spec"]["Name"]
        status = svc.get("UpdateStatus") or {}
        state = status.get("State", "")
        if state in ("rollback_completed", "rollback_paused"):
            errors = _task_errors(client, service_id)
            return {"failed": True, "rolled_back": True, "task_errors": errors,
                    "msg": f"service {name}: update failed and was rolled back ({status.get('Message', '')}); "
                           f"task errors: {_summary(errors)}"}
        if state == "paused":
            errors = _task_errors(client, service_id)
            return {"failed": True, "rolled_back": False, "task_errors": errors,
                    "msg": f"service {name}: update paused ({status.get('Message', '')}); "
                           f"task errors: {_summary(errors)}"}
        running, wanted = _running_current(client, svc)
        busy = state in ("updating", "rollback_started") or (updating and not state and running < wanted)
        errors = _task_errors(client, service_id)
        # Like the docker CLI, tasks must stay up for the monitor period before the service counts
        # as converged: a task that starts and then exits must not pass. The clock starts once every
        # task runs the new spec, so it overlaps Swarm's own monitoring instead of following it.
        settle = (svc["Spec"].get("UpdateConfig") or {}).get("Monitor") or 5_000_000_000
        if running >= wanted and len(errors) == seen_errors:
            stable_since = stable_since or time.monotonic()
            if not busy and time.monotonic() - stable_since >= settle / 1e9:
                return {"failed": False, "rolled_back": False, "task_errors": [],
                        "msg": f"service {name}: converged, {running}/{wanted} tasks running"}
        else:
            stable_since = None
        seen_errors = len(errors) if seen_errors is not None else len(errors)
        # A new service has no update to roll back: repeated task failures mean it cannot converge.
        if not state and len(errors) >= max(2, wanted) and running < wanted:
            return {"failed": True, "rolled_back": False, "task_errors": errors,
                    "msg": f"service {name}: tasks fail to start; task errors: {_summary(errors)}"}
        if time.monotonic() > deadline:
            return {"failed": True, "rolled_back": False, "task_errors": errors,
                    "msg": f"service {name}: not converged after {timeout:.0f}s, {running}/{wanted} running; "
                           f"task errors: {_summary(errors)}"}
        time.sleep(poll)


def _summary(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "none"
    seen = []
    for e in errors:
        text = e["error"] or e["state"]
        if e.get("exit_code"):
            text += f" (exit code {e['exit_code']})"
        if text not in seen:
            seen.append(text)
    return "; ".join(seen[:5])


def apply_change(client: docker.DockerClient, change: Mapping[str, Any], data: bytes | None = None,
                 timeout: float = SERVICE_TIMEOUT) -> dict[str, Any]:
    kind, _, name = change["resource"].partition("/")
    action = change["action"]
    spec = change.get("desired") or {}
    api = client.api
    try:
        if kind == "service":
            if action == "delete":
                api.remove_service(change.get("live_id") or name)
                return {"changed": True, "failed": False, "msg": f"service {name}: removed"}
            body = engine_spec(client, name, spec)
            if action == "create":
                created = api._result(api._post_json(api._url("/services/create"), data=body), True)
                result = wait_converged(client, created["ID"], timeout)
            else:
                current = api.inspect_service(change.get("live_id") or name)
                body["TaskTemplate"]["ForceUpdate"] = current["Spec"]["TaskTemplate"].get("ForceUpdate", 0)
                url = api._url("/services/{0}/update", current["ID"])
                api._result(api._post_json(url, data=body, params={"version": current["Version"]["Index"]}), True)
                result = wait_converged(client, current["ID"], timeout, updating=True)
            return {"changed": True, **result}
        if kind == "network":
            if action == "delete":
                api.remove_network(change.get("live_id") or name)
                return {"changed": True, "failed": False, "msg": f"network {name}: removed"}
            if action == "update":   # networks are immutable; only the labels could differ
                return {"changed": False, "failed": True,
                        "msg": f"network {name}: cannot be changed in place; remove it and re-apply"}
            api.create_network(name, driver=spec.get("Driver", "overlay"), options=spec.get("Options") or None,
                               attachable=spec.get("Attachable"), internal=spec.get("Internal", False),
                               labels=spec.get("Labels"), scope="swarm")
            return {"changed": True, "failed": False, "msg": f"network {name}: created"}
        if kind in ("secret", "config"):
            if action == "delete":
                try:
                    (api.remove_secret if kind == "secret" else api.remove_config)(change.get("live_id") or name)
                except docker.errors.APIError as exc:
                    if "in use" in str(exc):
                        return {"changed": False, "failed": False, "msg": f"{kind} {name}: still in use, kept"}
                    raise
                return {"changed": True, "failed": False, "msg": f"{kind} {name}: removed (old version)"}
            if action == "update":
                return {"changed": False, "failed": False, "msg": f"{kind} {name}: content is immutable, kept"}
            if data is None:
                return {"changed": False, "failed": True, "msg": f"{kind} {name}: no value was given to the step"}
            create = api.create_secret if kind == "secret" else api.create_config
            create(name, data, labels=spec.get("Labels"))
            return {"changed": True, "failed": False, "msg": f"{kind} {name}: created"}
    except (docker.errors.APIError, ValueError) as exc:
        text = exc.explanation if isinstance(exc, docker.errors.APIError) and exc.explanation else str(exc)
        return {"changed": False, "failed": True, "msg": f"{kind} {name}: {action} refused: {text}"}
    return {"changed": False, "failed": True, "msg": f"{change['resource']}: unknown resource type"}
