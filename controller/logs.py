"""Structured logs: one JSON object per line, carrying the request id of the request in flight.

Every line passes through `redact` on its way out (both formatters), so a secret in a URL's query
(a JWT in `?token=` on a WebSocket, a `?password=`, a signed link's `signature`) never reaches the
log, whoever wrote the line: our access log, uvicorn's "WebSocket ... [accepted]", an exception.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import logging.config
import re

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


# a query parameter whose name says it holds a secret (in a URL, or a query string logged on its
# own), up to the next separator or quote
_SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&;\s\"'])(?:[\w.-]*(?:token|password|passwd|secret|signature|credential|api[_-]?key|access[_-]?key)"
    r"|sig|key|code|auth|jwt)=)[^&\s\"'#\\]+")   # not a backslash: it would break a JSON line's escaped quote
_BEARER = re.compile(r"(?i)(\bbearer\s+)[\w.~+/=-]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the values of secret query parameters and bearer credentials replaced."""
    if "=" not in text and "earer" not in text:
        return text
    return _BEARER.sub(r"\1" + REDACTED, _SECRET_QUERY.sub(r"\1" + REDACTED, text))


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(self._json(record))

    def _json(self, record: logging.LogRecord) -> str:
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            out["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


NOISY = ("uvicorn.access", "apscheduler", "watchfiles", "httpx", "alembic")


def dict_config(level: str = "INFO", as_json: bool = True) -> dict:
    """The logging setup as a dictConfig: uvicorn applies it in each worker process it starts too."""
    formatter = "controller.logs.JsonFormatter" if as_json else "controller.logs.PlainFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"jarvis": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "jarvis"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # uvicorn's own loggers carry handlers of their own unless told otherwise: everything goes to root
        "loggers": {**{name: {"level": "WARNING"} for name in NOISY},
                    "uvicorn": {"handlers": [], "propagate": True},
                    "uvicorn.error": {"handlers": [], "propagate": True}},
    }


def configure(level: str = "INFO", as_json: bool = True) -> None:
    logging.config.dictConfig(dict_config(level, as_json))
