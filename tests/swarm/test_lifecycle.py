"""Create, no drift, update, converge, rollback and prune against the real Swarm."""

from __future__ import annotations

from swarm_steps import apply_plan, plan_for

from reconcilers.swarm import SwarmReconciler


def manifest(scope, **services):
    return {"name": scope.manifest, "services": services}


def test_create_then_untouched_service_shows_no_drift(connection, scope, swarm_engine):
    rec = SwarmReconciler()
    m = manifest(scope, web={"image": "jarvis-test/httpd:1", "replicas": 2, "env": {"A": 1},
                             "healthcheck": {"test": ["CMD", "wget", "-q", "-O-", "http://localhost/"],
                                             "interval": "2s"}},
                 sleeper="jarvis-test/sleep:1")
    _, plan = plan_for(rec, m, scope, connection)
    assert sorted(c.resource for c in plan.changes) == ["service/sleeper", "service/web"]
    results = apply_plan(rec, plan, connection)
    assert all(r["status"] == "successful" for r in results), results
    assert "converged" in results[0]["msg"]
    _, again = plan_for(rec, m, scope, connection, prune=True)
    assert again.changes == ()
    live = rec.observe(connection, scope, rec.desired(m, scope, {}))
    assert live.health["services"]["service/web"]["running"] == 2
    assert live.health["containers_with_errors"] == 0


def test_update_image_env_replicas_and_prune(connection, scope, swarm_engine):
    rec = SwarmReconciler()
    m = manifest(scope, app={"image": "jarvis-test/sleep:1"}, gone={"image": "jarvis-test/sleep:1"})
    _, plan = plan_for(rec, m, scope, connection)
    assert all(r["status"] == "successful" for r in apply_plan(rec, plan, connection))
    m2 = manifest(scope, app={"image": "jarvis-test/sleep:2", "env": {"X": "y"}, "replicas": 2})
    _, plan = plan_for(rec, m2, scope, connection, prune=False)
    assert [(c.resource, c.action) for c in plan.changes] == [("service/app", "update")]
    paths = {f.path for f in plan.changes[0].fields}
    assert "TaskTemplate.ContainerSpec.Image" in paths and "Mode.Replicated.Replicas" in paths
    # the same change in orch.yaml terms, read back from the real engine: nothing else differs
    terms = {f.manifest_path: (f.manifest_before, f.manifest_after) for f in plan.changes[0].fields}
    assert terms == {"services.app.image": ("jarvis-test/sleep:1", "jarvis-test/sleep:2"),
                     "services.app.replicas": (1, 2), "services.app.env.X": (None, "y")}, terms
    _, plan = plan_for(rec, m2, scope, connection, prune=True)
    assert [(c.resource, c.action) for c in plan.changes] == [("service/app", "update"), ("service/gone", "delete")]
    results = apply_plan(rec, plan, connection)
    assert all(r["status"] == "successful" for r in results), results
    names = {s["Spec"]["Name"] for s in swarm_engine.api.services()}
    assert "app" in names and "gone" not in names
    svc = swarm_engine.api.inspect_service("app")
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "jarvis-test/sleep:2"
    _, again = plan_for(rec, m2, scope, connection, prune=True)
    assert again.changes == ()


def test_failing_image_reports_task_errors(connection, scope, swarm_engine):
    rec = SwarmReconciler()
    m = manifest(scope, broken={"image": "jarvis-test/fail:1", "restart": {"delay": "1s"}},
                 fine={"image": "jarvis-test/sleep:1"})
    _, plan = plan_for(rec, m, scope, connection)
    results = {r["resource"]: r for r in apply_plan(rec, plan, connection)}
    assert results["service/fine"]["status"] == "successful"
    assert results["service/broken"]["status"] == "failed"
    assert "service broken" in results["service/broken"]["msg"] and "exit code 3" in results["service/broken"]["msg"]
    live = rec.observe(connection, scope, rec.desired(m, scope, {}))
    assert live.health["services"]["service/broken"]["errors"]
    assert live.health["containers_with_errors"] >= 1


def test_failed_update_rolls_back(connection, scope, swarm_engine):
    rec = SwarmReconciler()
    ok = {"image": "jarvis-test/sleep:1", "update": {"monitor": "3s", "failure_action": "rollback"},
          "restart": {"delay": "1s"}}
    _, plan = plan_for(rec, manifest(scope, svc=ok), scope, connection)
    assert apply_plan(rec, plan, connection)[0]["status"] == "successful"
    bad = {**ok, "image": "jarvis-test/fail:1"}
    _, plan = plan_for(rec, manifest(scope, svc=bad), scope, connection)
    result = apply_plan(rec, plan, connection)[0]
    assert result["status"] == "failed"
    assert "rolled back" in result["msg"] and result["rolled_back"]
    svc = swarm_engine.api.inspect_service("svc")
    assert svc["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "jarvis-test/sleep:1"
