"""Sessions against real `jarvis serve` processes: concurrent refresh rotation (PostgreSQL and
SQLite, several uvicorn workers) and an ended session refused by every process, on HTTP and on
WebSockets. The figures are printed for the closing note (`pytest -s`)."""

from __future__ import annotations

import secrets
import threading

import httpx
import pytest

from tests.support import pg
from tests.support.jarvis_server import JarvisServer
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
