"""The sliding-window limiter, in memory and in Redis, through the one interface (a clock handed in,
so the window's edges are exact)."""

from __future__ import annotations

import pytest
import redis as redis_lib

from controller.ratelimit import MemoryLimiter, RedisLimiter
from tests.support.redis_server import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def redis_url():
    server = RedisServer().start()
    yield server.url
    server.stop()


@pytest.fixture(params=["memory", "redis"])
def limiter(request, redis_url):
    clock = Clock()
    if request.param == "memory":
        return MemoryLimiter(clock), clock
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    return RedisLimiter(client, clock), clock


def test_at_most_limit_events_in_any_window_across_a_fixed_window_edge(limiter):
    lim, clock = limiter
    clock.now = 1_000_050.0      # near the end of a calendar minute: a fixed window would reset at :60
    for _ in range(3):           # at :50, :51, :52
        assert lim.hit("k", 3, 60) == 0
        clock.now += 1
    clock.now += 12              # :65, past the minute's edge: still the same sliding minute
    wait = lim.hit("k", 3, 60)
    assert wait == 45            # the oldest event leaves the window 60 s after it came
    assert lim.peek("k", 3, 60) == 45
    clock.now += 45.001
    assert lim.hit("k", 3, 60) == 0      # room for one, no more
    assert lim.hit("k", 3, 60) > 0


def test_a_refused_event_is_not_counted(limiter):
    lim, clock = limiter
    for _ in range(2):
        assert lim.hit("k", 2, 10) == 0
    for _ in range(50):          # a client that keeps knocking is not held back for ever
        clock.now += 0.1
        assert lim.hit("k", 2, 10) > 0
    clock.now += 5.01
    assert lim.hit("k", 2, 10) == 0


def test_peek_counts_nothing_and_reset_forgets(limiter):
    lim, clock = limiter
    assert lim.peek("k", 1, 60) == 0
    assert lim.peek("k", 1, 60) == 0
    assert lim.hit("k", 1, 60) == 0
    assert lim.peek("k", 1, 60) == 60
    assert lim.hit("other", 1, 60) == 0     # keys are separate
    lim.reset("k")
    assert lim.peek("k", 1, 60) == 0 and lim.peek("other", 1, 60) == 60


def test_redis_limits_are_shared_by_every_process(redis_url):
    clock = Clock()
    a = RedisLimiter(redis_lib.Redis.from_url(redis_url), clock)
    b = RedisLimiter(redis_lib.Redis.from_url(redis_url), clock)
    a.reset("shared")
    assert a.hit("shared", 2, 60) == 0 and b.hit("shared", 2, 60) == 0
    assert a.hit("shared", 2, 60) > 0 and b.peek("shared", 2, 60) > 0
