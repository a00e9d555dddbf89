"""Read the live Swarm: owned objects as Resources, per-service health, and bad-input findings.

Six list calls (services, tasks, nodes, networks, secrets, configs) whatever the stack size,
plus an image inspection only for images a plan would change. Never writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import docker

from controller.contract import DesiredState, LiveState, Scope
from controller.plans import Resource
from reconcilers.base import MANIFEST_LABEL, OWNER_LABEL, SOURCE_LABEL
from reconcilers.swarm.constraints import satisfiable
from reconcilers.swarm.normalize import normalize_network, normalize_service

FAILED_STATES = {"failed", "rejected"}


def owned_by(labels: Mapping[str, str] | None, scope: Scope) -> bool:
    labels = labels or {}
    return (labels.get(OWNER_LABEL) == "true" and labels.get(SOURCE_LABEL) == scope.source
            and labels.get(MANIFEST_LABEL) == scope.manifest)


def read_engine(client: docker.DockerClient) -> dict[str, list[dict[str, Any]]]:
    api = client.api
    return {"services": api.services(), "tasks": api.tasks(), "nodes": api.nodes(),
            "networks": api.networks(), "secrets": api.secrets(), "configs": api.configs()}


def _service_health(svc: dict[str, Any], tasks: list[dict[str, Any]], nodes: list[dict[str, Any]]) -> dict[str, Any]:
    mode = svc["Spec"].get("Mode") or {}
    current = [t for t in tasks if t.get("DesiredState") in ("running", "ready")]
    if "Replicated" in mode:
        desired = (mode["Replicated"] or {}).get("Replicas", 1)
    else:
        desired = sum(1 for n in nodes if n.get("Status", {}).get("State") == "ready"
                      and n.get("Spec", {}).get("Availability") == "active")
    running = sum(1 for t in current if t.get("Status", {}).get("State") == "running")
    errors = []
    # Failures since the current spec was written (older ones belong to a spec that is gone).
    since = svc.get("UpdatedAt", "")
    for t in sorted(tasks, key=lambda t: t.get("UpdatedAt", ""), reverse=True):
        st = t.get("Status", {})
        if t.get("UpdatedAt", "") >= since and (st.get("Err") or st.get("State") in FAILED_STATES):
            exit_code = (st.get("ContainerStatus") or {}).get("ExitCode")
            errors.append({"task": t["ID"], "state": st.get("State"), "error": st.get("Err", ""),
                           "exit_code": exit_code, "message": st.get("Message", "")})
    errors = errors[:5]
    version = svc.get("Version", {}).get("Index")
    update = (svc.get("UpdateStatus") or {})
    return {"desired": desired, "running": running, "errors": errors, "version": version,
            "update_state": update.get("State"), "update_message": update.get("Message", "")}


def observe_engine(raw: Mapping[str, list[dict[str, Any]]], scope: Scope, desired: DesiredState,
                   image_exists=None) -> LiveState:
    """Pure over what `read_engine` returned (plus an image-existence callback for changed images)."""
    refs = {"networks": {n["Id"]: n["Name"] for n in raw["networks"]},
            **{kind: {o["ID"]: o["Spec"]["Name"] for o in raw[kind]} for kind in ("secrets", "configs")}}
    tasks_by_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in raw["tasks"]:
        tasks_by_service[t.get("ServiceID", "")].append(t)
    want = {r.key: r for r in desired.resources}
    resources: list[Resource] = []
    health: dict[str, Any] = {}
    live_specs: dict[str, dict[str, Any]] = {}
    for svc in raw["services"]:
        name = svc["Spec"]["Name"]
        key = f"service/{name}"
        live_specs[name] = svc["Spec"]
        owned = owned_by(svc["Spec"].get("Labels"), scope)
        if owned:
            resources.append(Resource("service", name, normalize_service(svc["Spec"], refs), id=svc["ID"]))
            health[key] = _service_health(svc, tasks_by_service[svc["ID"]], raw["nodes"])
        elif key in want:
            resources.append(Resource("service", name, {}, owned=False, id=svc["ID"]))
    for net in raw["networks"]:
        key = f"network/{net['Name']}"
        if owned_by(net.get("Labels"), scope):
            resources.append(Resource("network", net["Name"], normalize_network(net), id=net["Id"]))
        elif key in want:
            resources.append(Resource("network", net["Name"], {}, owned=False, id=net["Id"]))
    for kind in ("secret", "config"):
        for obj in raw[kind + "s"]:
            spec = obj["Spec"]
            key = f"{kind}/{spec['Name']}"
            if owned_by(spec.get("Labels"), scope):
                resources.append(Resource(kind, spec["Name"], {"Labels": dict(spec.get("Labels") or {})},
                                          id=obj["ID"]))
            elif key in want:
                resources.append(Resource(kind, spec["Name"], {}, owned=False, id=obj["ID"]))

    held, errors = _findings(raw, want, {r.key: r for r in resources}, live_specs, image_exists)
    with_errors = sum(len(h["errors"]) for h in health.values())
    return LiveState(resources=tuple(resources), errors=tuple(errors),
                     health={"services": health, "containers_with_errors": with_errors, "held": held,
                             "nodes": _nodes(raw["nodes"])})


def _nodes(nodes: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each node's state (ready, down, unknown) and availability, for the node-down alert."""
    return {n.get("Description", {}).get("Hostname") or n["ID"]: {"state": n.get("Status", {}).get("State", "unknown"),
                                                                   "availability": n.get("Spec", {}).get("Availability", "")}
            for n in nodes}


