"""Hetzner Cloud's rate limit, respected: a 429 is waited out, never a failed plan.

The API allows `RateLimit-Limit` requests an hour per project (3,600 by default) and gives them
back gradually, one every hour / limit; each answer says `RateLimit-Remaining` and
`RateLimit-Reset` (the UNIX time when the budget is full again), and a spent budget answers 429
`rate_limit_exceeded`. The official client retries a 429 only 5 times on its own exponential
back-off (up to a minute, blind to those headers), so every request goes through `RateLimitRetry`
on the client's HTTP session: a 429 waits what `Retry-After` says when the answer has one, else
the time one request takes to come back (an hour over the limit, never past the reset), and is
sent again, up to `RETRIES` times.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger("jarvis.vps.hetzner")

RETRIES = 20              # 429s waited out in a row before the client's own policy (then an error) takes over
MAX_WAIT_S = 60.0         # the longest single wait


def wait_for(headers: Mapping[str, str], now: float | None = None) -> float:
    """Seconds to wait after a 429 with these headers."""
    now = time.time() if now is None else now
    retry_after = headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return min(MAX_WAIT_S, float(retry_after))
    try:
        limit = max(1, int(headers.get("RateLimit-Limit") or 3600))
    except ValueError:
        limit = 3600
    wait = 3600 / limit                       # one request comes back
    try:
        until_reset = int(headers["RateLimit-Reset"]) - now
        if 0 < until_reset < wait:            # the whole budget is back sooner
            wait = until_reset
    except (KeyError, ValueError):
        pass
    return max(0.01, min(MAX_WAIT_S, wait))


class RateLimitRetry(Retry):
    """urllib3's retry, on 429 only, waiting what the rate-limit headers say (any method: a 429 was not processed)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("total", None)
        kwargs.setdefault("status", RETRIES)
        kwargs.update(connect=0, read=False, redirect=0, other=0, status_forcelist=[429], allowed_methods=None,
                      respect_retry_after_header=True, raise_on_status=False)
        super().__init__(**kwargs)

    def get_retry_after(self, response: Any) -> float | None:
        if response.status != 429:
            return None
        wait = wait_for(response.headers)
        log.warning("Hetzner Cloud answered 429 (rate limit; %s of %s left): waiting %.2fs",
                    response.headers.get("RateLimit-Remaining"), response.headers.get("RateLimit-Limit"), wait)
        return wait


def install(session: Any) -> None:
    """Every request of this `requests` session waits out the rate limit."""
    adapter = HTTPAdapter(max_retries=RateLimitRetry())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
