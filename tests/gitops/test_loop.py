"""The loop on a real git repository and a real target (files changed by ansible-runner)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from controller.errors import Invalid
from controller.gitops import decisions
from controller.store.models import DriftItem, Incident, Manifest, PlanRow, ReconcileRun, Source
from tests.gitops.conftest import World, wait_job


def plans(rt, source_id, status=None):
    with rt.db.session() as s:
        q = select(PlanRow).where(PlanRow.source_id == source_id)
        if status:
            q = q.where(PlanRow.status == status)
        rows = s.scalars(q.order_by(PlanRow.id)).all()
        for r in rows:
            s.expunge(r)
        return rows


def drift(rt, source_id):
    with rt.db.session() as s:
        return {(d.resource, d.status) for d in s.scalars(select(DriftItem).where(DriftItem.source_id == source_id))}


def approve(rt, row):
    with rt.db.session() as s:
        return decisions.approve(rt, s, row.id, row.checksum, "ops@example.test").id


def test_manual_plan_is_approved_applied_and_verified(world):
    rev = world.push({"web": {}, "api": {"endpoint": "edge"}})
    res = world.sync()
    assert res.error == "" and res.revision == rev
    (row,) = plans(world.rt, world.source_id, "pending")
    assert row.counts == {"create": 2, "update": 0, "delete": 0}
    assert world.files() == {}                                     # manual: nothing applied yet
    assert drift(world.rt, world.source_id) == {("stack/api", "pending"), ("stack/web", "pending")}
    job = wait_job(world.rt, approve(world.rt, row))
    assert job.status == "success"
    assert set(world.files()) == {"api", "web"} and world.files()["api"]["endpoint"] == "edge"
    world.sync("verify")
    (applied,) = plans(world.rt, world.source_id, "applied")
    assert applied.converged is True
    assert drift(world.rt, world.source_id) == {("stack/api", "in_sync"), ("stack/web", "in_sync")}


def test_approving_a_changed_plan_is_refused(world):
    world.push({"web": {}})
    world.sync()
    (row,) = plans(world.rt, world.source_id, "pending")
    with world.rt.db.session() as s, pytest.raises(Invalid):
        decisions.approve(world.rt, s, row.id, "0" * 64, "ops")


def test_auto_applies_and_heals_drift_made_by_hand(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto")
    w.push({"web": {}})
    res = w.sync()
    assert res.job_ids, res
    assert wait_job(git_rt, res.job_ids[0]).status == "success"
    assert w.files()["web"]["endpoint"] == "prod"
    # someone edits the live target by hand; the drift timer's sync sees it and heals it
    spec = w.files()["web"]
    spec["endpoint"] = "hand-edited"
    (w.live / "web.json").write_text(json.dumps(spec))
    res = w.sync("drift")
    (healing,) = [p for p in plans(git_rt, w.source_id) if p.id in res.plan_ids]
    change = healing.changes[0]
    assert change["action"] == "update"
    assert [{k: f[k] for k in ("path", "before", "after")} for f in change["fields"]] == [
        {"path": "endpoint", "before": "hand-edited", "after": "prod"}]
    wait_job(git_rt, res.job_ids[0])
    assert w.files()["web"]["endpoint"] == "prod"


def test_detect_only_reports(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="detect")
    w.push({"web": {}})
    res = w.sync()
    assert not res.job_ids
    assert [p.status for p in plans(git_rt, w.source_id)] == ["detected"]
    assert drift(git_rt, w.source_id) == {("stack/web", "drifted")}


def test_broken_push_plans_nothing_and_never_prunes(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto", prune=True)
    w.push({"web": {}, "api": {}})
    wait_job(git_rt, w.sync().job_ids[0])
    assert set(w.files()) == {"api", "web"}
    # a broken manifest: invalid YAML, and one with a schema error
    for broken in ("apiVersion: jarvis/v1\nname: [unclosed\n", w.manifest({}).replace("filestore:", "filestorez:")):
        w.push(text=broken, message="oops")
        res = w.sync()
        assert not res.job_ids and set(w.files()) == {"api", "web"}
        with git_rt.db.session() as s:
            row = s.scalar(select(Manifest).where(Manifest.source_id == w.source_id, Manifest.revision == res.revision))
            assert row.valid is False and row.errors and "apps/app/orch.yaml:" in row.errors[0]
        # the last good desired state stays in force: everything in sync, nothing planned
        assert drift(git_rt, w.source_id) == {("stack/api", "in_sync"), ("stack/web", "in_sync")}


def test_prune_removes_only_owned_and_only_when_allowed(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto", prune=False)
    (w.live / "foreign.json").write_text(json.dumps({"owner": "someone-else"}))
    w.push({"web": {}, "api": {}})
    wait_job(git_rt, w.sync().job_ids[0])
    w.push({"web": {}})
    res = w.sync()
    assert not res.job_ids and "api" in w.files()                  # prune: false keeps it
    w.prune = True
    w.push({"web": {}})
    res = w.sync()
    wait_job(git_rt, res.job_ids[0])
    assert set(w.files()) == {"web", "foreign"}                     # the foreign file is never touched


def test_large_destructive_plan_is_held_whatever_the_policy(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto", prune=True)
    w.push({f"s{i}": {} for i in range(10)})
    wait_job(git_rt, w.sync().job_ids[0])
    w.push({f"s{i}": {} for i in range(6)})        # 4 of 10 deleted > 30%
    res = w.sync()
    assert not res.job_ids
    (held,) = plans(git_rt, w.source_id, "held")
    assert "4 of 10 managed resources" in held.held_reasons[0]
    assert len(w.files()) == 10


def test_protected_resource_waits_for_approval(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto")
    w.push(text=w.manifest({"web": {}}, extra="protected: [stack/web]\n"))
    res = w.sync()
    assert not res.job_ids
    (held,) = plans(git_rt, w.source_id, "held")
    assert held.held_reasons == ["stack/web is protected"]


def test_ignore_rules_hide_fields_another_system_owns(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto")
    w.push(text=w.manifest({"web": {}}, extra="ignore:\n  - {resource: stack/web, fields: [endpoint]}\n"))
    wait_job(git_rt, w.sync().job_ids[0])
    spec = w.files()["web"]
    spec["endpoint"] = "set-by-someone-else"
    (w.live / "web.json").write_text(json.dumps(spec))
    res = w.sync("drift")
    assert not res.plan_ids and drift(git_rt, w.source_id) == {("stack/web", "in_sync")}


def test_plan_for_an_older_revision_expires(world):
    world.push({"web": {}})
    world.sync()
    (old,) = plans(world.rt, world.source_id, "pending")
    world.push({"web": {}, "api": {}})
    world.sync()
    statuses = {p.id: p.status for p in plans(world.rt, world.source_id)}
    assert statuses[old.id] == "expired" and list(statuses.values()).count("pending") == 1
    with world.rt.db.session() as s, pytest.raises(Exception, match="expired"):
        decisions.approve(world.rt, s, old.id, old.checksum, "ops")


def test_same_drift_is_not_planned_twice(world):
    world.push({"web": {}})
    world.sync()
    world.sync("drift")
    assert len(plans(world.rt, world.source_id)) == 1


def test_missing_connection_is_a_visible_error(world):
    text = world.manifest({"web": {}}).replace(world.conn_name, "no-such-connection")
    world.push(text=text)
    world.sync()
    with world.rt.db.session() as s:
        row = s.scalar(select(Manifest).where(Manifest.source_id == world.source_id))
        assert "no-such-connection" in row.errors[0]
    assert ("", "error") in drift(world.rt, world.source_id)
    with world.rt.db.session() as s:
        (item,) = s.scalars(select(DriftItem).where(DriftItem.source_id == world.source_id)).all()
        assert "apps/app/orch.yaml:" in item.error and "no-such-connection" in item.error


def test_unreachable_repository_is_recorded_and_nothing_else_stops(world):
    with world.rt.db.session() as s:
        s.get(Source, world.source_id).url = "http://127.0.0.1:9/nothing.git"
    res = world.sync()
    assert res.error
    with world.rt.db.session() as s:
        src = s.get(Source, world.source_id)
        run = s.scalars(select(ReconcileRun).where(ReconcileRun.source_id == world.source_id)).all()[-1]
        assert src.status == "error" and src.last_error and run.result == "error"


def test_failed_convergence_opens_an_incident(world):
    world.push({"web": {}})
    world.sync()
    (row,) = plans(world.rt, world.source_id, "pending")
    wait_job(world.rt, approve(world.rt, row))
    (world.live / "web.json").write_text(json.dumps({"owner": f"{world.source_name}/app", "endpoint": "x"}))
    world.sync("verify")
    with world.rt.db.session() as s:
        inc = s.scalars(select(Incident).where(Incident.source_id == world.source_id)).all()
    assert len(inc) == 1 and "did not converge" in inc[0].title and inc[0].state == "open"

    # applied again and again not converging: the same incident, seen twice, not a second one
    (row,) = plans(world.rt, world.source_id, "pending")
    wait_job(world.rt, approve(world.rt, row))
    (world.live / "web.json").write_text(json.dumps({"owner": f"{world.source_name}/app", "endpoint": "x"}))
    world.sync("verify")
    with world.rt.db.session() as s:
        inc = s.scalars(select(Incident).where(Incident.source_id == world.source_id)).all()
    assert [(i.state, i.occurrences) for i in inc] == [("open", 2)]

    # applied once more (held now: the same changes did not converge before) and converged this
    # time: the incident resolves itself, saying how
    (row,) = plans(world.rt, world.source_id, "held")
    wait_job(world.rt, approve(world.rt, row))
    world.sync("verify")
    with world.rt.db.session() as s:
        (inc,) = s.scalars(select(Incident).where(Incident.source_id == world.source_id)).all()
    assert inc.state == "resolved" and inc.resolved_by == "jarvis"
    assert inc.resolution["action"] == "a later apply converged" and inc.resolution["plan_id"] == row.id
