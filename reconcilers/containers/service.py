"""The containers API's work, callable from the API and from runbooks alike.

A container is addressed by its connection and a `ref`: the container id for a docker connection,
`<endpoint id>:<container id>` for a Portainer one (one Portainer serves many engines). One
environment that cannot be read is reported on its row; the others are still listed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from controller.contract import ConnectionInfo, ReconcilerError
from controller.errors import Invalid, NotFound

from . import views
from .engines import OPENERS, Engine, Environment

CONNECTION_TYPES = tuple(sorted(OPENERS))


def _ref(env: Environment, cid: str) -> str:
    return cid if env.endpoint is None else f"{env.endpoint}:{cid}"


def _env_row(env: Environment, error: str | None = None) -> dict[str, Any]:
    return {"connection": env.connection, "connection_type": env.connection_type, "name": env.name,
            "endpoint": env.endpoint, "status": env.status, "error": error, "stacks": []}


INSPECTS_IN_FLIGHT = 8    # the engine answers inspects side by side; within the SDK's pool of 10 connections


def _inspect_or_none(engine: Engine, cid: str) -> dict[str, Any] | None:
    try:
        return engine.inspect(cid)
    except NotFound:           # removed between the list and the inspect
        return None


def _tree(env: Environment, engine: Engine) -> dict[str, Any]:
    row = _env_row(env)
    entries = engine.containers()
    stacks: dict[str | None, dict[str | None, list[dict[str, Any]]]] = {}
    # restarts, health and start time are only in each container's inspect: one round trip per
    # container, made several at a time instead of one after another
    with ThreadPoolExecutor(max_workers=INSPECTS_IN_FLIGHT) as pool:
        inspects = list(pool.map(lambda e: _inspect_or_none(engine, e["Id"]), entries))
    for entry, inspect in zip(entries, inspects, strict=True):
        if inspect is None:
            continue
        c = {**views.summary(entry, inspect), "connection": env.connection, "environment": env.name,
             "ref": _ref(env, entry["Id"])}
        stacks.setdefault(c["stack"], {}).setdefault(c["service"], []).append(c)
    for stack in sorted(stacks, key=lambda s: (s is None, s or "")):
        services = [{"name": svc, "containers": sorted(cs, key=lambda c: c["name"])}
                    for svc, cs in sorted(stacks[stack].items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
        row["stacks"].append({"name": stack, "services": services,
                              "containers": sum(len(s["containers"]) for s in services),
                              "errors": sum(1 for s in services for c in s["containers"] if _in_error(c))})
    return row


def _in_error(c: dict[str, Any]) -> bool:
    """A container an operator should look at: unhealthy, dead, restarting, or exited with an error."""
    return (c["health"] == "unhealthy" or c["state"] in ("dead", "restarting")
            or (c["state"] == "exited" and c.get("exit_code") not in (0, None)))


def _connection_rows(conn: ConnectionInfo) -> list[dict[str, Any]]:
    opener = OPENERS[conn.type]
    out = []
    try:
        with opener(conn) as envs:
            for env, engine in envs:
                if env.status != "up":
                    out.append(_env_row(env, "the environment is down"))
                    continue
                try:
                    out.append(_tree(env, engine))
                except ReconcilerError as exc:
                    out.append(_env_row(env, exc.message))
    except ReconcilerError as exc:
        out.append(_env_row(Environment(conn.name, conn.type, conn.name, status="down"), exc.message))
    return out


def containers_tree(conns: Sequence[ConnectionInfo]) -> list[dict[str, Any]]:
    """Environment → stack → service → container, over every connection given (docker and portainer).
    Connections are read side by side: one engine that does not answer delays the list by its timeout
    once, not once per connection."""
    known = sorted((c for c in conns if c.type in OPENERS), key=lambda c: c.name)
    if not known:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(known))) as pool:
        return [row for rows in pool.map(_connection_rows, known) for row in rows]


@contextmanager
def _engine_for(conn: ConnectionInfo, ref: str, noun: str = "container") -> Iterator[tuple[Environment, Engine, str]]:
    opener = OPENERS.get(conn.type)
    if opener is None:
        raise NotFound(f"connection {conn.name!r} is a {conn.type} connection: it has no {noun}s")
    endpoint, sep, cid = ref.rpartition(":")
    if not cid or len(cid) > 128 or not cid.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise Invalid(f"not a {noun} {'id' if noun == 'container' else 'name'}: {ref!r}")
    with opener(conn) as envs:
        if not sep and any(env.endpoint is not None for env, _ in envs):
            raise Invalid(f"connection {conn.name!r} serves several environments: address a {noun} as "
                          f"<endpoint id>:<{noun} {'id' if noun == 'container' else 'name'}>, got {ref!r}")
        for env, engine in envs:
            if (not sep and env.endpoint is None) or (sep and env.endpoint is not None and str(env.endpoint) == endpoint):
                yield env, engine, cid
                return
    raise NotFound(f"connection {conn.name!r} has no environment {endpoint!r}")


def _entry_of(inspect: dict[str, Any]) -> dict[str, Any]:
    """A /containers/json-shaped entry from an inspect answer (the detail reads one container only)."""
    config, net = inspect.get("Config") or {}, inspect.get("NetworkSettings") or {}
    ports = []
    for spec, binds in (net.get("Ports") or {}).items():
        port, _, proto = spec.partition("/")
        for b in binds or [{}]:
            ports.append({"PrivatePort": int(port), "PublicPort": int(b["HostPort"]) if b.get("HostPort") else None,
                          "Type": proto or "tcp", "IP": b.get("HostIp") or None})
    created = views.parse_time(inspect.get("Created"))
    return {"Id": inspect["Id"], "Names": [inspect.get("Name") or ""], "Labels": config.get("Labels") or {},
            "Image": config.get("Image") or "", "State": (inspect.get("State") or {}).get("Status"),
            "Status": "", "Created": int(created.timestamp()) if created else 0, "Ports": ports}


def container_detail(conn: ConnectionInfo, ref: str) -> dict[str, Any]:
    with _engine_for(conn, ref) as (env, engine, cid):
        inspect = engine.inspect(cid)
        running = (inspect.get("State") or {}).get("Running", False)
        stats = engine.stats(cid) if running else None
        return {**views.detail(_entry_of(inspect), inspect, stats), "connection": conn.name,
                "environment": env.name, "ref": _ref(env, inspect["Id"])}


def restart_container(conn: ConnectionInfo, ref: str) -> dict[str, Any]:
    """Restarts the container; returns its summary after the restart (its new start time)."""
    with _engine_for(conn, ref) as (env, engine, cid):
        before = engine.inspect(cid)
        engine.restart(before["Id"])
        after = engine.inspect(before["Id"])
        return {**views.summary(_entry_of(after), after), "connection": conn.name, "environment": env.name,
                "ref": _ref(env, after["Id"])}


def container_logs(conn: ConnectionInfo, ref: str, *, tail: int | None, since: datetime | None,
                   until: datetime | None) -> list[dict[str, Any]]:
    """The container's log lines, stdout and stderr apart and merged in time order."""
    with _engine_for(conn, ref) as (_env, engine, cid):
        inspect = engine.inspect(cid)
        tty = bool((inspect.get("Config") or {}).get("Tty"))
        streams = [views.log_lines(engine.logs(inspect["Id"], s, tail=tail, since=since, until=until, tty=tty), s)
                   for s in ("stdout", "stderr")]
        return views.merged(streams[0], streams[1], tail)


