"""Hetzner's rate limit waited out (issue 14): a 429 waits what its headers say and is sent again,
more times in a row than the official client would on its own, and an observation made while the
hourly budget is spent still completes instead of failing the plan."""

from __future__ import annotations

import pytest

from controller.contract import ConnectionInfo, DesiredState, Scope
from reconcilers.vps import VpsReconciler, hetzner, ratelimit

NOW = 1_700_000_000.0


def test_the_wait_is_retry_after_else_one_request_back_never_past_the_reset():
    assert ratelimit.wait_for({"Retry-After": "7", "RateLimit-Limit": "3600"}, NOW) == 7
    assert ratelimit.wait_for({"Retry-After": "900"}, NOW) == ratelimit.MAX_WAIT_S
    # no Retry-After: an hour over the limit (one request given back), bounded by the reset
    assert ratelimit.wait_for({"RateLimit-Limit": "3600", "RateLimit-Remaining": "0",
                               "RateLimit-Reset": str(int(NOW) + 3600)}, NOW) == 1.0
    assert ratelimit.wait_for({"RateLimit-Limit": "360", "RateLimit-Reset": str(int(NOW) + 4)}, NOW) == 4.0
    assert ratelimit.wait_for({"RateLimit-Limit": "36000", "RateLimit-Reset": str(int(NOW) + 1)}, NOW) == 0.1
    assert ratelimit.wait_for({}, NOW) == 1.0          # the documented default limit


def _connection(hetzner) -> ConnectionInfo:
    return ConnectionInfo(name="hz-rl", type="hetzner", config={"base_url": hetzner.base_url},
                          secrets={"api_token": "hetzner-test-token"})


@pytest.fixture
def fast_budget(hetzner):
    """36,000 requests an hour: one back every 0.1 s, so a test waits out a 429 quickly."""
    hetzner.rate_limit = hetzner.remaining = 36000
    hetzner.retry_after = None          # the rate-limit headers alone say how long
    return hetzner


def test_429s_in_a_row_are_waited_out_past_the_clients_own_five_retries(fast_budget):
    hc = hetzner.client_for(_connection(fast_budget))
    before = fast_budget.requests["GET /locations"]
    fast_budget.fail_next(429, "rate_limit_exceeded", count=8)
    assert len(hc.locations.get_all()) == 3
    # nine sends in one call: the official client alone gives up after six (5 retries)
    assert fast_budget.requests["GET /locations"] == before + 9


def test_an_observation_while_the_budget_is_spent_completes(fast_budget):
    fast_budget.remaining = 0
    live = VpsReconciler().observe(_connection(fast_budget), Scope(source="s", manifest="m"), DesiredState())
    assert live.errors == () and live.resources == ()
    assert fast_budget.statuses[429] >= 1          # the spent budget answered 429, waited out, then answered
