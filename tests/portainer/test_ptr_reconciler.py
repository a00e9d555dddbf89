"""The Portainer reconciler against the emulator and the real Swarm engine: desired → observe → diff →
steps run by real ansible-runner; ownership, prune, drift and bad input."""

from __future__ import annotations

import pytest

from controller.plans import Plan
from reconcilers.portainer import PortainerReconciler
from reconcilers.portainer.compose import OWNER_ENV
from tests.portainer.conftest import API_KEY, services

APP = "services:\n  app:\n    image: jarvis-test/sleep:1\n    environment: [MODE=one]\n"
APP2 = "version: '3.8'\nservices:\n  app:\n    environment: {MODE: two}\n    image: jarvis-test/sleep:1\n"

R = PortainerReconciler()


def manifest(scope, *stacks):
    return {"name": scope.manifest, "connections": {"stacks": "ptr-main"}, "stacks": list(stacks)}


def plan(conn, scope, m, files, prune=False):
    planned = R.plan(m, scope, files, conn, target=f"portainer:{conn.name}", prune=prune)
    return planned, Plan(target=f"portainer:{conn.name}", changes=planned.changes, source=scope.source,
                         manifest=scope.manifest)


def apply(run_step, conn, p):
    for step in R.steps(p, conn):
        runner, results, out = run_step(step, conn)
        assert runner.status == "successful", out
        assert API_KEY not in out


def test_create_noop_update_and_drift(emulator, connection, scope, name, run_step):
    m = manifest(scope, {"name": name, "endpoint": "prod", "compose": "app.yml", "env": {"LEVEL": "1"}})
    planned, p = plan(connection, scope, m, {"app.yml": APP.encode()})
    assert [(c.action, c.resource) for c in p.changes] == [("create", f"stack/{name}")]
    apply(run_step, connection, p)
    (stack,) = [s for s in emulator.stacks.values() if s["Name"] == name]
    assert {"name": OWNER_ENV, "value": f"{scope.source}/{scope.manifest}"} in stack["Env"]
    svc = services(name)[f"{name}_app"]
    assert svc["Spec"]["Labels"]["jarvis.managed"] == "true"          # every service carries the mark
    assert svc["Spec"]["Labels"]["jarvis.manifest"] == scope.manifest

    # the same file with other key order, list forms and the obsolete `version`: no change, no write
    writes = emulator.writes()
    planned, p = plan(connection, scope, m, {"app.yml": APP.replace("[MODE=one]", "{MODE: one}").encode()})
    assert p.changes == () and planned.live.errors == ()
    assert emulator.writes() == writes

    planned, p = plan(connection, scope, m, {"app.yml": APP2.encode()})
    (change,) = p.changes
    assert change.action == "update"
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("compose.services.app.environment.MODE", "one", "two")]
    apply(run_step, connection, p)
    env = services(name)[f"{name}_app"]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert "MODE=two" in env

    # an operator edits the stack in Portainer: its file changed, so it is drift
    emulator.edit_stack_file(stack["Id"], APP2.replace("jarvis-test/sleep:1", "jarvis-test/sleep:2"))
    planned, p = plan(connection, scope, m, {"app.yml": APP2.encode()})
    (change,) = p.changes
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("compose.services.app.image", "jarvis-test/sleep:2", "jarvis-test/sleep:1")]


def test_foreign_stack_is_never_touched_and_adopted_only_when_asked(emulator, connection, scope, name, run_step):
    eid = 1
    emulator.create_stack(eid, {"name": name, "stackFileContent": APP, "swarmID": emulator.swarm_id()}, "someone")
    m = manifest(scope, {"name": name, "endpoint": "prod", "compose": "app.yml"})
    planned, p = plan(connection, scope, m, {"app.yml": APP2.encode()}, prune=True)
    assert p.changes == ()
    assert any("does not own" in e and name in e for e in planned.live.errors)

    m["stacks"][0]["adopt"] = True
    planned, p = plan(connection, scope, m, {"app.yml": APP2.encode()}, prune=True)
    assert [c.action for c in p.changes] == ["update"]
    apply(run_step, connection, p)
    (stack,) = [s for s in emulator.stacks.values() if s["Name"] == name]
    assert {"name": OWNER_ENV, "value": f"{scope.source}/{scope.manifest}"} in stack["Env"]


