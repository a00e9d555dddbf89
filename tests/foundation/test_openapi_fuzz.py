"""A property-based run of the whole OpenAPI document (schemathesis): every operation, called as an
admin with generated input, valid and invalid, answers without a server error and with a body that
matches the schema the document declares for its status (the 422 included).

It runs on its own database, so what it creates cannot reach other tests. The admin it calls as is
kept alive: before each case its row is put back (active, admin, no forced password change, no
second factor) and, when its session no longer answers, it signs in again, so a generated logout,
password change or role change never leaves the rest of the run unauthenticated.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy import delete

from controller.accounts import users
from controller.accounts.mfa import REQUIRED_KEY
from controller.runtime import Runtime
from controller.store.models import AppSetting, User
from tests.conftest import make_settings
from tests.support import pg

EXAMPLES = 8             # per operation and phase: keeps the whole run under two minutes
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory):
    name = pg.create_database("jarvis_fuzz")
    rt = Runtime.start(make_settings(tmp_path_factory.mktemp("fuzz"), pg.sqlalchemy_url(name),
                                     requests_per_minute=10**9, login_failures_per_minute=10**9),
                       first_admin=False)
    try:
        yield rt
    finally:
        rt.close()
        pg.drop_database(name)


@pytest.fixture(scope="module")
def fuzz_app(fuzz_runtime):
    from api.app import create_app

    return create_app(fuzz_runtime, background=False)


class FuzzAdmin:
    """The account the run calls as, put back before every case (cheaply: its stored password hash is
    written back as it was, never hashed again); it signs in again only when a case may have ended its
    session or the last answer was a 401."""

    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime, self.client = runtime, client
        self.email, self.password = f"fuzz-admin-{secrets.token_hex(3)}@example.test", "fuzz-" + secrets.token_hex(12)
        with runtime.db.session() as db:
            user = users.create(db, self.email, self.password, "admin")
            self.id, self.password_hash = user.id, user.password_hash
            db.commit()
        self.token, self.suspect = "", True

    def headers(self) -> dict[str, str]:
        self._restore_row()
        if self.suspect and self.client.get("/api/auth/me", headers=self._bearer()).status_code != 200:
            r = self.client.post("/api/auth/login", json={"email": self.email, "password": self.password})
            assert r.status_code == 200, r.text
            self.token = r.json()["access_token"]
        self.suspect = False
        return self._bearer()

    def answered(self, path: str, status: int) -> None:
        """After a case: sessions end through /api/auth and /api/users, and a 401 says one did."""
        self.suspect = status == 401 or path.startswith(("/api/auth", "/api/users"))

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _restore_row(self) -> None:
        with self.runtime.db.session() as db:
            user = db.get(User, self.id)
            user.active, user.role, user.password_change_required = True, "admin", False
            user.totp_enabled, user.totp_secret = False, None
            user.password_hash = self.password_hash
            db.execute(delete(AppSetting).where(AppSetting.key == REQUIRED_KEY))
            db.commit()


@pytest.fixture(scope="module")
def fuzz_admin(fuzz_runtime, fuzz_app):
    with TestClient(fuzz_app) as client:
        yield FuzzAdmin(fuzz_runtime, client)


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    config = SchemathesisConfig.from_dict({
        "seed": 11,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
    })
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app, config=config)


def test_every_operation_answers_within_its_schema(api_schema, fuzz_admin):
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    answered_2xx: set[str] = set()
    seconds: dict[str, float] = {}
    failures: dict[str, str] = {}

    def call(case):
        label = f"{case.operation.method.upper()} {case.operation.path}"
        cases[label] += 1
        response = case.call(headers={**(case.headers or {}), **fuzz_admin.headers()})
        fuzz_admin.answered(case.operation.path, response.status_code)
        statuses[response.status_code] += 1
        if response.status_code < 300:
            answered_2xx.add(label)
        case.validate_response(response, checks=CHECKS)

    run = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                   phases=[Phase.explicit, Phase.generate], derandomize=True, database=None)
    operations = 0
    for result in get_all_tests(schema=api_schema, test_func=call, settings=run, given_kwargs={}):
        operation, test = result.ok()
        operations += 1
        started = time.monotonic()
        try:
            test()
        except Exception as exc:   # every operation runs; the failures are listed together below
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
        seconds[operation.label] = time.monotonic() - started
    slowest = sorted(seconds.items(), key=lambda kv: -kv[1])[:3]
    print(f"\nschemathesis: {operations} operations, {sum(cases.values())} cases, "
          f"{len(answered_2xx)} operations answered 2xx at least once; statuses "
          + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
          + "; slowest " + ", ".join(f"{k} {v:.1f}s" for k, v in slowest)
          + f"; {len(failures)} operations with server errors or schema violations")
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    # not a vacuous pass: the run saw every operation, and most of them did their work at least once
    assert operations >= 60 and len(answered_2xx) >= operations // 3
