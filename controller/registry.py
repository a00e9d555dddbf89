"""Finds reconcilers through the `jarvis.reconcilers` entry-point group, and hands each its context.

The controller never imports a reconciler module by name: a new target kind is one package and
one line under `[project.entry-points."jarvis.reconcilers"]` in its distribution's pyproject.toml
(Jarvis's own, or a separately installed one). `register` adds a class by hand (for a process that
composes its own kinds); the test kind under tests/kinds goes through the entry-point path.
"""

from __future__ import annotations

import functools
import logging
import sys
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from controller import connections  # module import: connections → connection_types → registry
from controller.contract import Reconciler, ReconcilerContext
from controller.errors import ConfigurationError

if TYPE_CHECKING:
    from controller.runtime import Runtime

log = logging.getLogger(__name__)
GROUP = "jarvis.reconcilers"
_extra: dict[str, type] = {}


def register(cls: type) -> None:
    _extra[cls.kind] = cls


def unregister(kind: str) -> None:
    _extra.pop(kind, None)


def reconciler_classes() -> dict[str, type]:
    found = dict(_installed(tuple(sys.path)))
    found.update(_extra)
    return found


@functools.lru_cache(maxsize=8)
def _installed(path: tuple[str, ...]) -> dict[str, type]:
    """The kinds installed on this import path. Scanning every distribution's metadata takes tens of
    milliseconds, once per sync and per apply; the kinds change only when the path does (a process
    gets new distributions by restarting, a test by putting a directory on the path)."""
    found: dict[str, type] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not stop the others
            log.error("reconciler %s failed to load: %s", ep.name, exc)
            continue
        found[getattr(cls, "kind", ep.name)] = cls
    return found


def context_for(cls: type, rt: Runtime | None = None, **overrides: Any) -> ReconcilerContext:
    """The context one kind is built with: its settings from the one settings object (over the defaults
    it declares; an unknown key is refused, naming the ones it reads) and the connection resolver."""
    kind = getattr(cls, "kind", "")
    defaults = dict(getattr(cls, "settings_defaults", {}) or {})
    configured = dict(((rt.settings.reconcilers if rt is not None else {}) or {}).get(kind) or {})
    unknown = sorted(set(configured) - set(defaults))
    if unknown:
        reads = ", ".join(sorted(defaults)) or "none"
        raise ConfigurationError(f"JARVIS_RECONCILERS: the {kind} reconciler has no setting {', '.join(unknown)} "
                                 f"(it reads: {reads})")
    resolver = connections.secret_resolver(rt.db, rt.secrets) if rt is not None else None
    fields: dict[str, Any] = {"kind": kind, "settings": {**defaults, **configured}, "resolve_secret": resolver}
    return ReconcilerContext(**{**fields, **overrides})


def reconcilers(rt: Runtime | None = None) -> dict[str, Reconciler]:
    """One instance per installed kind, built with its context (without `rt`: defaults, no stored secrets)."""
    return {kind: cls(context_for(cls, rt)) for kind, cls in reconciler_classes().items()}