def test_prune_only_when_asked_and_bad_input_deletes_nothing(emulator, connection, scope, name, run_step):
    other = name + "b"
    m = manifest(scope, {"name": name, "endpoint": "prod", "compose": "a.yml"},
                 {"name": other, "endpoint": "prod", "compose": "b.yml"})
    files = {"a.yml": APP.encode(), "b.yml": APP.encode()}
    _, p = plan(connection, scope, m, files)
    apply(run_step, connection, p)
    assert {s["Name"] for s in emulator.stacks.values()} >= {name, other}

    # b.yml broken, a third stack on an unknown endpoint, a fourth naming a missing image: each an error
    # naming its stack, and even with prune nothing is deleted
    m["stacks"] += [{"name": name + "c", "endpoint": "nowhere", "compose": "a.yml"},
                    {"name": name + "d", "endpoint": "prod", "compose": "d.yml"}]
    files = {"a.yml": APP2.encode(), "b.yml": b"services: [unclosed\n",
             "d.yml": b"services:\n  x:\n    image: jarvis-test/nope:9\n"}
    planned, p = plan(connection, scope, m, files, prune=True)
    errors = " | ".join(planned.desired.errors + planned.live.errors)
    assert f"stacks[1] ({other}): b.yml:2:1: not valid YAML" in errors
    assert f"stack {name}c: endpoint 'nowhere'" in errors
    assert f"stack {name}d: image jarvis-test/nope:9 is not on environment prod" in errors
    assert [(c.action, c.resource) for c in p.changes] == [("update", f"stack/{name}")]   # the good one still does

    # the stack leaves the manifest: kept without prune, deleted with it
    m = manifest(scope, {"name": name, "endpoint": "prod", "compose": "a.yml"})
    files = {"a.yml": APP2.encode()}
    _, p = plan(connection, scope, m, files)
    assert [c.resource for c in p.changes] == [f"stack/{name}"]
    _, p = plan(connection, scope, m, files, prune=True)
    assert {(c.action, c.resource) for c in p.changes} == {("update", f"stack/{name}"), ("delete", f"stack/{other}")}
    apply(run_step, connection, p)
    assert other not in {s["Name"] for s in emulator.stacks.values()}
    assert services(other) == {}


def test_portainer_down_plans_nothing(emulator, connection, scope, name):
    emulator.fail_next(20, 503)
    m = manifest(scope, {"name": name, "endpoint": "prod", "compose": "a.yml"})
    planned = R.plan(m, scope, {"a.yml": APP.encode()}, connection, target="portainer:ptr-main", prune=True)
    assert planned.changes == ()
    assert "HTTP 503" in planned.live.errors[0]


@pytest.mark.parametrize("which", ["api_key", "login"])
def test_connection_check_lists_environments(emulator, connection, login_connection, which):
    conn = connection if which == "api_key" else login_connection
    check = R.check(conn)
    assert check.ok, check.message
    assert check.details["environments"] == [{"id": 1, "name": "prod", "type": "swarm", "status": "up"}]
    assert "prod (swarm, up)" in check.message


def test_connection_check_bad_credentials_is_clear(emulator, connection):
    from dataclasses import replace
    bad = R.check(replace(connection, secrets={"api_key": "ptr_wrong"}))
    assert not bad.ok and "HTTP 401" in bad.message and "ptr_wrong" not in bad.message
    bad = R.check(replace(connection, secrets={"username": "admin", "password": "nope"}))
    assert not bad.ok and "HTTP 422" in bad.message and "nope" not in bad.message


def test_connection_type_says_which_credentials_it_takes():
    from controller.connection_types import installed
    ptr = installed()["portainer"]
    assert ptr.problems({"base_url": "https://p.example.com"}, {"api_key": "ptr_x"}) == []
    assert ptr.problems({"base_url": "https://p.example.com"}, {"username": "u", "password": "p"}) == []
    assert ptr.problems({"base_url": "https://p.example.com"}, {}) == [
        {"field": "credentials", "message": "credentials needs api_key or username and password"}]
    assert {"field": "credentials.password", "message": "username needs password in credentials too"} in \
        ptr.problems({"base_url": "https://p.example.com"}, {"username": "u"})
    assert ptr.problems({}, {"api_key": "ptr_x"})[0]["field"] == "config.base_url"
