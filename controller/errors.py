"""One error type per failure class. The API maps each to its HTTP status in one place."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """Input that passed the schema but not the rules (a 422 with field paths in `errors`).

    Every 422 has one shape, whoever found the problem: `detail` (a sentence), `code`, and `errors`,
    a list of `{field, message}` (`field`: the dotted path of what is wrong, "" for the input as a whole).
    """

    status, code = 422, "invalid"

    def __init__(self, message: str, errors: Iterable[Mapping[str, Any]] = (), **details: Any) -> None:
        super().__init__(message, errors=[{"field": str(e.get("field", "")), "message": str(e.get("message", ""))}
                                          for e in errors], **details)

    @property
    def errors(self) -> list[dict[str, str]]:
        return self.details["errors"]


# where pydantic (through FastAPI) says a value came from; the field path is what follows
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def field_errors(pydantic_errors: Iterable[Mapping[str, Any]], *, prefix: str = "") -> list[dict[str, str]]:
    """[{field, message}] from pydantic's `errors()`: the one translation, for request bodies and
    parameters checked by FastAPI and for documents our own code validates with a model."""
    out = []
    for e in pydantic_errors:
        loc = [str(p) for p in e.get("loc", ())]
        if loc and loc[0] in _LOCATIONS:
            loc = loc[1:]
        field = ".".join([prefix, *loc] if prefix else loc)
        out.append({"field": field, "message": str(e.get("msg", "")).removeprefix("Value error, ")})
    return out


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
