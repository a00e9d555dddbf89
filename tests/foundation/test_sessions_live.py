"""Sessions against real `jarvis serve` processes: concurrent refresh rotation (PostgreSQL and
SQLite, several uvicorn workers) and an ended session refused by every process, on HTTP and on
WebSockets. The figures are printed for the closing note (`pytest -s`)."""

from __future__ import annotations

import json
import secrets
import threading
import time

import httpx
import pytest

from tests.support import pg
from tests.support.jarvis_server import JarvisServer
from tests.support.jobs import running_job
from tests.support.redis_server import RedisServer

PASSWORD = "live-sessions-" + secrets.token_urlsafe(8)


@pytest.fixture
def redis():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jarvis.db'}"
        return
    name = pg.create_database("jarvis_sessions")
    yield pg.sqlalchemy_url(name)
    pg.drop_database(name)


def _servers(url, tmp_path, redis, count: int, workers: int = 1) -> list[JarvisServer]:
    out = []
    for i in range(count):
        d = tmp_path / f"srv{i}"
        d.mkdir()
        args = ("--workers", str(workers)) if workers > 1 else ()
        out.append(JarvisServer(url, d, {"JARVIS_REDIS_URL": redis.url}, serve_args=args))
    return out


def _login(base: str, email: str) -> dict:
    r = httpx.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_concurrent_refreshes_of_one_token_let_exactly_one_win(database_url, tmp_path, redis):
    (server,) = _servers(database_url, tmp_path, redis, 1, workers=2)
    server.jarvis("user", "add", "--email", "racer@example.test", "--role", "operator", "--password-stdin",
                  stdin=PASSWORD + "\n")
    server.start()
    try:
        tokens = _login(server.url, "racer@example.test")
        barrier = threading.Barrier(10)
        answers: list[httpx.Response] = []
        lock = threading.Lock()

        def race():
            with httpx.Client(base_url=server.url, timeout=60) as c:
                barrier.wait()
                r = c.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            with lock:
                answers.append(r)

        threads = [threading.Thread(target=race) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in answers)
        winners = [r.json() for r in answers if r.status_code == 200]
        print(f"\n[{database_url.split(':')[0]}] 10 concurrent refreshes: {codes.count(200)}x200, "
              f"{codes.count(401)}x401")
        assert codes == [200] + [401] * 9, codes
        # the losers were reuse: the family is revoked, the winner's new refresh token with it
        again = httpx.post(f"{server.url}/api/auth/refresh", json={"refresh_token": winners[0]["refresh_token"]})
        assert again.status_code == 401
    finally:
        server.stop()


# -- item 2: an ended session is refused by every process, and its open WebSockets are closed ------

