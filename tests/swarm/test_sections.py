"""A manifest is planned on Swarm from any section Swarm reads, and keeps being planned once its last
service is gone: through the planner (the loop's own entry point) against the real engine."""

from __future__ import annotations

import textwrap

from swarm_steps import apply_plan

from controller.gitops.planner import plan_manifest
from controller.manifests.loader import parse_manifest
from reconcilers.swarm import SwarmReconciler


def plan(text: str, scope, connection, files: dict[str, bytes] | None = None):
    parsed = parse_manifest(textwrap.dedent(text), "app/orch.yaml")
    assert not parsed.errors, parsed.errors
    return plan_manifest(parsed.manifest, path="app/orch.yaml", source=scope.source, revision="r1",
                         reconcilers={"swarm": SwarmReconciler()}, connection=lambda name: connection,
                         files=files or {})


def test_a_compose_only_manifest_plans_the_stack(connection, scope, swarm_engine):
    compose = b"services:\n  web:\n    image: jarvis-test/sleep:1\n    deploy: {replicas: 1}\n"
    (tp,) = plan(f"""\
        apiVersion: jarvis/v1
        name: {scope.manifest}
        connections: {{swarm: local}}
        compose: stack.yml
        """, scope, connection, {"stack.yml": compose})
    assert tp.error == "" and tp.plan.errors == (), (tp.error, tp.plan.errors)
    assert [(c.resource, c.action) for c in tp.plan.changes] == [
        (f"network/{scope.manifest}_default", "create"), (f"service/{scope.manifest}_web", "create")]


def test_a_networks_only_manifest_plans_the_network(connection, scope, swarm_engine):
    (tp,) = plan(f"""\
        apiVersion: jarvis/v1
        name: {scope.manifest}
        connections: {{swarm: local}}
        networks:
          {scope.manifest}-net: {{driver: overlay, attachable: true}}
        """, scope, connection)
    assert [(c.resource, c.action) for c in tp.plan.changes] == [(f"network/{scope.manifest}-net", "create")]


def test_removing_the_last_service_with_prune_deletes_it(connection, scope, swarm_engine):
    svc = f"{scope.manifest}-web"
    head = (f"apiVersion: jarvis/v1\nname: {scope.manifest}\npolicy: {{sync: auto, prune: PRUNE}}\n"
            "connections: {swarm: local}\n")
    (tp,) = plan(head.replace("PRUNE", "true") + f"services:\n  {svc}: {{image: jarvis-test/sleep:1}}\n",
                 scope, connection)
    assert [(c.resource, c.action) for c in tp.plan.changes] == [(f"service/{svc}", "create")]
    assert all(r["status"] == "successful" for r in apply_plan(SwarmReconciler(), tp.plan, connection))

    # without prune the service stays, and the plan says there is nothing to do
    (kept,) = plan(head.replace("PRUNE", "false"), scope, connection)
    assert kept.error == "" and kept.plan is not None and kept.plan.changes == ()
    (tp,) = plan(head.replace("PRUNE", "true"), scope, connection)
    assert [(c.resource, c.action) for c in tp.plan.changes] == [(f"service/{svc}", "delete")]
    assert tp.plan.managed_count == 1
    assert all(r["status"] == "successful" for r in apply_plan(SwarmReconciler(), tp.plan, connection))
    assert svc not in {s["Spec"]["Name"] for s in swarm_engine.api.services()}
    (after,) = plan(head.replace("PRUNE", "true"), scope, connection)
    assert after.plan.changes == ()


def test_a_manifest_naming_no_swarm_section_nor_connection_is_not_planned_there(connection, scope, swarm_engine):
    assert plan(f"""\
        apiVersion: jarvis/v1
        name: {scope.manifest}
        """, scope, connection) == []
