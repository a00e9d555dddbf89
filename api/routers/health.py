"""/healthz (the process is alive) and /readyz (the database answers and the process is not draining)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import RuntimeDep, require
from api.schemas.common import Output

router = APIRouter(tags=["health"])


class Alive(Output):
    status: str = "ok"


class Ready(Output):
    status: str
    database: str


@router.get("/healthz", response_model=Alive, dependencies=[Depends(require("public"))])
async def healthz():
    return Alive()


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready, "description": "The database does not answer, or the process is draining."}},
            dependencies=[Depends(require("public"))])
async def readyz(request: Request, rt: RuntimeDep):
    if getattr(request.app.state, "draining", False):   # stopping: leave the balancer's rotation first
        return JSONResponse({"status": "draining", "database": "not checked"}, status_code=503)
    if await run_in_threadpool(rt.db.ping):
        return {"status": "ready", "database": "ok"}
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
