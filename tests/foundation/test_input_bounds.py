"""Bad input is a 422 in the one shape the OpenAPI document declares, never a 500 (issue 11, items
10, 11 and 13): integers no column can hold, NUL and bidirectional-override characters, and the
WebSocket's id and cursor."""

from __future__ import annotations

import jsonschema
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

HUGE = "99999999999999999999"
TOO_BIG_FOR_BIGINT = str(2**63)


@pytest.fixture
def raw_client(app):
    """A client that shows a 500 as a 500 instead of raising the server's exception in the test."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def problem_schema(app):
    """The 422 schema of the OpenAPI document, with its component references resolvable."""
    with TestClient(app) as c:
        doc = c.get("/api/openapi.json").json()
    return doc


def _assert_declared_422(doc: dict, method: str, path: str, body: dict) -> None:
    op = doc["paths"][path][method.lower()]
    schema = op["responses"]["422"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": doc["components"]})
    assert body["errors"] and all(set(e) == {"field", "message"} for e in body["errors"])


BOUNDED = [
    ("GET", f"/api/jobs/{HUGE}", "/api/jobs/{job_id}", "job_id"),
    ("GET", f"/api/jobs/{TOO_BIG_FOR_BIGINT}", "/api/jobs/{job_id}", "job_id"),
    ("GET", f"/api/jobs?offset={HUGE}", "/api/jobs", "offset"),
    ("GET", f"/api/jobs?limit={HUGE}", "/api/jobs", "limit"),
    ("GET", "/api/jobs?limit=-1", "/api/jobs", "limit"),
    ("GET", "/api/jobs?offset=-5", "/api/jobs", "offset"),
    ("GET", f"/api/jobs/1/events?after={TOO_BIG_FOR_BIGINT}", "/api/jobs/{job_id}/events", "after"),
    ("POST", f"/api/jobs/{HUGE}/cancel", "/api/jobs/{job_id}/cancel", "job_id"),
    ("POST", f"/api/jobs/{HUGE}/rerun", "/api/jobs/{job_id}/rerun", "job_id"),
    ("POST", f"/api/plans/{HUGE}/reject", "/api/plans/{plan_id}/reject", "plan_id"),
    ("DELETE", f"/api/users/{HUGE}", "/api/users/{user_id}", "user_id"),
    ("DELETE", f"/api/connections/{HUGE}", "/api/connections/{conn_id}", "conn_id"),
    ("DELETE", f"/api/sources/{HUGE}", "/api/sources/{source_id}", "source_id"),
    ("GET", f"/api/audit?offset={HUGE}", "/api/audit", "offset"),
    ("GET", f"/api/incidents/{HUGE}", "/api/incidents/{incident_id}", "incident_id"),
    ("GET", f"/api/plans?limit={HUGE}", "/api/plans", "limit"),
    ("GET", f"/api/drift?source_id={HUGE}", "/api/drift", "source_id"),
]


@pytest.mark.parametrize(("method", "url", "path", "field"), BOUNDED, ids=[f"{m} {u}" for m, u, _, _ in BOUNDED])
def test_an_integer_no_column_can_hold_is_a_422_naming_it(raw_client, admin, problem_schema, method, url, path, field):
    r = raw_client.request(method, url, headers=admin.headers)
    assert r.status_code == 422, (r.status_code, r.text)
    body = r.json()
    assert body["code"] == "validation_error" and field in {e["field"] for e in body["errors"]}
    _assert_declared_422(problem_schema, method, path, body)


def test_the_approve_id_is_bounded_too(raw_client, admin, problem_schema):
    r = raw_client.post(f"/api/plans/{HUGE}/approve", headers=admin.headers, json={"checksum": "x"})
    assert r.status_code == 422 and "plan_id" in {e["field"] for e in r.json()["errors"]}
    _assert_declared_422(problem_schema, "POST", "/api/plans/{plan_id}/approve", r.json())


def test_every_operation_declares_the_one_422_shape(problem_schema):
    declared = {name for name in problem_schema["components"]["schemas"]}
    assert "ValidationProblem" in declared and "HTTPValidationError" not in declared
    for path, ops in problem_schema["paths"].items():
        for method, op in ops.items():
            answer = op.get("responses", {}).get("422")
            if answer is not None:
                assert answer["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ValidationProblem"}, f"{method} {path}"


def test_a_rule_our_code_checks_answers_the_same_shape(client, admin, problem_schema):
    # schema-valid, refused by the connection type's rules (an Invalid raised by the controller)
    r = client.post("/api/connections", headers=admin.headers, json={"name": "rules-x", "type": "hetzner"})
    assert r.status_code == 422 and r.json()["code"] == "invalid"
    _assert_declared_422(problem_schema, "POST", "/api/connections", r.json())
    # refused by the schema: the same keys
    r = client.post("/api/connections", headers=admin.headers, json={"name": "rules-y", "type": "docker", "x": 1})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    _assert_declared_422(problem_schema, "POST", "/api/connections", r.json())


SNEAKY = {
    "NUL": "a\x00b",
    "right-to-left override": "admin\u202egpj.exe",
    "isolate": "ops\u2066x\u2069",
}


@pytest.mark.parametrize("kind", SNEAKY)
def test_nul_and_bidirectional_overrides_are_refused_in_names_emails_and_environments(raw_client, admin, kind):
    bad = SNEAKY[kind]
    checks = [
        ("POST", "/api/users", {"email": f"x{bad}@example.test", "role": "viewer", "password": "pw-long-enough-1"},
         "email"),
        ("POST", "/api/users", {"email": "plain-name@example.test", "name": f"Eve {bad}", "role": "viewer",
                                "password": "pw-long-enough-1"}, "name"),
        ("PATCH", f"/api/users/{admin.id}", {"name": bad}, "name"),
        ("POST", "/api/connections", {"name": "env-x", "type": "docker", "environment": bad,
                                      "config": {"base_url": "unix:///var/run/docker.sock"}}, "environment"),
        ("POST", "/api/auth/login", {"email": f"x{bad}@example.test", "password": "whatever"}, "email"),
        ("POST", "/api/auth/password-reset/request", {"email": f"x{bad}@example.test"}, "email"),
    ]
    for method, url, body, field in checks:
        r = raw_client.request(method, url, headers=admin.headers, json=body)
        assert r.status_code == 422, (url, body, r.status_code, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, r.json()


def test_nul_anywhere_in_a_body_is_a_422_not_a_database_error(raw_client, admin):
    r = raw_client.post("/api/connections", headers=admin.headers,
                        json={"name": "nul-config", "type": "docker", "config": {"base_url": "unix:///x\x00"}})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "config"


@pytest.mark.parametrize("url", [f"/ws/jobs/{TOO_BIG_FOR_BIGINT}", f"/ws/jobs/1?after={TOO_BIG_FOR_BIGINT}",
                                 f"/ws/jobs/{HUGE}?after=-1"])
def test_a_websocket_id_or_cursor_beyond_any_column_is_closed_with_the_reason(client, admin, url):
    with client.websocket_connect(url, headers=admin.headers) as ws:
        frame = ws.receive_json()
        assert frame["type"] == "error" and frame["code"] == "validation_error" and frame["errors"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008 and closed.value.reason.startswith("invalid input:")


@pytest.mark.parametrize(("url", "path", "field"), [("/api/jobs?status=%00", "/api/jobs", "status"),
                                                    ("/api/audit?user=a%00b", "/api/audit", "user"),
                                                    ("/api/plans?status=x%00", "/api/plans", "status")])
def test_nul_in_a_query_is_a_422_not_a_database_error(raw_client, admin, problem_schema, url, path, field):
    r = raw_client.get(url, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
    _assert_declared_422(problem_schema, "GET", path, r.json())
