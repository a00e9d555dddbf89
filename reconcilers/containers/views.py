"""What the API shows of a container, from the Engine API's own answers (pure functions).

Stack and service come from the labels the engines set: `com.docker.stack.namespace` and
`com.docker.swarm.service.name` for a Swarm stack's tasks (`docker stack deploy`, Portainer's Swarm
stacks), `com.docker.compose.project`/`.service` for a compose project. Environment variables are
shown by NAME only: their values are often secrets.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

STACK_LABELS = ("com.docker.stack.namespace", "com.docker.compose.project")
SWARM_SERVICE, COMPOSE_SERVICE = "com.docker.swarm.service.name", "com.docker.compose.service"
SWARM_NODE = "com.docker.swarm.node.id"
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$", re.S)


def parse_time(text: str | None) -> datetime | None:
    """Docker's RFC 3339 times (nanoseconds; "0001-01-01T00:00:00Z" for never) as aware datetimes."""
    if not text or text.startswith("0001-"):
        return None
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        return None
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{tz}")


def summary(entry: dict[str, Any], inspect: dict[str, Any] | None) -> dict[str, Any]:
    """One row of the containers list: `entry` from /containers/json, `inspect` from /containers/{id}/json
    (restarts, health and start time are only there; None when the container vanished in between)."""
    labels = entry.get("Labels") or {}
    state = (inspect or {}).get("State") or {}
    stack = next((labels[k] for k in STACK_LABELS if labels.get(k)), None)
    service = labels.get(SWARM_SERVICE) or labels.get(COMPOSE_SERVICE)
    names = entry.get("Names") or []
    return {
        "id": entry["Id"],
        "name": (names[0].lstrip("/") if names else entry["Id"][:12]),
        "stack": stack,
        "service": service,
        "state": state.get("Status") or entry.get("State") or "unknown",
        "status": entry.get("Status") or "",
        "health": (state.get("Health") or {}).get("Status"),
        "exit_code": state.get("ExitCode") if state.get("Status") == "exited" else None,
        "restarts": int((inspect or {}).get("RestartCount") or 0),
        "image": entry.get("Image") or "",
        "created": datetime.fromtimestamp(int(entry.get("Created") or 0), UTC),
        "started": parse_time(state.get("StartedAt")),
        "ports": sorted(({"private": p.get("PrivatePort"), "public": p.get("PublicPort"),
                          "protocol": p.get("Type") or "tcp", "ip": p.get("IP")}
                         for p in entry.get("Ports") or [] if p.get("PrivatePort")),
                        key=lambda p: (p["private"], p["protocol"], p["public"] or 0, p["ip"] or "")),
        "node": labels.get(SWARM_NODE),
    }


def detail(entry: dict[str, Any], inspect: dict[str, Any], stats: dict[str, Any] | None) -> dict[str, Any]:
    config = inspect.get("Config") or {}
    networks = ((inspect.get("NetworkSettings") or {}).get("Networks") or {})
    return {
        **summary(entry, inspect),
        "command": [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])],
        "env_names": sorted({e.split("=", 1)[0] for e in config.get("Env") or [] if e}),
        "mounts": [{"type": m.get("Type") or "", "source": m.get("Name") or m.get("Source") or "",
                    "destination": m.get("Destination") or "", "read_only": not m.get("RW", True)}
                   for m in inspect.get("Mounts") or []],
        "networks": [{"name": n, "ip": (v or {}).get("IPAddress") or None} for n, v in sorted(networks.items())],
        "resources": usage(stats) if stats else None,
    }


def usage(stats: dict[str, Any]) -> dict[str, Any] | None:
    """CPU % (of all the host's CPUs together, as `docker stats` shows it), memory and network totals
    from one non-streamed stats read (the engine samples twice, so precpu_stats is filled)."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    mem = stats.get("memory_stats") or {}
    if not cpu and not mem:
        return None    # a stopped container has no usage
    delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (pre.get("cpu_usage") or {}).get("total_usage", 0)
    system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    cache = (mem.get("stats") or {}).get("inactive_file", 0)
    nets = (stats.get("networks") or {}).values()
    return {
        "cpu_percent": round(delta / system * cpus * 100, 2) if delta > 0 and system > 0 else 0.0,
        "memory_bytes": max(int(mem.get("usage", 0)) - int(cache), 0),
        "memory_limit_bytes": int(mem.get("limit", 0)) or None,
        "network_rx_bytes": sum(int(n.get("rx_bytes", 0)) for n in nets),
        "network_tx_bytes": sum(int(n.get("tx_bytes", 0)) for n in nets),
        "pids": int((stats.get("pids_stats") or {}).get("current", 0)),
    }


def log_lines(payload: bytes, stream: str, *, details: bool = False) -> list[dict[str, Any]]:
    """Lines of one stream read with timestamps=1: [{stream, time, text}]; a line without a timestamp
    (a TTY's carriage returns) keeps the previous line's time. Read with details=1 (a service's log),
    each line also has `details`: the attributes the engine put before the text
    (`com.docker.swarm.task.id=…,com.docker.swarm.node.id=…`, values URL-encoded)."""
    out: list[dict[str, Any]] = []
    last: datetime | None = None
    attrs: dict[str, str] = {}
    for raw in payload.decode("utf-8", errors="replace").splitlines():
        m = _LOG_LINE.match(raw)
        if m:
            last, text = parse_time(m.group(1)), m.group(2)
            if details:
                attrs, text = _details(text)
        else:
            text = raw
        out.append({"stream": stream, "time": last, "text": text, **({"details": attrs} if details else {})})
    return out


def _details(text: str) -> tuple[dict[str, str], str]:
    """The engine writes `<k=v,k=v> <text>`, or ` <text>` when a line has no attributes."""
    head, _, rest = text.partition(" ")
    attrs = {}
    for pair in head.split(",") if head else ():
        key, _, value = pair.partition("=")
        attrs[unquote(key)] = unquote(value)
    return attrs, rest


def merged(stdout: list[dict[str, Any]], stderr: list[dict[str, Any]], tail: int | None) -> list[dict[str, Any]]:
    """Both streams in time order (stable: equal times keep stdout first), the last `tail` lines."""
    epoch = datetime.min.replace(tzinfo=UTC)
    lines = sorted(stdout + stderr, key=lambda line: line["time"] or epoch)
    return lines[-tail:] if tail else lines
