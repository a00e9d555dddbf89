"""A normalised Swarm spec said back in orch.yaml terms: the `terms` hook of the Swarm reconciler.

The reverse of `convert`: `Mode.Replicated.Replicas: 2` is `services.web.replicas: 2`, `UpdateConfig.Delay:
10000000000` is `services.web.update.delay: 10s`. A service from a compose file (it carries the stack
namespace label) is said in compose's words (`compose[app].services.web.deploy.replicas`). Lists the user
writes in short form (ports, volumes, networks, secrets, configs) are one term each, in that short form.
Fields no term describes still show, as engine fields, in the diff (plans.described_diffs). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from controller.plans import Resource, Term
from reconcilers.swarm.convert import IMAGE_LABEL, NAMESPACE_LABEL
from reconcilers.swarm.units import human_cpus, human_duration, human_size

# Label keys Jarvis writes for itself (ownership, the stack's own): never written in orch.yaml.
_BOOKKEEPING = ("jarvis.", NAMESPACE_LABEL, IMAGE_LABEL)

# term → (orch.yaml name, compose name); only the names that differ between the two are listed
_COMPOSE = {"replicas": "deploy.replicas", "mode": "deploy.mode", "env": "environment", "labels": "deploy.labels",
            "container_labels": "labels", "command": "entrypoint", "args": "command",
            "resources": "deploy.resources", "placement": "deploy.placement", "update": "deploy.update_config",
            "rollback": "deploy.rollback_config", "restart": "deploy.restart_policy"}
_UPDATE = (("Parallelism", "parallelism", None), ("Delay", "delay", human_duration),
           ("FailureAction", "failure_action", None), ("Monitor", "monitor", human_duration),
           ("MaxFailureRatio", "max_failure_ratio", None), ("Order", "order", None))
_RESTART = (("Condition", "condition", None), ("Delay", "delay", human_duration),
            ("MaxAttempts", "max_attempts", None), ("Window", "window", human_duration))
_HEALTH = (("Test", "test", None), ("Interval", "interval", human_duration), ("Timeout", "timeout", human_duration),
           ("StartPeriod", "start_period", human_duration), ("StartInterval", "start_interval", human_duration),
           ("Retries", "retries", None))


def _bookkeeping(label: str) -> bool:
    return any(label == p or (p.endswith(".") and label.startswith(p)) for p in _BOOKKEEPING)


class _Say:
    """Collects the terms of one resource under its prefix, in orch.yaml's or compose's words."""

    def __init__(self, prefix: str, compose: bool) -> None:
        self.prefix, self.compose, self.out = prefix, compose, []

    def __call__(self, name: str, fld: str, engine: Any, value: Any = ...) -> None:
        head, _, rest = name.partition(".")
        if self.compose and head in _COMPOSE:
            name = _COMPOSE[head] + (f".{rest}" if rest else "")
        self.out.append(Term(f"{self.prefix}.{name}", fld, engine, engine if value is ... else value))

    def own(self, fld: str, engine: Any) -> None:
        self.out.append(Term("", fld, engine, engine))


def _ports(ports: list[Mapping[str, Any]]) -> list[str]:
    out = []
    for p in ports:
        text = f"{p['PublishedPort']}:{p['TargetPort']}" if p.get("PublishedPort") else str(p["TargetPort"])
        if p.get("Protocol", "tcp") != "tcp":
            text += f"/{p['Protocol']}"
        if p.get("PublishMode", "ingress") != "ingress":
            text += f" (mode {p['PublishMode']})"
        out.append(text)
    return out


def _mounts(mounts: list[Mapping[str, Any]]) -> list[str]:
    out = []
    for m in mounts:
        kind = m.get("Type", "volume")
        text = f"{m['Source']}:{m['Target']}" if m.get("Source") else str(m["Target"])
        if m.get("ReadOnly"):
            text += ":ro"
        if kind == "tmpfs":
            text = f"tmpfs:{m['Target']}" + (f" ({human_size((m.get('TmpfsOptions') or {}).get('SizeBytes'))})"
                                               if (m.get("TmpfsOptions") or {}).get("SizeBytes") else "")
        out.append(text)
    return out


def _files(refs: list[Mapping[str, Any]], name_key: str, default_target) -> list[str]:
    out = []
    for r in refs:
        f = r.get("File") or {}
        text = str(r.get(name_key))
        if f.get("Name") and f["Name"] != default_target(r.get(name_key)):
            text += f" → {f['Name']}"
        extras = [f"{k.lower()} {v}" for k, v in (("UID", f.get("UID")), ("GID", f.get("GID"))) if v not in (None, "0")]
        if f.get("Mode") not in (None, 0o444):
            extras.append(f"mode {oct(f['Mode'])[2:]}")
        out.append(text + (f" ({', '.join(extras)})" if extras else ""))
    return out


def _config(say: _Say, term: str, fld: str, conf: Mapping[str, Any] | None, table) -> None:
    for api, name, human in table:
        if conf and api in conf:
            say(f"{term}.{name}", f"{fld}.{api}", conf[api], human(conf[api]) if human else conf[api])


def service_terms(name: str, spec: Mapping[str, Any]) -> list[Term]:
    labels = dict(spec.get("Labels") or {})
    ns = labels.get(NAMESPACE_LABEL)
    short = name[len(ns) + 1:] if ns and name.startswith(f"{ns}_") else name
    say = _Say(f"compose[{ns}].services.{short}" if ns else f"services.{short}", compose=bool(ns))
    task = spec.get("TaskTemplate") or {}
    c = task.get("ContainerSpec") or {}
    C = "TaskTemplate.ContainerSpec"
    if "Image" in c:
        say("image", f"{C}.Image", c["Image"])
    mode = spec.get("Mode") or {}
    if "Replicated" in mode:
        say("replicas", "Mode.Replicated.Replicas", (mode["Replicated"] or {}).get("Replicas"))
    else:
        say("mode", "Mode", mode, "global" if "Global" in mode else mode)
    for key, term in (("Command", "command"), ("Args", "args")):
        if key in c:
            say(term, f"{C}.{key}", c[key])
    for item in c.get("Env") or []:
        k, sep, v = str(item).partition("=")
        say(f"env.{k}", f"{C}.Env", item, v if sep else None)
    for k, v in labels.items():
        if _bookkeeping(k):
            say.own(f"Labels.{k}", v)
        else:
            say(f"labels.{k}", f"Labels.{k}", v)
    for k, v in (c.get("Labels") or {}).items():
        if _bookkeeping(k):
            say.own(f"{C}.Labels.{k}", v)
        else:
            say(f"container_labels.{k}", f"{C}.Labels.{k}", v)
    ports = (spec.get("EndpointSpec") or {}).get("Ports")
    if ports:
        say("ports", "EndpointSpec.Ports", ports, _ports(ports))
    if "Mode" in (spec.get("EndpointSpec") or {}):
        say("endpoint_mode", "EndpointSpec.Mode", spec["EndpointSpec"]["Mode"])
    if task.get("Networks"):
        say("networks", "TaskTemplate.Networks", task["Networks"], [n["Target"] for n in task["Networks"]])
    if c.get("Mounts"):
        say("volumes", f"{C}.Mounts", c["Mounts"], _mounts(c["Mounts"]))
    if c.get("Secrets"):
        say("secrets", f"{C}.Secrets", c["Secrets"], _files(c["Secrets"], "SecretName", lambda n: n))
    if c.get("Configs"):
        say("configs", f"{C}.Configs", c["Configs"], _files(c["Configs"], "ConfigName", lambda n: f"/{n}"))
    res = task.get("Resources") or {}
    for part, term in (("Limits", "limits"), ("Reservations", "reservations")):
        amounts = res.get(part) or {}
        for api, key, human in (("NanoCPUs", "cpus", human_cpus), ("MemoryBytes", "memory", human_size),
                                ("Pids", "pids", None)):
            if api in amounts:
                say(f"resources.{term}.{key}", f"TaskTemplate.Resources.{part}.{api}", amounts[api],
                    human(amounts[api]) if human else amounts[api])
    placement = task.get("Placement") or {}
    if placement.get("Constraints"):
        say("placement.constraints", "TaskTemplate.Placement.Constraints", placement["Constraints"])
    if placement.get("Preferences"):
        say("placement.preferences", "TaskTemplate.Placement.Preferences", placement["Preferences"],
            [f"spread={(p.get('Spread') or {}).get('SpreadDescriptor')}" for p in placement["Preferences"]])
    if placement.get("MaxReplicas"):
        say("placement.max_replicas", "TaskTemplate.Placement.MaxReplicas", placement["MaxReplicas"])
    if c.get("Healthcheck"):
        _config(say, "healthcheck", f"{C}.Healthcheck", c["Healthcheck"], _HEALTH)
    if "StopGracePeriod" in c:
        say("stop_grace_period", f"{C}.StopGracePeriod", c["StopGracePeriod"], human_duration(c["StopGracePeriod"]))
    _config(say, "update", "UpdateConfig", spec.get("UpdateConfig"), _UPDATE)
    _config(say, "rollback", "RollbackConfig", spec.get("RollbackConfig"), _UPDATE)
    _config(say, "restart", "TaskTemplate.RestartPolicy", task.get("RestartPolicy"), _RESTART)
    return say.out


def object_terms(kind: str, name: str, spec: Mapping[str, Any]) -> list[Term]:
    """Networks, secrets and configs: `networks.<name>.driver`; a secret's versioned object by its name."""
    labels = dict(spec.get("Labels") or {})
    key = labels.get("jarvis.object") or name
    say = _Say(f"{kind}s.{key}", compose=False)
    for k, v in labels.items():
        if _bookkeeping(k) or k == "jarvis.ref":
            say.own(f"Labels.{k}", v)
        else:
            say(f"labels.{k}", f"Labels.{k}", v)
    if kind == "network":
        for api, term in (("Driver", "driver"), ("Attachable", "attachable"), ("Internal", "internal")):
            if api in spec:
                say(term, api, spec[api])
        for k, v in (spec.get("Options") or {}).items():
            say(f"driver_opts.{k}", f"Options.{k}", v)
    else:
        # the object's name carries a digest of its content: a new name is a new value
        say("version", "Name", name)
    return say.out


def swarm_terms(resource: Resource) -> list[Term] | None:
    if resource.type == "service":
        return service_terms(resource.name, resource.spec)
    if resource.type in ("network", "secret", "config"):
        return object_terms(resource.type, resource.name, resource.spec)
    return None