def _ports_of(spec: Mapping[str, Any]) -> set[tuple[int, str]]:
    return {(p["PublishedPort"], p.get("Protocol") or "tcp")
            for p in (spec.get("EndpointSpec") or {}).get("Ports") or [] if p.get("PublishedPort")}


def _findings(raw, want: dict[str, Resource], live: dict[str, Resource], live_specs, image_exists):
    """Bad input the engine would refuse or never converge on: named by service, field and reason."""
    held: dict[str, str] = {}

    def hold(key: str, message: str) -> None:
        held.setdefault(key, message)

    for key, r in want.items():
        have = live.get(key)
        if have is not None and not have.owned:
            hold(key, f"{key}: a {r.type} named {r.name} exists and is not managed by this manifest")
    foreign_nets = {k.split("/", 1)[1] for k in held if k.startswith("network/")}
    published: dict[tuple[int, str], str] = {}
    for name, spec in live_specs.items():
        for port in _ports_of(spec):
            published[port] = name
    for key, r in want.items():
        if r.type != "service" or key in held:
            continue
        for port in sorted(_ports_of(r.spec)):
            other = published.get(port)
            if other is not None and other != r.name:
                hold(key, f"{key}: ports: {port[0]}/{port[1]} is already published by service {other}")
            published.setdefault(port, r.name)
        for att in r.spec["TaskTemplate"].get("Networks") or []:
            if att["Target"] in foreign_nets:
                hold(key, f"{key}: networks: {att['Target']} is owned by someone else")
        constraints = (r.spec["TaskTemplate"].get("Placement") or {}).get("Constraints") or []
        if constraints and not satisfiable(constraints, raw["nodes"]):
            hold(key, f"{key}: placement.constraints: no node satisfies {', '.join(constraints)}")
        image = r.spec["TaskTemplate"]["ContainerSpec"]["Image"]
        have = live.get(key)
        live_image = have.spec["TaskTemplate"]["ContainerSpec"]["Image"] if have and have.owned else None
        if image_exists is not None and live_image != image and not (live_image or "").startswith(image + "@"):
            found, why = image_exists(image)
            if not found:
                hold(key, f"{key}: image: {image} does not exist ({why})")
    return held, list(held.values())
