"""Maps each failure class to its HTTP answer, in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.schemas.common import ValidationProblem
from controller.errors import Invalid, JarvisError, RateLimited, field_errors

log = logging.getLogger(__name__)
WS_POLICY_VIOLATION = 1008


def schema_problem(exc: RequestValidationError | WebSocketRequestValidationError) -> dict:
    """The 422 body for input that does not match its schema: the same shape as an `Invalid`."""
    errors = field_errors(exc.errors())
    shown = "; ".join(f"{e['field'] or 'input'}: {e['message']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return {"detail": f"invalid input: {shown}{more}", "code": "validation_error", "errors": errors}


def install(app: FastAPI) -> None:
    _document_validation_problem(app)

    @app.exception_handler(JarvisError)
    async def jarvis_error(request: Request, exc: JarvisError):
        if isinstance(exc, Invalid):
            return JSONResponse({"detail": exc.message, "code": exc.code, "errors": exc.errors}, status_code=422)
        body = {"detail": exc.message, "code": exc.code, **{k: v for k, v in exc.details.items() if k != "retry_after"}}
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if exc.status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse(schema_problem(exc), status_code=422)

    @app.exception_handler(WebSocketRequestValidationError)
    async def websocket_validation_error(ws: WebSocket, exc: WebSocketRequestValidationError):
        # a stream asked for with a bad id or cursor is told why in a frame, then closed with the reason
        body = schema_problem(exc)
        await ws.accept()
        await ws.send_json({"type": "error", **body})
        await ws.close(code=WS_POLICY_VIOLATION, reason=_close_reason(body["detail"]))

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


def _close_reason(text: str) -> str:
    """A WebSocket close reason holds at most 123 bytes of UTF-8."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


def _document_validation_problem(app: FastAPI) -> None:
    """The OpenAPI document declares the 422 body the handlers above send (ValidationProblem), in place
    of FastAPI's default (a list of pydantic errors), for every operation that can answer 422."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = generate()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        problem = ValidationProblem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(problem.pop("$defs", {}))
        schemas["ValidationProblem"] = problem
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for ops in doc.get("paths", {}).values():
            for op in ops.values():
                answer = op.get("responses", {}).get("422")
                if answer is not None:
                    answer["description"] = "The input does not match its schema or a rule."
                    answer["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}}
        app.openapi_schema = doc
        return doc

    app.openapi = openapi
