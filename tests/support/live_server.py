"""The real app served by uvicorn in a thread of the test process, on a loopback port: for tests about
what only a server does (framing of request bodies, the access log, the middleware around a crash),
where TestClient would skip the HTTP layer."""

from __future__ import annotations

import threading
import time

import uvicorn

from tests.support.redis_server import free_port


class LiveServer:
    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets-sansio",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(runtime) -> LiveServer:
    from api.app import create_app

    server = LiveServer(create_app(runtime, background=False))
    server.start()
    return server
