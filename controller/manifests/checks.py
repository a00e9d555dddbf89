"""Checks across sections, run on a manifest whose shape is valid: names, references and connections."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from yaml.nodes import Node

from .errors import ManifestError
from .extensions import KindSection
from .models import Manifest, fqdn
from .translate import did_you_mean
from .yamltree import locate

# which connection each section deploys through
SECTION_CONNECTION = {
    "services": "swarm", "compose": "swarm", "networks": "swarm", "secrets": "swarm", "configs": "swarm",
    "dns": "dns", "servers": "servers", "stacks": "stacks",
}
_CONNECTION_KIND = {"swarm": "docker", "dns": "cloudflare", "servers": "hetzner", "stacks": "portainer"}

# (runbook name, `with:` inputs, the manifest's connections) -> None when no runbook has that name, else
# the inputs' problems as [{path: "input.volume", message, hint?}]. Handed in by the caller that has a runbook
# catalog (the manifests package knows no runbooks), so `backups:` inputs fail where they are written.
_PATH_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
RunbookInputs = Callable[[str, dict[str, Any], dict[str, str]], list[dict[str, str]] | None]


class _Report:
    def __init__(self, root: Node | None, path: str) -> None:
        self.root, self.path, self.errors = root, path, list[ManifestError]()

    def add(self, loc: tuple[str | int, ...], message: str, hint: str | None = None, at_key: bool = False) -> None:
        pos = locate(self.root, loc, at_key=at_key)
        self.errors.append(ManifestError(self.path, pos.line, pos.column, message, hint))

    def line_of(self, loc: tuple[str | int, ...]) -> int:
        return locate(self.root, loc).line


def check(manifest: Manifest, root: Node | None, path: str,
          known_connections: Collection[str] | Mapping[str, Collection[str]] | None = None,
          extra: tuple[KindSection, ...] = (), runbook_inputs: RunbookInputs | None = None) -> list[ManifestError]:
    """`known_connections`: the connection names, or (to check `connection:NAME/KEY` references too)
    each name with its credential keys. `extra`: the sections installed kinds bring (extensions.py).
    `runbook_inputs`: checks `backups:` runbooks and their inputs."""
    report = _Report(root, path)
    _connections(manifest, report, known_connections, extra)
    if isinstance(known_connections, Mapping):
        _secret_references(manifest, report, known_connections)
    _unique_names(manifest, report)
    _service_references(manifest, report)
    _dns(manifest, report)
    if runbook_inputs is not None:
        _backup_inputs(manifest, report, runbook_inputs)
    return report.errors


def _backup_inputs(m: Manifest, report: _Report, runbook_inputs: RunbookInputs) -> None:
    conns = m.connections.model_dump(exclude_none=True)
    for index, entry in enumerate(m.backups or []):
        problems = runbook_inputs(entry.runbook, dict(entry.with_), conns)
        if problems is None:
            report.add(("backups", index, "runbook"), f"backups.{entry.name}: no runbook named {entry.runbook!r}")
            continue
        for problem in problems:
            steps = [int(i) if i else k for k, i in _PATH_STEP.findall(problem["path"].removeprefix("input"))]
            shown = "with" + problem["path"].removeprefix("input")
            report.add(("backups", index, "with", *steps), f"backups.{entry.name}.{shown}: {problem['message']}",
                       problem.get("hint"))


def _connections(m: Manifest, report: _Report, known: set[str] | None, extra: tuple[KindSection, ...]) -> None:
    needs = [(s, c, _CONNECTION_KIND[c]) for s, c in SECTION_CONNECTION.items()]
    needs += [(k.section, k.connection_key, k.connection_type) for k in extra if k.section not in SECTION_CONNECTION]
    for section, conn, conn_kind in needs:
        if getattr(m, section, None) and getattr(m.connections, conn, None) is None:
            report.add((section,), f"{section!r} needs connections.{conn} (the {conn_kind} "
                       f"connection it deploys through)",
                       f"add `connections: {{{conn}: <connection name>}}`", at_key=True)
    if known is None:
        return
    kinds = {**_CONNECTION_KIND, **{k.connection_key: k.connection_type for k in extra}}
    for conn, name in m.connections.model_dump(exclude_none=True).items():
        if name not in known:
            report.add(("connections", conn), f"unknown connection {name!r} in connections.{conn}",
                       unknown_connection_hint(name, known, kinds.get(conn, "")))


def unknown_connection_hint(name: str, known: Collection[str], conn_type: str = "", holding: str = "") -> str:
    """What a new user adds: a near name first, then the connection to create, with its type and where."""
    add = (f"add a {conn_type + ' ' if conn_type else ''}connection named {name!r}"
           f"{f' holding the credential {holding!r}' if holding else ''} in Settings → Connections")
    near = did_you_mean(name, known)
    if near:
        return f"{near} Or {add}"
    return f"known connections: {', '.join(sorted(known))}; or {add}" if known else f"no connections are defined yet: {add}"


def _secret_references(m: Manifest, report: _Report, known: Mapping[str, Collection[str]]) -> None:
    """`from: connection:NAME/KEY` must name a stored connection and one of its credential keys."""
    for name, ref in (m.secrets or {}).items():
        scheme, _, rest = ref.from_.partition(":")
        if scheme != "connection":
            continue
        conn, _, key = rest.partition("/")
        loc = ("secrets", name, "from")
        if conn not in known:
            report.add(loc, f"secrets.{name}: unknown connection {conn!r} in {ref.from_!r}",
                       unknown_connection_hint(conn, known, holding=key))
        elif key not in known[conn]:
            keys = sorted(known[conn])
            hint = did_you_mean(key, keys) or (f"its credentials: {', '.join(keys)}" if keys
                                               else f"connection {conn!r} has no credentials")
            report.add(loc, f"secrets.{name}: connection {conn!r} has no credential {key!r}", hint)


def _duplicates(report: _Report, section: str, keys: Iterable[Any], field: str, what: str) -> None:
    first: dict[Any, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            line = report.line_of((section, first[key], field))
            shown = key if isinstance(key, str) else key[0]
            report.add((section, index, field), f"duplicate {what} {shown!r} in {section} (first at line {line})")
        else:
            first[key] = index


def _unique_names(m: Manifest, report: _Report) -> None:
    for section, what in (("servers", "server"), ("stacks", "stack"), ("backups", "backup")):
        items = getattr(m, section) or []
        _duplicates(report, section, (item.name for item in items), "name", what)
    _duplicates(report, "runbooks", (r.path for r in m.runbooks or []), "path", "runbook path")
    _duplicates(report, "dns", (z.zone.rstrip(".").lower() for z in m.dns or []), "zone", "zone")


def _service_references(m: Manifest, report: _Report) -> None:
    secrets, configs, networks = m.secrets or {}, m.configs or {}, m.networks or {}
    for name, service in (m.services or {}).items():
        for kind, declared, refs in (("secret", secrets, service.secrets), ("config", configs, service.configs)):
            for index, ref in enumerate(refs):
                if ref.source not in declared:
                    report.add(("services", name, f"{kind}s", index, "source"),
                               f"service {name!r} uses {kind} {ref.source!r}, which is not declared under `{kind}s:`",
                               did_you_mean(ref.source, declared))
        for index, network in enumerate(service.networks):
            if network not in networks:
                report.add(("services", name, "networks", index),
                           f"service {name!r} uses network {network!r}, which is not declared under `networks:`",
                           did_you_mean(network, networks)
                           or "declare it; add `external: true` when it exists outside Jarvis")


def _dns(m: Manifest, report: _Report) -> None:
    for zi, zone in enumerate(m.dns or []):
        apex = zone.zone.rstrip(".").lower()
        first: dict[tuple[str, str, str], int] = {}
        for ri, record in enumerate(zone.records):
            full = fqdn(record.name, apex)
            loc = ("dns", zi, "records", ri)
            if full != apex and not full.endswith("." + apex):
                report.add((*loc, "name"), f"record {record.name!r} is outside the zone {apex!r}")
                continue
            key = (full, record.type, (record.content or "").rstrip(".").lower())
            if key in first:
                line = report.line_of(("dns", zi, "records", first[key]))
                report.add(loc, f"duplicate {record.type} record {full!r} with content {record.content!r} "
                           f"(first at line {line})")
            else:
                first[key] = ri
