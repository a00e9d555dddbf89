"""Starts and stops what `jarvis serve` runs beside the API: the jobs worker and sweeper, and
the reconcile loop. Embedded (no Redis) always runs the worker here: nothing else would."""

from __future__ import annotations

import logging

from controller.runtime import Runtime

log = logging.getLogger(__name__)


def start(rt: Runtime) -> list:
    from controller.jobs.service import JobsService, _register_hooks

    parts = []
    jobs = JobsService.of(rt)
    if rt.settings.run_worker or rt.redis is None:
        _register_hooks(rt, jobs)
        parts.append(jobs.start_worker())
        parts.append(jobs.start_sweeper())
    if rt.settings.run_controller:
        try:
            from controller.gitops.service import start_controller
        except ImportError:
            return parts
        parts.append(start_controller(rt))
    return parts


def stop(parts: list) -> None:
    for part in reversed(parts):
        try:
            part.stop()
        except Exception:
            log.exception("stopping %s failed", part)
