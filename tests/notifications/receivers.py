"""Real receivers on loopback for notification tests: an HTTP server that records what it is sent (and,
given the webhook's secret, checks the signature the way a receiver would), and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from controller.notifications.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.support.redis_server import free_port

MAX_SKEW_S = 300


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None
    at: float = field(default_factory=time.perf_counter)

    def json(self):
        return json.loads(self.body)


class HttpReceiver:
    """POSTs recorded; with `secret`, an unsigned, wrongly signed or stale call is answered 401."""

    def __init__(self, secret: str | None = None, status: int = 200) -> None:
        self.secret, self.status = secret, status
        self.received: list[Received] = []
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):   # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verified = None
                if outer.secret is not None:
                    ts, sig = self.headers.get(TIMESTAMP_HEADER, ""), self.headers.get(SIGNATURE_HEADER, "")
                    fresh = ts.isdigit() and abs(time.time() - int(ts)) < MAX_SKEW_S
                    verified = bool(sig) and fresh and verify_signature(outer.secret, ts, body, sig)
                status = 401 if verified is False else outer.status
                with outer.cond:
                    outer.received.append(Received(self.path, dict(self.headers), body, verified))
                    outer.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "bad signature"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> HttpReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, count: int, timeout: float = 30) -> list[Received]:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{count} calls expected, {len(self.received)} received in {timeout}s")
            return list(self.received)


class SmtpReceiver:
    """aiosmtpd on a loopback port: each message's envelope kept."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):   # noqa: N802
                outer.messages.append(envelope)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
