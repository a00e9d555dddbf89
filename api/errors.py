"""Maps each failure class to its HTTP answer, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from controller.errors import JarvisError, RateLimited

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    @app.exception_handler(JarvisError)
    async def jarvis_error(request: Request, exc: JarvisError):
        body = {"detail": exc.message, "code": exc.code, **{k: v for k, v in exc.details.items() if k != "retry_after"}}
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if exc.status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            errors.append({"loc": loc, "field": ".".join(loc[1:] if loc and loc[0] in ("body", "query", "path") else loc),
                           "msg": e.get("msg", ""), "type": e.get("type", "")})
        return JSONResponse({"detail": errors, "code": "validation_error"}, status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception):
        log.error("database unavailable: %s", exc.__class__.__name__, extra={"event": "db.unavailable"})
        return JSONResponse({"detail": "database unavailable", "code": "unavailable"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(RedisConnectionError)
    @app.exception_handler(RedisTimeoutError)
    async def redis_down(request: Request, exc: Exception):
        # the per-token limit and the queue live in Redis (full stack): unavailable, not broken
        log.error("redis unavailable: %s", exc.__class__.__name__, extra={"event": "redis.unavailable"})
        return JSONResponse({"detail": "queue unavailable", "code": "unavailable"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError):
        if exc.connection_invalidated:
            return JSONResponse({"detail": "database unavailable", "code": "unavailable"}, status_code=503,
                                headers={"Retry-After": "5"})
        log.exception("database error", extra={"event": "db.error"})
        return JSONResponse({"detail": "internal error", "code": "error"}, status_code=500)
