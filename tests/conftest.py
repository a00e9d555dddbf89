"""Fixtures shared by every test: a real PostgreSQL database per run, a runtime, an API client,
and users of each role."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from controller.accounts import users
from controller.ratelimit import MemoryLimiter
from controller.runtime import Runtime
from controller.settings import Settings
from tests.support import pg
from tests.support.tokens import bearer_token

_seq = itertools.count(1)


def make_settings(tmp: Path, url: str, **overrides) -> Settings:
    # one signing key for every test runtime, so a user made through one is accepted by another
    base = dict(data_dir=tmp, database_url=url, embedded=True, secret_key="test-signing-key-" + "k" * 40, log_json=False, examples_source=False,
                run_controller=False, run_worker=False, trusted_proxies=["10.255.0.0/16"])
    base.update(overrides)
    return Settings(**base)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = pg.create_database()
    try:
        yield pg.sqlalchemy_url(name)
    finally:
        pg.drop_database(name)


@pytest.fixture(scope="session")
def runtime(pg_url, tmp_path_factory) -> Iterator[Runtime]:
    rt = Runtime.start(make_settings(tmp_path_factory.mktemp("rt"), pg_url), first_admin=False)
    yield rt
    rt.close()


@pytest.fixture(autouse=True)
def _fresh_limits(request):
    """Rate-limit counters are per test, so one test's failed logins never block another's."""
    if "runtime" in request.fixturenames:
        request.getfixturevalue("runtime").limiter = MemoryLimiter()


@pytest.fixture(scope="session")
def app(runtime):
    from api.app import create_app

    return create_app(runtime, background=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@dataclass
class Account:
    id: int
    email: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_user(runtime):
    def make(role: str = "viewer", *, password: str | None = None, email: str | None = None) -> Account:
        password = password or "pw-" + secrets.token_urlsafe(12)
        email = email or f"{role}{next(_seq)}-{secrets.token_hex(3)}@example.test"
        with runtime.db.session() as db:
            user = users.create(db, email, password, role)
            uid = user.id
        token = bearer_token(runtime, uid, role)
        return Account(uid, email, password, role, token)

    return make


@pytest.fixture
def admin(make_user) -> Account:
    return make_user("admin")


@pytest.fixture
def operator(make_user) -> Account:
    return make_user("operator")


@pytest.fixture
def viewer(make_user) -> Account:
    return make_user("viewer")


@pytest.fixture(scope="session")
def test_kinds_site(tmp_path_factory) -> Path:
    """The test kinds under tests/kinds, pip-installed (once) into a directory of their own."""
    from tests.support import plugins

    site = tmp_path_factory.mktemp("kinds") / "site"
    return plugins.install(plugins.KINDS / "filestore", site)


@pytest.fixture
def filestore_registered(test_kinds_site):
    """The file-store test kind (tests/kinds/filestore), installed for one test: Jarvis finds it through
    its distribution's `jarvis.reconcilers` entry point, as it finds any kind."""
    from tests.support import plugins

    with plugins.on_path(test_kinds_site):
        yield
