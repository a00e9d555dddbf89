"""One error type per failure class. The API maps each to its HTTP status in one place."""

from __future__ import annotations

from typing import Any


class JarvisError(Exception):
    status = 500
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(JarvisError):
    status, code = 404, "not_found"


class Conflict(JarvisError):
    status, code = 409, "conflict"


class Invalid(JarvisError):
    """Input that passed the schema but not the rules (a 422 with field paths in `errors`)."""

    status, code = 422, "invalid"


class Unauthorized(JarvisError):
    status, code = 401, "unauthorized"


class Forbidden(JarvisError):
    status, code = 403, "forbidden"


class RateLimited(JarvisError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(JarvisError):
    status, code = 503, "unavailable"


class ConfigurationError(JarvisError):
    """The process cannot start as configured (a one-line reason, then exit)."""
