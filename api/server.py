"""Serving the app with uvicorn, draining on SIGTERM before it stops.

A replica told to stop (a rolling update, a scale-down) keeps answering for
`JARVIS_SHUTDOWN_DRAIN_SECONDS` while /readyz says 503: the balancer in front (Traefik's Swarm
provider polls every few seconds) takes it out of rotation before it closes its socket, so no
client sees a refused connection. A second signal stops at once.
"""

from __future__ import annotations

import logging
import threading

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, drain_seconds: float) -> None:
        super().__init__(config)
        self.app, self.drain_seconds = app, drain_seconds
        app.state.draining = False

    def handle_exit(self, sig, frame) -> None:
        if self.drain_seconds <= 0 or self.app.state.draining:
            return super().handle_exit(sig, frame)
        self.app.state.draining = True
        log.info("draining for %ss before stopping", self.drain_seconds,
                 extra={"event": "http.draining", "seconds": self.drain_seconds})
        timer = threading.Timer(self.drain_seconds, super().handle_exit, (sig, frame))
        timer.daemon = True
        timer.start()


def serve(app: FastAPI, drain_seconds: float, **options) -> None:
    DrainingServer(uvicorn.Config(app, **options), app, drain_seconds).run()
