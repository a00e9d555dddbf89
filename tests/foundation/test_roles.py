"""Walks every operation of the OpenAPI document for every role against the declared table."""

from __future__ import annotations

import re

from api.permissions import ACTIONS, PUBLIC
from controller.roles import ROLES, at_least


def test_every_route_declares_an_action_and_the_table_holds(client, make_user):
    doc = client.get("/api/openapi.json").json()
    accounts = {role: make_user(role) for role in ROLES}
    checked = 0
    for path, ops in doc["paths"].items():
        url = re.sub(r"\{[^}]+\}", "999999", path)
        for method, op in ops.items():
            action = op.get("x-jarvis-action")
            assert action, f"{method.upper()} {path} declares no action"
            assert action in ACTIONS, f"{method.upper()} {path}: unknown action {action}"
            rule = ACTIONS[action]
            if action == PUBLIC:
                continue
            kwargs = {"json": {}} if method in ("post", "put", "patch") else {}
            anon = client.request(method, url, **kwargs)
            assert anon.status_code == 401, f"anonymous {method.upper()} {path}: {anon.status_code}"
            for role, acct in accounts.items():
                r = client.request(method, url, headers=acct.headers, **kwargs)
                if at_least(role, rule.role):
                    assert r.status_code not in (401, 403), f"{role} {method.upper()} {path}: {r.status_code} {r.text}"
                else:
                    assert r.status_code == 403, f"{role} {method.upper()} {path}: {r.status_code}"
                if path == "/api/auth/logout":     # that session really ended: the walk goes on in a new one
                    accounts[role] = make_user(role)
                checked += 1
    assert checked > 20


def test_operations_without_action_would_fail():
    """The walk above relies on tag_actions: every API route carries x-jarvis-action."""
    from fastapi.routing import APIRoute

    from api.app import ROUTERS

    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute) and route.include_in_schema:
            assert (route.openapi_extra or {}).get("x-jarvis-action"), route.path