def _refused_everywhere(bases: list[str], token: str, deadline_s: float = 10.0) -> float:
    """Seconds until every server answers 401 to `token`, asking each over new connections (so the
    kernel hands them to either uvicorn worker); then every later ask is a 401 too."""
    started = time.monotonic()
    refused: set[str] = set()
    while len(refused) < len(bases):
        assert time.monotonic() - started < deadline_s, f"still accepted after {deadline_s}s by {set(bases) - refused}"
        for base in bases:
            if base not in refused and _me(base, token) == 401:
                refused.add(base)
        time.sleep(0.02)
    took = time.monotonic() - started
    for base in bases:
        for _ in range(10):   # fresh connections: whichever process answers, it refuses
            assert _me(base, token) == 401
        r = httpx.post(f"{base}/api/auth/totp/enroll", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 401 and r.json()["reason"] == "session_ended", r.text
    return took


def _me(base: str, token: str) -> int:
    with httpx.Client(timeout=30) as c:   # a new connection per ask
        return c.get(f"{base}/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _watch(base: str, job_id: int, token: str):
    from websockets.sync.client import connect

    ws = connect(base.replace("http://", "ws://") + f"/ws/jobs/{job_id}",
                 additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10)
    assert json.loads(ws.recv(timeout=10))["type"] == "status"
    return ws


def _closed_for_ended_session(ws) -> tuple[dict, int, str]:
    from websockets.exceptions import ConnectionClosed

    frame = json.loads(ws.recv(timeout=10))
    try:
        ws.recv(timeout=10)
        raise AssertionError("the socket stayed open after the session ended")
    except ConnectionClosed as closed:
        return frame, closed.rcvd.code, closed.rcvd.reason


ENDINGS = {
    "logout": lambda base, t, email: httpx.post(f"{base}/api/auth/logout", timeout=30,
                                                headers={"Authorization": f"Bearer {t['access_token']}"},
                                                json={"refresh_token": t["refresh_token"]}),
    "password change": lambda base, t, email: httpx.post(
        f"{base}/api/auth/password", timeout=30, headers={"Authorization": f"Bearer {t['access_token']}"},
        json={"current_password": PASSWORD, "new_password": PASSWORD + "-new"}),
    # the refresh token is rotated, then the old one is presented again: the family is revoked
    "refresh reuse": lambda base, t, email: (
        httpx.post(f"{base}/api/auth/refresh", json={"refresh_token": t["refresh_token"]}, timeout=30),
        httpx.post(f"{base}/api/auth/refresh", json={"refresh_token": t["refresh_token"]}, timeout=30))[1],
}
REASONS = {"logout": "logged out", "password change": "password changed", "refresh reuse": "refresh token reused"}


@pytest.mark.parametrize("shared", [True, False], ids=["two servers, redis", "embedded, one process"])
def test_an_ended_session_is_refused_everywhere_within_a_second(database_url, tmp_path, redis, shared):
    if shared:
        # one `serve --workers 2` and another replica, sharing the database, Redis and the signing key
        env = {"JARVIS_REDIS_URL": redis.url, "JARVIS_SECRET_KEY": secrets.token_urlsafe(40)}
        a = JarvisServer(database_url, _mkdir(tmp_path / "workers"), env, serve_args=("--workers", "2"))
        servers = [a, JarvisServer(database_url, _mkdir(tmp_path / "replica"), env)]
    else:
        # embedded: one process, no Redis (answers remembered in the process)
        servers = [JarvisServer(database_url, _mkdir(tmp_path / "embedded"))]
    emails = {name: f"ends-{i}-{secrets.token_hex(3)}@example.test" for i, name in enumerate(ENDINGS)}
    for email in emails.values():
        servers[0].jarvis("user", "add", "--email", email, "--role", "operator", "--password-stdin",
                          stdin=PASSWORD + "\n")
    job_id = running_job(database_url)
    bases = [s.url for s in servers]
    try:
        for s in servers:
            s.start(timeout=180)    # a busy host starts uvicorn's children slowly
        figures = {}
        for name, end in ENDINGS.items():
            tokens = _login(bases[0], emails[name])
            for base in bases:
                assert _me(base, tokens["access_token"]) == 200
            sockets = [_watch(base, job_id, tokens["access_token"]) for base in bases]
            r = end(bases[-1], tokens, emails[name])      # ended through the last server
            assert r.status_code in (200, 204, 401), r.text   # a password change answers a fresh session
            figures[name] = _refused_everywhere(bases, tokens["access_token"])
            for ws in sockets:
                frame, code, reason = _closed_for_ended_session(ws)
                assert frame == {"type": "error", "detail": f"session ended: {REASONS[name]}"}
                assert code == 4401 and reason == f"session ended: {REASONS[name]}"
        print(f"\n[{database_url.split(':')[0]}, {'shared' if shared else 'embedded'}] refused everywhere after "
              + ", ".join(f"{k}: {v * 1000:.0f} ms" for k, v in figures.items()))
    finally:
        for s in servers:
            s.stop()


def _mkdir(path):
    path.mkdir()
    return path