def service_logs(conn: ConnectionInfo, ref: str, *, tail: int | None, since: datetime | None,
                 until: datetime | None) -> list[dict[str, Any]]:
    """A Swarm service's log as `docker service logs` reads it: every task's lines (from whichever node
    runs it), stdout and stderr, merged in time order; each line labelled with its task, slot and node
    (`labels.name` is docker's own `<service>.<slot>.<task id>`, `labels.node` the node's hostname).
    `ref` is the service's name or id (`<endpoint id>:<service>` on Portainer)."""
    with _engine_for(conn, ref, "service") as (_env, engine, name):
        read_tail = tail if until is None else None      # the engine has no `until` for a service
        streams = [views.log_lines(engine.service_logs(name, s, tail=read_tail, since=since), s, details=True)
                   for s in ("stdout", "stderr")]
        tasks = {t["ID"]: t for t in engine.tasks(name)}
        hosts = {n["ID"]: (n.get("Description") or {}).get("Hostname") or n["ID"] for n in engine.nodes()}
    lines = [line for line in views.merged(streams[0], streams[1], None)
             if until is None or line["time"] is None or line["time"] < until]
    out = []
    for line in lines[-tail:] if tail else lines:
        details = line.pop("details")
        task_id, node_id = details.get("com.docker.swarm.task.id", ""), details.get("com.docker.swarm.node.id", "")
        task = tasks.get(task_id) or {}
        slot = str(task["Slot"]) if task.get("Slot") else node_id     # a global service's task: its node
        line["labels"] = {"task": task_id, "slot": slot, "node": hosts.get(node_id, node_id),
                          "name": f"{name}.{slot}.{task_id}"}
        out.append(line)
    return out
