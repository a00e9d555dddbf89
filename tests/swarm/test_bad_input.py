"""Bad input names the service, the field and the reason; the other services still converge."""

from __future__ import annotations

from swarm_steps import apply_plan, plan_for

from controller.contract import ConnectionInfo, ReconcilerContext
from reconcilers.swarm import SwarmReconciler


def _converges_alongside(rec, manifest, scope, connection, bad_key: str, expect: str):
    desired, plan = plan_for(rec, manifest, scope, connection)
    problems = [e for e in plan.errors if e.startswith(bad_key) or bad_key.split("/")[1] in e]
    assert problems and expect in problems[0], plan.errors
    assert bad_key not in {c.resource for c in plan.changes}
    results = apply_plan(rec, plan, connection)
    assert [r["resource"] for r in results] == ["service/good"]
    assert results[0]["status"] == "successful"


def test_image_that_does_not_exist(connection, scope, swarm_engine):
    m = {"name": scope.manifest, "services": {"good": "jarvis-test/sleep:1", "bad": "jarvis-test/nope:9"}}
    _converges_alongside(SwarmReconciler(), m, scope, connection, "service/bad", "image: jarvis-test/nope:9 does not exist")


def test_port_already_published_by_another_service(connection, scope, swarm_engine, request):
    request.node.jarvis_cleanup = ["foreign-web"]
    swarm_engine.api.create_service({"ContainerSpec": {"Image": "jarvis-test/sleep:1"}}, name="foreign-web",
                                    endpoint_spec={"Ports": [{"TargetPort": 80, "PublishedPort": 18099}]})
    m = {"name": scope.manifest, "services": {"good": "jarvis-test/sleep:1",
                                               "bad": {"image": "jarvis-test/httpd:1", "ports": ["18099:80"]}}}
    _converges_alongside(SwarmReconciler(), m, scope, connection, "service/bad",
                         "ports: 18099/tcp is already published by service foreign-web")


def test_network_owned_by_someone_else(connection, scope, swarm_engine, request):
    request.node.jarvis_cleanup = ["foreignnet"]
    swarm_engine.api.create_network("foreignnet", driver="overlay")
    m = {"name": scope.manifest, "networks": {"foreignnet": {}},
         "services": {"good": "jarvis-test/sleep:1", "bad": {"image": "jarvis-test/sleep:1", "networks": ["foreignnet"]}}}
    desired, plan = plan_for(SwarmReconciler(), m, scope, connection)
    assert any("network/foreignnet" in e and "not managed by this manifest" in e for e in plan.errors)
    assert any(e.startswith("service/bad: networks: foreignnet") for e in plan.errors)
    assert [c.resource for c in plan.changes] == ["service/good"]


def test_unresolvable_secret(connection, scope, swarm_engine):
    m = {"name": scope.manifest, "secrets": {"key": {"from": "env:JARVIS_TEST_UNSET_VAR"}},
         "services": {"good": "jarvis-test/sleep:1", "bad": {"image": "jarvis-test/sleep:1", "secrets": ["key"]}}}
    rec = SwarmReconciler(ReconcilerContext(environ={}))
    _converges_alongside(rec, m, scope, connection, "secret/key", "environment variable JARVIS_TEST_UNSET_VAR is not set")
    desired = rec.desired(m, scope, {})
    assert any(e.startswith("service bad: secrets:") for e in desired.errors)


def test_constraint_no_node_satisfies(connection, scope, swarm_engine):
    m = {"name": scope.manifest, "services": {
        "good": "jarvis-test/sleep:1",
        "bad": {"image": "jarvis-test/sleep:1", "placement": {"constraints": ["node.labels.zone==mars"]}}}}
    _converges_alongside(SwarmReconciler(), m, scope, connection, "service/bad",
                         "placement.constraints: no node satisfies node.labels.zone==mars")


def test_unlabelled_service_is_never_touched(connection, scope, swarm_engine, request):
    request.node.jarvis_cleanup = ["handmade"]
    swarm_engine.api.create_service({"ContainerSpec": {"Image": "jarvis-test/sleep:1"}}, name="handmade")
    rec = SwarmReconciler()
    m = {"name": scope.manifest, "services": {"good": "jarvis-test/sleep:1"}}
    _, plan = plan_for(rec, m, scope, connection, prune=True)
    assert "service/handmade" not in {c.resource for c in plan.changes}
    m2 = {"name": scope.manifest, "services": {"handmade": "jarvis-test/sleep:2"}}
    _, plan = plan_for(rec, m2, scope, connection, prune=True)
    assert plan.changes == ()
    assert any("service/handmade" in e and "not managed" in e for e in plan.errors)


def test_secret_rotation_removes_old_version(connection, scope, swarm_engine):
    rec = SwarmReconciler(ReconcilerContext(environ={"TOKEN": "value-alpha-7781"}))
    m = {"name": scope.manifest, "secrets": {"token": {"from": "env:TOKEN"}},
         "services": {"app": {"image": "jarvis-test/sleep:1", "secrets": ["token"]}}}
    _, plan = plan_for(rec, m, scope, connection)
    assert all(r["status"] == "successful" for r in apply_plan(rec, plan, connection))
    rec = SwarmReconciler(ReconcilerContext(environ={"TOKEN": "value-beta-9923"}))
    _, plan = plan_for(rec, m, scope, connection)
    kinds = [(c.resource.split("/")[0], c.action.value) for c in plan.changes]
    assert kinds == [("secret", "create"), ("service", "update"), ("secret", "delete")]
    results = apply_plan(rec, plan, connection)
    assert all(r["status"] == "successful" for r in results), results
    names = [s["Spec"]["Name"] for s in swarm_engine.api.secrets() if s["Spec"]["Name"].startswith("token_")
             and s["Spec"]["Labels"].get("jarvis.manifest") == scope.manifest]
    assert len(names) == 1
    assert "value-beta-9923" not in str([c.to_dict() for c in plan.changes])


def test_check_reports_swarm_manager(connection, swarm_engine):
    check = SwarmReconciler().check(connection)
    assert check.ok and "swarm manager" in check.message
    from controller.contract import ConnectionInfo
    bad = SwarmReconciler().check(ConnectionInfo("x", "docker", config={"base_url": "unix:///nonexistent.sock"}))
    assert not bad.ok and "did not answer" in bad.message


def test_an_unreachable_engine_is_the_target_unavailable(scope):
    """Nothing can be compared: the plan error says so once, naming the address, and the summary is down."""
    from controller.gitops.planner import plan_manifest
    from controller.manifests.loader import parse_manifest

    gone = ConnectionInfo("far", "docker", config={"base_url": "tcp://127.0.0.1:9", "tls": False})
    text = "apiVersion: jarvis/v1\nname: far\nconnections: {swarm: far}\nservices: {web: {image: \"jarvis-test/sleep:1\"}}\n"
    (tp,) = plan_manifest(parse_manifest(text, "orch.yaml").manifest, path="orch.yaml", source="s", revision="r",
                          reconcilers={"swarm": SwarmReconciler()}, connection=lambda name: gone, files={})
    assert tp.plan is None
    assert tp.error.startswith("target unavailable: cannot reach the docker engine at tcp://127.0.0.1:9 (connection 'far')")
    assert tp.summary.health == "down"
