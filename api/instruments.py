"""What one API process measures itself (HTTP requests, WebSocket watchers), and the registry a
scrape of `/metrics` reads: these, plus the state of Jarvis read from the database
(`controller.metrics`).

`jarvis serve --workers N` runs N processes behind one port: each keeps its counters in files
under PROMETHEUS_MULTIPROC_DIR (set by `prepare_multiprocess` before they start), and a scrape,
whichever process answers it, adds them all up.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    multiprocess,
)

from controller.metrics import StateCollector
from controller.runtime import Runtime

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
disable_created_metrics()     # no `_created` twin of every series: Prometheus does not need them
UNMATCHED = "(unmatched)"    # no route: 404s are counted under one label, not one per probed URL

HTTP_REQUESTS = Counter("jarvis_http_requests", "HTTP requests answered, by route template and status.",
                        ["method", "route", "status"])
HTTP_LATENCY = Histogram("jarvis_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
                         ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
WS_WATCHERS = Gauge("jarvis_websocket_watchers", "WebSocket clients following a job's log right now.",
                    multiprocess_mode="livesum")


def route_of(scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or UNMATCHED


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def registry_for(rt: Runtime) -> CollectorRegistry:
    """The registry `/metrics` renders: this process's (or every API process's) metrics, and the state."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)     # this process's own, with its CPU, memory and GC figures
    registry.register(StateCollector(rt.db))
    return registry


def prepare_multiprocess(directory: Path) -> None:
    """Before the API processes start: an empty directory for their counters, named in the environment
    they inherit (prometheus_client reads it when first imported). Old files would add a previous run's
    counts to this one's."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(directory.resolve())
