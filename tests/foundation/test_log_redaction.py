"""Secrets in a URL's query never reach the log: read from the real output of `jarvis serve
--workers 2` (uvicorn's own lines and ours, from every process)."""

from __future__ import annotations

import json
import secrets
import time

import httpx
from websockets.sync.client import connect

from tests.support.jarvis_server import JarvisServer
from tests.support.jobs import running_job
from tests.support.redis_server import RedisServer

PASSWORD = "redaction-" + secrets.token_urlsafe(8)


def test_a_token_in_a_websocket_query_and_other_query_secrets_are_not_logged(tmp_path):
    redis = RedisServer().start()
    url = f"sqlite:///{tmp_path / 'jarvis.db'}"
    server = JarvisServer(url, tmp_path, {"JARVIS_REDIS_URL": redis.url}, serve_args=("--workers", "2"))
    server.jarvis("user", "add", "--email", "logged@example.test", "--role", "viewer", "--password-stdin",
                  stdin=PASSWORD + "\n")
    job_id = running_job(url)
    try:
        server.start(timeout=180)
        r = httpx.post(f"{server.url}/api/auth/login", json={"email": "logged@example.test", "password": PASSWORD})
        assert r.status_code == 200, r.text
        access, refresh = r.json()["access_token"], r.json()["refresh_token"]
        # the way a browser script must pass it: a WebSocket cannot carry an Authorization header
        with connect(f"{server.url.replace('http', 'ws')}/ws/jobs/{job_id}?after=0&token={access}",
                     open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "status"
        other = "s3cr3t-" + secrets.token_hex(8)
        httpx.get(f"{server.url}/api/auth/me", headers={"Authorization": f"Bearer {access}"},
                  params={"refresh_token": refresh, "password": other, "X-Amz-Signature": other, "after": 7})

        deadline = time.monotonic() + 30
        while "WebSocket /ws/jobs/" not in server.log_tail(10**7):
            assert time.monotonic() < deadline, server.log_tail()
            time.sleep(0.1)
        text = server.log_tail(10**7)
        accepted = next(line for line in text.splitlines() if "WebSocket /ws/jobs/" in line)
        assert f"/ws/jobs/{job_id}?after=0&token=[redacted]" in accepted, accepted
        for secret in (access, access.split(".")[2], refresh, other, PASSWORD):
            assert secret not in text
        for line in text.splitlines():
            if line.startswith("{"):
                json.loads(line)     # redaction keeps every line one JSON object
    finally:
        server.stop()
        redis.stop()
