"""One compose-style service definition → a Docker Engine ServiceSpec, the way `docker stack deploy` does.

Both input forms end here: a compose file's services (converted with a stack namespace) and
orch.yaml `services:` (rewritten to compose shape first by `manifest_services`). Follows the
docker CLI's cli/compose/convert package; the CLI is the reference the parity tests compare to.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconcilers.swarm.units import duration_ns, nano_cpus, size_bytes

NAMESPACE_LABEL = "com.docker.stack.namespace"
IMAGE_LABEL = "com.docker.stack.image"


class ConversionError(ValueError):
    """A field of one service cannot be converted; the message names the field."""


@dataclass
class Context:
    """Names the service's references resolve to (compose keys → real Swarm object names)."""

    namespace: str | None = None                  # stack name; None for orch.yaml services
    networks: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    configs: Mapping[str, str] = field(default_factory=dict)
    volumes: Mapping[str, str] = field(default_factory=dict)
    default_networks: tuple[str, ...] = ()        # compose: ("default",)
    aliases: bool = True                          # compose adds the short service name as alias


def as_map(value: Any, what: str) -> dict[str, Any]:
    """Compose allows `{K: V}` or `["K=V"]` for env and labels."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): (None if v is None else _scalar(v)) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            key, sep, val = str(item).partition("=")
            out[key] = val if sep else None
        return out
    raise ConversionError(f"{what}: expected a mapping or a list of KEY=VALUE, got {type(value).__name__}")


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _with_namespace(labels: dict[str, Any], ctx: Context) -> dict[str, str]:
    out = {k: ("" if v is None else v) for k, v in labels.items()}
    if ctx.namespace:
        out[NAMESPACE_LABEL] = ctx.namespace
    return out


def _cmd(value: Any) -> list[str] | None:
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def convert_service(name: str, svc: Mapping[str, Any], ctx: Context) -> dict[str, Any]:
    """Return the ServiceSpec (with `Name`) for one compose-shaped service."""
    def guard(field_name: str, fn, *args):
        try:
            return fn(*args)
        except (ValueError, TypeError, KeyError) as exc:
            raise ConversionError(f"{field_name}: {exc}") from None

    if not svc.get("image"):
        raise ConversionError("image: required")
    deploy = svc.get("deploy") or {}
    full_name = f"{ctx.namespace}_{name}" if ctx.namespace else name
    container: dict[str, Any] = {"Image": str(svc["image"])}
    if (entry := _cmd(svc.get("entrypoint"))) is not None:
        container["Command"] = entry
    if (args := _cmd(svc.get("command"))) is not None:
        container["Args"] = args
    env = as_map(svc.get("environment"), "environment")
    if env:
        container["Env"] = sorted(k if v is None else f"{k}={v}" for k, v in env.items())
    container["Labels"] = _with_namespace(as_map(svc.get("labels"), "labels"), ctx)
    for key, api in (("hostname", "Hostname"), ("user", "User"), ("working_dir", "Dir"),
                     ("stop_signal", "StopSignal")):
        if svc.get(key):
            container[api] = str(svc[key])
    for key, api in (("tty", "TTY"), ("stdin_open", "OpenStdin"), ("read_only", "ReadOnly"),
                     ("init", "Init")):
        if svc.get(key) is not None:
            container[api] = bool(svc[key])
    if svc.get("stop_grace_period") is not None:
        container["StopGracePeriod"] = guard("stop_grace_period", duration_ns, svc["stop_grace_period"])
    if svc.get("cap_add"):
        container["CapabilityAdd"] = list(svc["cap_add"])
    if svc.get("cap_drop"):
        container["CapabilityDrop"] = list(svc["cap_drop"])
    if svc.get("sysctls"):
        container["Sysctls"] = as_map(svc["sysctls"], "sysctls")
    if svc.get("extra_hosts"):
        hosts = as_map(svc["extra_hosts"], "extra_hosts") if isinstance(svc["extra_hosts"], Mapping) else {
            h.split(":", 1)[0]: h.split(":", 1)[1] for h in svc["extra_hosts"]}
        container["Hosts"] = [f"{ip} {host}" for host, ip in hosts.items()]
    dns = {}
    if svc.get("dns"):
        dns["Nameservers"] = [svc["dns"]] if isinstance(svc["dns"], str) else list(svc["dns"])
    if svc.get("dns_search"):
        dns["Search"] = [svc["dns_search"]] if isinstance(svc["dns_search"], str) else list(svc["dns_search"])
    if dns:
        container["DNSConfig"] = dns
    if (hc := svc.get("healthcheck")) is not None:
        container["Healthcheck"] = guard("healthcheck", _healthcheck, hc)
    mounts = guard("volumes", _mounts, svc.get("volumes") or [], ctx)
    if mounts:
        container["Mounts"] = mounts
    secrets = guard("secrets", _file_refs, svc.get("secrets") or [], ctx.secrets, "secrets", "Secret")
    if secrets:
        container["Secrets"] = secrets
    configs = guard("configs", _file_refs, svc.get("configs") or [], ctx.configs, "configs", "Config")
    if configs:
        container["Configs"] = configs

    task: dict[str, Any] = {"ContainerSpec": container}
    if (res := deploy.get("resources")) is not None:
        task["Resources"] = guard("resources", _resources, res)
    restart = guard("restart_policy", _restart, svc.get("restart"), deploy.get("restart_policy"))
    if restart:
        task["RestartPolicy"] = restart
    if (placement := deploy.get("placement")) is not None:
        task["Placement"] = guard("placement", _placement, placement)
    if (logging := svc.get("logging")) and logging.get("driver"):
        task["LogDriver"] = {"Name": logging["driver"], "Options": as_map(logging.get("options"), "logging")}
    task["Networks"] = guard("networks", _networks, name, svc.get("networks"), ctx)

    spec: dict[str, Any] = {
        "Name": full_name,
        "Labels": _with_namespace(as_map(deploy.get("labels"), "deploy.labels"), ctx),
        "TaskTemplate": task,
        "Mode": guard("mode", _mode, deploy),
    }
    if ctx.namespace:
        spec["Labels"][IMAGE_LABEL] = str(svc["image"])
    if (uc := deploy.get("update_config")) is not None:
        spec["UpdateConfig"] = guard("update_config", _update_config, uc)
    if (rc := deploy.get("rollback_config")) is not None:
        spec["RollbackConfig"] = guard("rollback_config", _update_config, rc)
    spec["EndpointSpec"] = {"Mode": deploy.get("endpoint_mode") or "vip",
                            "Ports": guard("ports", _ports, svc.get("ports") or [])}
    return spec


def _healthcheck(hc: Mapping[str, Any]) -> dict[str, Any]:
    if hc.get("disable"):
        return {"Test": ["NONE"]}
    out: dict[str, Any] = {}
    test = hc.get("test")
    if isinstance(test, str):
        out["Test"] = ["CMD-SHELL", test]
    elif test:
        out["Test"] = [str(t) for t in test]
    for key, api in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"),
                     ("start_interval", "StartInterval")):
        if hc.get(key) is not None:
            out[api] = duration_ns(hc[key], key)
    if hc.get("retries") is not None:
        out["Retries"] = int(hc["retries"])
    return out


def _mounts(volumes: list[Any], ctx: Context) -> list[dict[str, Any]]:
    out = []
    for v in volumes:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) == 1:
                v = {"type": "volume", "target": parts[0]}
            else:
                src, tgt = parts[0], parts[1]
                opts = parts[2].split(",") if len(parts) > 2 else []
                kind = "bind" if src.startswith(("/", ".", "~")) else "volume"
                v = {"type": kind, "source": src, "target": tgt, "read_only": "ro" in opts}
        kind = v.get("type", "volume")
        mount: dict[str, Any] = {"Type": kind, "Target": v["target"]}
        src = v.get("source")
        if kind == "volume" and src:
            mount["Source"] = ctx.volumes.get(src, f"{ctx.namespace}_{src}" if ctx.namespace else src)
            if ctx.namespace:
                mount["VolumeOptions"] = {"Labels": {NAMESPACE_LABEL: ctx.namespace}}
        elif src:
            mount["Source"] = src
        if v.get("read_only"):
            mount["ReadOnly"] = True
        if kind == "tmpfs" and (t := v.get("tmpfs")) and t.get("size"):
            mount["TmpfsOptions"] = {"SizeBytes": size_bytes(t["size"], "tmpfs.size")}
        out.append(mount)
    return out


def _file_refs(refs: list[Any], names: Mapping[str, str], what: str, kind: str) -> list[dict[str, Any]]:
    out = []
    for ref in refs:
        ref = {"source": ref} if isinstance(ref, str) else dict(ref)
        source = ref["source"]
        if source not in names:
            raise ConversionError(f"{source!r} is not declared under the top-level {what}")
        if names[source] is None:
            raise ConversionError(f"{source!r} cannot be resolved (see the {what[:-1]} error)")
        default_target = source if kind == "Secret" else f"/{source}"
        out.append({
            "File": {"Name": str(ref.get("target") or default_target), "UID": str(ref.get("uid", "0")),
                     "GID": str(ref.get("gid", "0")), "Mode": int(ref.get("mode", 0o444))},
            f"{kind}Name": names[source],
        })
    return out


def _resources(res: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, api in (("limits", "Limits"), ("reservations", "Reservations")):
        part = res.get(key) or {}
        conv: dict[str, Any] = {}
        if part.get("cpus") is not None:
            conv["NanoCPUs"] = nano_cpus(part["cpus"], f"resources.{key}.cpus")
        if part.get("memory") is not None:
            conv["MemoryBytes"] = size_bytes(part["memory"], f"resources.{key}.memory")
        if key == "limits" and part.get("pids") is not None:
            conv["Pids"] = int(part["pids"])
        if conv:
            out[api] = conv
    return out


_RESTART = {"always": "any", "unless-stopped": "any", "no": "none", "on-failure": "on-failure"}


def _restart(restart: str | None, policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if policy:
        out: dict[str, Any] = {}
        if policy.get("condition"):
            out["Condition"] = policy["condition"]
        if policy.get("delay") is not None:
            out["Delay"] = duration_ns(policy["delay"], "delay")
        if policy.get("max_attempts") is not None:
            out["MaxAttempts"] = int(policy["max_attempts"])
        if policy.get("window") is not None:
            out["Window"] = duration_ns(policy["window"], "window")
        return out
    if restart:
        name, _, count = str(restart).partition(":")
        if name not in _RESTART:
            raise ConversionError(f"restart: unknown policy {restart!r}")
        out = {"Condition": _RESTART[name]}
        if count:
            out["MaxAttempts"] = int(count)
        return out
    return None


def _placement(p: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.get("constraints"):
        out["Constraints"] = [str(c) for c in p["constraints"]]
    prefs = []
    for pref in p.get("preferences") or []:
        spread = pref.get("spread") if isinstance(pref, Mapping) else str(pref).partition("=")[2]
        prefs.append({"Spread": {"SpreadDescriptor": spread}})
    if prefs:
        out["Preferences"] = prefs
    if p.get("max_replicas_per_node"):
        out["MaxReplicas"] = int(p["max_replicas_per_node"])
    return out


def _networks(name: str, nets: Any, ctx: Context) -> list[dict[str, Any]]:
    if nets is None:
        nets = list(ctx.default_networks)
    items = nets.items() if isinstance(nets, Mapping) else ((n, None) for n in nets)
    out = []
    for key, opts in items:
        if key not in ctx.networks:
            raise ConversionError(f"{key!r} is not declared under the top-level networks")
        aliases = ([name] if ctx.aliases else []) + list((opts or {}).get("aliases") or [])
        att: dict[str, Any] = {"Target": ctx.networks[key]}
        if aliases:
            att["Aliases"] = aliases
        out.append(att)
    return sorted(out, key=lambda a: a["Target"])


def _mode(deploy: Mapping[str, Any]) -> dict[str, Any]:
    mode = deploy.get("mode") or "replicated"
    if mode == "global":
        if deploy.get("replicas") is not None:
            raise ConversionError("replicas cannot be set with mode global")
        return {"Global": {}}
    if mode != "replicated":
        raise ConversionError(f"unknown mode {mode!r} (replicated or global)")
    replicas = deploy.get("replicas")
    return {"Replicated": {"Replicas": 1 if replicas is None else int(replicas)}}


def _update_config(uc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if uc.get("parallelism") is not None:
        out["Parallelism"] = int(uc["parallelism"])
    if uc.get("delay") is not None:
        out["Delay"] = duration_ns(uc["delay"], "delay")
    if uc.get("failure_action"):
        out["FailureAction"] = uc["failure_action"]
    if uc.get("monitor") is not None:
        out["Monitor"] = duration_ns(uc["monitor"], "monitor")
    if uc.get("max_failure_ratio") is not None:
        out["MaxFailureRatio"] = float(uc["max_failure_ratio"])
    if uc.get("order"):
        out["Order"] = uc["order"]
    return out


def _ports(ports: list[Any]) -> list[dict[str, Any]]:
    out = []
    for p in ports:
        if isinstance(p, int | str) and not isinstance(p, bool):
            text, _, proto = str(p).partition("/")
            pub, _, tgt = text.rpartition(":")
            if ":" in pub:       # "ip:published:target": the IP is ignored by swarm
                pub = pub.rpartition(":")[2]
            entry: dict[str, Any] = {"Protocol": proto or "tcp", "TargetPort": int(tgt), "PublishMode": "ingress"}
            if pub:
                entry["PublishedPort"] = int(pub)
        else:
            entry = {"Protocol": p.get("protocol") or "tcp", "TargetPort": int(p["target"]),
                     "PublishMode": p.get("mode") or "ingress"}
            if p.get("published") is not None:
                entry["PublishedPort"] = int(p["published"])
        out.append(entry)
    return out
