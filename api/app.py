"""The FastAPI application: routers, middleware, error mapping, and the process's background parts."""

from __future__ import annotations

import contextlib
import logging

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import docs, errors, instruments, processes, ws, ws_logs
from api.middleware import RequestMiddleware
from api.routers import (
    alerts,
    audit,
    auth,
    backups,
    connection_types,
    connections,
    containers,
    dashboard,
    health,
    incidents,
    infra,
    jobs,
    logs,
    metrics,
    notifications,
    plans,
    runbooks,
    sources,
    users,
    webhooks,
)
from api.ui import pages
from controller.runtime import Runtime
from controller.settings import Settings, get_settings

log = logging.getLogger(__name__)
ROUTERS = [health.router, auth.router, users.router, connections.router, audit.router, runbooks.router, jobs.router,
           sources.router, plans.router, webhooks.router, dashboard.router, connection_types.router,
           metrics.router, incidents.router, alerts.router, backups.router, containers.router, infra.router,
           notifications.router, logs.router]


def create_app(runtime: Runtime | None = None, settings: Settings | None = None, *,
               background: bool = True) -> FastAPI:
    """`runtime` given (tests): the caller owns it. Otherwise one is started from the settings."""
    settings = settings or (runtime.settings if runtime else get_settings())
    rt = runtime or Runtime.start(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        parts = processes.start(rt) if background else []
        try:
            yield
        finally:
            processes.stop(parts)
            if runtime is None:
                rt.close()

    app = FastAPI(title="Jarvis", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="GitOps reconciliation controller and DevOps control plane.")
    app.state.runtime = rt
    app.state.metrics_registry = instruments.registry_for(rt)
    for router in ROUTERS:
        tag_actions(router)
        app.include_router(router)
    _extra_routers(app)
    errors.install(app)
    app.add_middleware(RequestMiddleware, runtime=rt)
    return app


def _extra_routers(app: FastAPI) -> None:
    docs.install(app)
    app.include_router(ws.router)
    app.include_router(ws_logs.router)
    app.include_router(pages.router)
    pages.install(app)   # static files


def tag_actions(router) -> None:
    """Copies each route's declared action into its OpenAPI operation as `x-jarvis-action`."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        actions = {getattr(d.call, "jarvis_action", None) for d in _walk(route.dependant)} - {None}
        if len(actions) > 1:
            raise RuntimeError(f"{route.path} declares several actions: {sorted(actions)}")
        if actions:
            route.openapi_extra = {**(route.openapi_extra or {}), "x-jarvis-action": actions.pop()}


def _walk(dependant):
    for d in dependant.dependencies:
        yield d
        yield from _walk(d)
