"""Canonical ServiceSpec form: server and CLI defaults filled in, noise removed, lists ordered.

Applied to both sides of a diff, so a service created by Jarvis, by `docker stack deploy` or by
`docker service create` compares equal when it means the same thing. A service nobody touched
must never show drift (doco-cd's "mismatch want '' got replicated" is the failure this prevents).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

SECOND = 1_000_000_000
DEFAULT_UPDATE = {"Parallelism": 1, "Delay": 0, "FailureAction": "pause", "Monitor": 5 * SECOND,
                  "MaxFailureRatio": 0, "Order": "stop-first"}
DEFAULT_RESTART = {"Condition": "any", "Delay": 5 * SECOND, "MaxAttempts": 0, "Window": 0}
DEFAULT_STOP_GRACE = 10 * SECOND
DEFAULT_FILE_MODE = 0o444


def _drop_empty(d: dict[str, Any], *keys: str) -> None:
    for k in keys:
        if k in d and d[k] in (None, {}, [], "", 0, False):
            del d[k]


def _fill(value: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(defaults)
    out.update({k: v for k, v in (value or {}).items() if v is not None})
    out["MaxFailureRatio"] = float(out["MaxFailureRatio"]) if "MaxFailureRatio" in out else None
    if out["MaxFailureRatio"] is None:
        del out["MaxFailureRatio"]
    return out


def normalize_service(spec: Mapping[str, Any], refs: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """Canonical copy of a ServiceSpec. `refs` maps live object IDs to names
    (`{"networks": {id: name}, "secrets": {...}, "configs": {...}}`) so both sides use names."""
    refs = refs or {}
    s = copy.deepcopy(dict(spec))
    s.pop("Name", None)
    s.pop("Networks", None)           # deprecated top-level form; TaskTemplate.Networks is used
    s["Labels"] = dict(s.get("Labels") or {})
    task = s.setdefault("TaskTemplate", {})
    task.pop("ForceUpdate", None)     # a restart counter, not desired state
    if task.get("Runtime") == "container":
        del task["Runtime"]
    c = task.setdefault("ContainerSpec", {})
    c["Labels"] = dict(c.get("Labels") or {})
    if c.get("Isolation") == "default":
        del c["Isolation"]
    priv = c.get("Privileges")
    if priv is not None and not any(priv.get(k) for k in priv):
        del c["Privileges"]
    if c.get("StopGracePeriod") == DEFAULT_STOP_GRACE:
        del c["StopGracePeriod"]
    if c.get("Env"):
        c["Env"] = sorted(c["Env"])
    for kind, key, name_key in (("secrets", "Secrets", "SecretName"), ("configs", "Configs", "ConfigName")):
        items = []
        for ref in c.get(key) or []:
            ref = dict(ref)
            ident = ref.pop(f"{key[:-1]}ID", None)
            if ident and not ref.get(name_key):
                ref[name_key] = refs.get(kind, {}).get(ident, ident)
            f = dict(ref.get("File") or {})
            f.setdefault("UID", "0")
            f.setdefault("GID", "0")
            f.setdefault("Mode", DEFAULT_FILE_MODE)
            ref["File"] = f
            items.append(ref)
        c[key] = sorted(items, key=lambda r: (r[name_key], r["File"]["Name"]))
    for m in c.get("Mounts") or []:
        _drop_empty(m, "ReadOnly", "Consistency")
        if "VolumeOptions" in m:
            _drop_empty(m["VolumeOptions"], "NoCopy", "Labels", "DriverConfig")
            _drop_empty(m, "VolumeOptions")
    if c.get("Healthcheck"):
        _drop_empty(c["Healthcheck"], "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")
    _drop_empty(c, "DNSConfig", "Mounts", "Secrets", "Configs", "Args", "Command", "Env", "Hosts",
                "CapabilityAdd", "CapabilityDrop", "Sysctls", "TTY", "OpenStdin", "ReadOnly", "Init")
    res = task.get("Resources") or {}
    for part in ("Limits", "Reservations"):
        if part in res:
            _drop_empty(res[part], "NanoCPUs", "MemoryBytes", "Pids", "GenericResources")
            _drop_empty(res, part)
    task["Resources"] = res
    _drop_empty(task, "Resources")
    task["RestartPolicy"] = {**DEFAULT_RESTART, **{k: v for k, v in (task.get("RestartPolicy") or {}).items()
                                                    if v is not None}}
    placement = task.get("Placement") or {}
    placement.pop("Platforms", None)  # recorded by the CLI when it resolves images; not intent
    _drop_empty(placement, "Constraints", "Preferences", "MaxReplicas")
    if placement.get("Constraints"):
        placement["Constraints"] = sorted(c.replace(" ", "") for c in placement["Constraints"])
    task["Placement"] = placement
    _drop_empty(task, "Placement", "LogDriver")
    nets = []
    for att in task.get("Networks") or []:
        att = dict(att)
        att["Target"] = refs.get("networks", {}).get(att["Target"], att["Target"])
        if att.get("Aliases"):
            att["Aliases"] = sorted(att["Aliases"])
        else:
            att.pop("Aliases", None)
        _drop_empty(att, "DriverOpts")
        nets.append(att)
    task["Networks"] = sorted(nets, key=lambda a: a["Target"])
    _drop_empty(task, "Networks")

    mode = s.get("Mode") or {"Replicated": {}}
    if "Replicated" in mode:
        replicas = (mode["Replicated"] or {}).get("Replicas")
        mode = {"Replicated": {"Replicas": 1 if replicas is None else replicas}}
    s["Mode"] = mode
    s["UpdateConfig"] = _fill(s.get("UpdateConfig"), DEFAULT_UPDATE)
    s["RollbackConfig"] = _fill(s.get("RollbackConfig"), DEFAULT_UPDATE)
    ep = dict(s.get("EndpointSpec") or {})
    ep.setdefault("Mode", "vip")
    ports = [{"Protocol": p.get("Protocol") or "tcp", "TargetPort": p["TargetPort"],
              "PublishMode": p.get("PublishMode") or "ingress",
              **({"PublishedPort": p["PublishedPort"]} if p.get("PublishedPort") else {})}
             for p in ep.get("Ports") or []]
    ep["Ports"] = sorted(ports, key=lambda p: (p.get("PublishedPort", 0), p["TargetPort"], p["Protocol"]))
    _drop_empty(ep, "Ports")
    s["EndpointSpec"] = ep
    return s


def normalize_network(net: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a network Jarvis manages (networks are immutable: a change means recreate)."""
    return {"Driver": net.get("Driver") or "overlay", "Attachable": bool(net.get("Attachable")),
            "Internal": bool(net.get("Internal")), "Labels": dict(net.get("Labels") or {}),
            "Options": {k: v for k, v in (net.get("Options") or {}).items()
                        if not k.startswith("com.docker.network.driver.overlay.vxlanid")}}
