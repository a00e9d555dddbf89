"""Server-rendered web UI pages: one template per page inside a shared shell.

Pages carry no data of their own: each page's script fetches the JSON API with the session
cookies. The server only decides who may see the shell (a valid `jarvis_at` cookie) and renders
the user's role into it so that viewers are not shown buttons that mutate (the API refuses anyway).
An expired access cookie sends the browser to /login, whose script first tries a silent refresh
(the refresh cookie is only sent to /api/auth) and comes straight back when it works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from controller.accounts import liveness
from controller.security.passwords import MIN_LENGTH
from controller.security.tokens import TokenError, decode_access_token
from controller.store.models import User

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
# every form that sets a password checks and states the server's own rule
templates.env.globals["password_min_length"] = MIN_LENGTH
router = APIRouter(include_in_schema=False)
ACCESS_COOKIE = "jarvis_at"

# path, sidebar label, template, short description for the page header
NAV = [
    ("/dashboard", "Dashboard", "dashboard"),
    ("/gitops", "GitOps", "gitops"),
    ("/runbooks", "Runbooks", "runbooks"),
    ("/jobs", "Jobs", "jobs"),
    ("/incidents", "Incidents", "incidents"),
    ("/notifications", "Notifications", "notifications"),
    ("/backups", "Backups", "backups"),
    ("/infra", "Infra", "infra"),
    ("/containers", "Containers", "containers"),
    ("/logs", "Logs", "logs"),
    ("/assistant", "IA DevOps", "assistant"),
    ("/settings", "Settings", "settings"),
]

# pages whose live view needs a connection type that the API does not serve yet
PENDING = {
    "assistant": ("IA DevOps assistant", "",
                  "The assistant answers questions about your infrastructure and proposes runbooks."),
}


@dataclass
class Viewer:
    id: int
    email: str
    name: str
    role: str
    scope: str


def _viewer(request: Request) -> Viewer | None:
    """The logged-in user from the access cookie, or None (missing, expired, disabled)."""
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return None
    rt = request.app.state.runtime
    try:
        claims = decode_access_token(rt.jwt_key, rt.settings.jwt_issuer, token)
    except TokenError:
        return None
    if liveness.for_runtime(rt).end_reason(claims.sid):
        return None
    with rt.db.session() as db:
        user = db.get(User, claims.user_id)
        if user is None or not user.active:
            return None
        return Viewer(user.id, user.email, user.name or "", user.role, claims.scope)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _safe_next(value: str | None) -> str:
    """Only same-site paths: `//evil.example` or `https://...` would be an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


def _page(request: Request, page: str, **extra) -> HTMLResponse:
    viewer = _viewer(request)
    if viewer is None:
        return _to_login(request)
    if viewer.scope != "full" and page != "settings":
        return RedirectResponse("/settings#account", status_code=303)
    title = next((label for _, label, key in NAV if key == page), page.title())
    ctx = {"viewer": viewer, "page": page, "title": title, "nav": NAV, **extra}
    return templates.TemplateResponse(request, f"{page}.html", ctx)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
def login(request: Request, next: str | None = None, reset: str | None = None):
    target = _safe_next(next)
    viewer = _viewer(request)
    if viewer is not None and not reset:
        return RedirectResponse(target if viewer.scope == "full" else "/settings#account", status_code=303)
    return templates.TemplateResponse(request, "login.html", {"next": target, "reset": reset or ""})


@router.get("/dashboard")
def dashboard(request: Request):
    return _page(request, "dashboard")


@router.get("/gitops")
def gitops(request: Request):
    return _page(request, "gitops")


@router.get("/runbooks")
def runbooks(request: Request):
    return _page(request, "runbooks")


@router.get("/jobs")
def jobs(request: Request):
    return _page(request, "jobs")


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: str):
    return _page(request, "job", job_id=job_id)


@router.get("/incidents")
def incidents(request: Request):
    return _page(request, "incidents", incident_id="")


@router.get("/incidents/{incident_id}")
def incident(request: Request, incident_id: int):
    return _page(request, "incidents", incident_id=str(incident_id))


@router.get("/notifications")
def notifications(request: Request):
    return _page(request, "notifications")


@router.get("/containers")
def containers(request: Request):
    return _page(request, "containers")


@router.get("/infra")
def infra(request: Request):
    return _page(request, "infra")
@router.get("/logs")
def logs(request: Request):
    return _page(request, "logs")


@router.get("/backups")
def backups(request: Request):
    return _page(request, "backups", backup_id="")


@router.get("/backups/{backup_id}")
def backup(request: Request, backup_id: int):
    return _page(request, "backups", backup_id=str(backup_id))


@router.get("/settings")
def settings(request: Request):
    return _page(request, "settings")


def _pending_page(key: str):
    heading, conn_type, blurb = PENDING[key]

    def handler(request: Request):
        return _page(request, "pending", active=key, key=key, heading=heading, conn_type=conn_type, blurb=blurb,
                     title=next(label for _, label, k in NAV if k == key))

    handler.__name__ = f"page_{key}"
    return handler


for _key in PENDING:
    router.add_api_route(f"/{_key}", _pending_page(_key), methods=["GET"])


def install(app: FastAPI) -> None:
    """Static CSS, JS and images, served from this package (nothing is fetched from elsewhere)."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")
