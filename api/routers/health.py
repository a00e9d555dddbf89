"""/healthz (the process is alive) and /readyz (the database answers)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
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


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready, "description": "The database does not answer."}},
            dependencies=[Depends(require("public"))])
async def readyz(rt: RuntimeDep):
    if await run_in_threadpool(rt.db.ping):
        return {"status": "ready", "database": "ok"}
    return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
