"""Finds reconcilers through the `jarvis.reconcilers` entry-point group.

The controller never imports a reconciler module by name: a new target kind is one module and
one line in pyproject.toml. Tests register extra kinds (a test reconciler) with `register`.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from controller.contract import Reconciler

log = logging.getLogger(__name__)
GROUP = "jarvis.reconcilers"
_extra: dict[str, type] = {}


def register(cls: type) -> None:
    _extra[cls.kind] = cls


def unregister(kind: str) -> None:
    _extra.pop(kind, None)


def reconciler_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not stop the others
            log.error("reconciler %s failed to load: %s", ep.name, exc)
            continue
        found[getattr(cls, "kind", ep.name)] = cls
    found.update(_extra)
    return found


def reconcilers() -> dict[str, Reconciler]:
    return {kind: cls() for kind, cls in reconciler_classes().items()}

