"""Waiting for a condition a test cannot be told about (a container's log, a leader elected): poll it,
never sleep a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], what: str = "condition", timeout: float = 60, every: float = 0.2) -> Any:
    """The predicate's first truthy value, or an AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} not reached in {timeout:.0f}s")
