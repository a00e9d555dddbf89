"""A live Jarvis server (uvicorn in a thread, real PostgreSQL) and a headless Chromium for the UI tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.live_server import LiveServer, serve

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
SHOTS = OUTPUT / "screenshots"
RUNBOOKS = Path(__file__).parent / "runbooks"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def live(runtime) -> Iterator[LiveServer]:
    server = serve(runtime)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def jobs_runtime(pg_url, tmp_path_factory):
    """A second runtime on the same database whose server also runs the jobs worker."""
    from controller.runtime import Runtime
    from tests.conftest import make_settings

    rt = Runtime.start(make_settings(tmp_path_factory.mktemp("ui-jobs"), pg_url, runbook_paths=[RUNBOOKS],
                                     run_worker=True), first_admin=False)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def jobs_live(jobs_runtime) -> Iterator[LiveServer]:
    from api.app import create_app

    server = LiveServer(create_app(jobs_runtime, background=True))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def jobs_page(browser, jobs_live, jobs_runtime) -> Iterator[Page]:
    """A page on the worker-backed server, signed in as an operator."""
    from controller.accounts import users

    ctx = browser.new_context(base_url=jobs_live.url, viewport=DESKTOP)
    with jobs_runtime.db.session() as db:
        users.create(db, email := f"op-{secrets.token_hex(4)}@example.test", "operator-password-1", "operator")
    login_api(ctx, email, "operator-password-1")
    page = ctx.new_page()
    yield page
    ctx.close()


@pytest.fixture
def synced_world(runtime, tmp_path, filestore_registered):
    """A source over a real git repository (manual policy, file-store target), synced once: it leaves
    a pending plan, drift items and a reconcile run in the database."""
    from tests.gitops.conftest import World

    world = World(runtime, tmp_path)
    world.push({"web": {}, "api": {}})
    world.sync()
    return world


@pytest.fixture
def fresh_site(browser, tmp_path):
    """A server of its own over a new database (embedded, no connection, no source) and
    `signed_in(role)`, a page of a new user of that role signed in to it."""
    from controller.accounts import users
    from controller.runtime import Runtime
    from tests.conftest import make_settings
    from tests.support import pg

    name = pg.create_database("jarvis_ui_site")
    rt = Runtime.start(make_settings(tmp_path / "site-data", pg.sqlalchemy_url(name)), first_admin=False)
    server = serve(rt)
    contexts = []

    def signed_in(role: str) -> Page:
        with rt.db.session() as db:
            users.create(db, email := f"{role}-{secrets.token_hex(3)}@example.test", "the-password-1", role)
        ctx = browser.new_context(base_url=server.url, viewport=DESKTOP)
        contexts.append(ctx)
        login_api(ctx, email, "the-password-1")
        page = ctx.new_page()
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        return page

    try:
        yield rt, signed_in
    finally:
        for ctx in contexts:
            ctx.close()
        server.stop()
        rt.close()
        pg.drop_database(name)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def context(browser, live) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live.url, viewport=DESKTOP)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Page:
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security" in m.text else None)
    p.js_errors = errors   # checked by tests: no script error and no CSP violation
    return p


def login_api(context: BrowserContext, email: str, password: str) -> None:
    """Logs the browser context in through the API (cookies land in the context)."""
    res = context.request.post("/api/auth/login?cookie=true", data={"email": email, "password": password})
    assert res.ok, res.text()


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False, animations="disabled")
