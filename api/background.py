"""Starts and stops what `jarvis serve` runs beside the API: worker, controller loop, sweepers.

Each part lands with its issue; the list is built from the runtime's settings.
"""

from __future__ import annotations

import logging

from controller.runtime import Runtime

log = logging.getLogger(__name__)


def start(rt: Runtime) -> list:
    parts = []
    for starter in _starters():
        part = starter(rt)
        if part is not None:
            parts.append(part)
    return parts


def stop(parts: list) -> None:
    for part in reversed(parts):
        try:
            part.stop()
        except Exception:
            log.exception("stopping %s failed", part)


def _starters():
    return []
