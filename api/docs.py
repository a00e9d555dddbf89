"""OpenAPI docs under /api/docs, served from local files (nothing is fetched from outside)."""

from __future__ import annotations

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Jarvis API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/init.js"></script></body></html>"""
INIT = "SwaggerUIBundle({url: '/api/openapi.json', dom_id: '#ui'});"


def install(app: FastAPI) -> None:
    @app.get("/api/docs", include_in_schema=False)
    def docs_page():
        return HTMLResponse(PAGE)

    @app.get("/api/docs/assets/init.js", include_in_schema=False)
    def docs_init():
        return HTMLResponse(INIT, media_type="application/javascript")

    app.mount("/api/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")
