"""Swarm placement constraints evaluated against the node list, to report "no node satisfies"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_EXPR = re.compile(r"^\s*([\w.\-/]+)\s*(==|!=)\s*(.+?)\s*$")


def _node_value(node: Mapping[str, Any], key: str) -> str | None:
    spec, desc = node.get("Spec", {}), node.get("Description", {})
    fixed = {"node.id": node.get("ID"), "node.hostname": desc.get("Hostname"), "node.role": spec.get("Role"),
             "node.platform.os": desc.get("Platform", {}).get("OS"),
             "node.platform.arch": desc.get("Platform", {}).get("Architecture")}
    if key in fixed:
        return fixed[key]
    if key.startswith("node.labels."):
        return (spec.get("Labels") or {}).get(key[len("node.labels."):])
    if key.startswith("engine.labels."):
        return (desc.get("Engine", {}).get("Labels") or {}).get(key[len("engine.labels."):])
    return None


def node_matches(constraints: Iterable[str], node: Mapping[str, Any]) -> bool:
    for c in constraints:
        m = _EXPR.match(c)
        if not m:
            return False
        key, op, want = m.groups()
        have = _node_value(node, key)
        if (have == want) != (op == "=="):
            return False
    return True


def satisfiable(constraints: Iterable[str], nodes: Iterable[Mapping[str, Any]]) -> bool:
    constraints = list(constraints)
    return any(node_matches(constraints, n) for n in nodes)
