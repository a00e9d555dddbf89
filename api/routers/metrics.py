"""GET /metrics: Prometheus's scrape, in its text format.

Not for browsers, so not behind a login: Prometheus sends `JARVIS_METRICS_TOKEN` as a bearer token.
Without a token configured it is refused, unless `JARVIS_METRICS_PUBLIC` opens it on purpose.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep, require

router = APIRouter(tags=["metrics"])


@router.get("/metrics", dependencies=[Depends(require("public"))], response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."},
                       401: {"description": "No bearer token, or not JARVIS_METRICS_TOKEN."},
                       403: {"description": "No token is configured and JARVIS_METRICS_PUBLIC is false."}})
async def metrics(request: Request, rt: RuntimeDep):
    wanted = rt.settings.metrics_bearer
    if wanted:
        auth = request.headers.get("authorization", "")
        sent = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(sent.encode(), wanted.encode()):
            return JSONResponse({"detail": "metrics need the bearer token JARVIS_METRICS_TOKEN"}, status_code=401,
                                headers={"www-authenticate": 'Bearer realm="metrics"'})
    elif not rt.settings.metrics_public:
        return JSONResponse({"detail": "metrics are off: set JARVIS_METRICS_TOKEN (Prometheus sends it as a bearer "
                                       "token) or JARVIS_METRICS_PUBLIC=true"}, status_code=403)
    body = await run_in_threadpool(generate_latest, request.app.state.metrics_registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
