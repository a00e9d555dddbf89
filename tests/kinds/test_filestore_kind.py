"""A new kind is one package, one entry-point line and its tests: the file-store kind (tests/kinds/filestore)
is its own distribution, pip-installed, found by its `jarvis.reconcilers` entry point, built on nothing but
`reconcilers.base`, and goes through the whole cycle: sync → plan → approve (HTTP) → apply job → in sync."""

from __future__ import annotations

import dataclasses
import json
import shutil
import uuid
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from controller import registry
from controller.accounts import users
from controller.errors import ConfigurationError
from controller.manifests.loader import parse_manifest
from controller.store.models import PlanRow
from tests.gitops.conftest import World, git_rt  # noqa: F401  (the runtime with a worker, and the test world)
from tests.support import plugins
from tests.support.jobs import wait_job
from tests.support.tokens import bearer_token


def _headers(rt, role: str) -> dict[str, str]:
    with rt.db.session() as db:
        u = users.create(db, f"{role}-{uuid.uuid4().hex[:6]}@example.test", "kind-password-1", role)
        uid = u.id
    token = bearer_token(rt, uid, role)
    return {"Authorization": f"Bearer {token}"}


def test_the_kind_is_found_through_its_entry_point_only_while_installed(test_kinds_site):
    assert "filestore" not in registry.reconciler_classes()
    with plugins.on_path(test_kinds_site):
        (ep,) = [e for e in entry_points(group=registry.GROUP) if e.name == "filestore"]
        assert ep.dist.name == "jarvis-test-filestore"
        cls = registry.reconciler_classes()["filestore"]
        # the installed copy, not the source tree: nothing imports it by name
        assert Path(cls.__module__ and __import__(cls.__module__).__file__).is_relative_to(test_kinds_site)
    assert "filestore" not in registry.reconciler_classes()


def test_sync_plan_approve_apply_through_the_api(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    w.push({"web": {}, "api": {"endpoint": "edge"}})
    res = w.sync()
    assert res.error == "" and len(res.plan_ids) == 1 and not res.job_ids, res
    assert w.files() == {}
    with TestClient(create_app(git_rt, background=False)) as c:
        viewer, operator = _headers(git_rt, "viewer"), _headers(git_rt, "operator")
        plan = c.get(f"/api/plans/{res.plan_ids[0]}", headers=viewer).json()
        assert plan["kind"] == "filestore" and plan["status"] == "pending"
        assert sorted(ch["resource"] for ch in plan["changes"]) == ["stack/api", "stack/web"]
        r = c.post(f"/api/plans/{plan['id']}/approve", headers=operator, json={"checksum": plan["checksum"]})
        assert r.status_code == 202, r.text
        job = wait_job(git_rt, r.json()["job_id"], timeout=240)
        assert job.status == "success", job.reason
        assert set(w.files()) == {"api", "web"} and w.files()["api"]["endpoint"] == "edge"

        again = w.sync()
        assert again.error == "" and not again.plan_ids
        drift = c.get("/api/drift", params={"source_id": w.source_id}, headers=viewer).json()
        assert {i["resource"]: i["status"] for i in drift["items"]} == {"stack/api": "in_sync", "stack/web": "in_sync"}
        kind = next(k for k in c.get("/api/dashboard", headers=viewer).json()["kinds"] if k["kind"] == "filestore")
        assert kind["title"] == "File store" and kind["connection_type"] == "filestore"
        (target,) = [t for t in kind["targets"] if t["target"] == f"filestore:{w.conn_name}"]
        assert (target["health"], target["counts"], target["problems"]) == ("ok", {"files": 2, "managed": 2}, 0)


def test_an_unavailable_target_is_a_plan_error_a_503_and_a_down_summary(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    w.push({"web": {}})
    first = w.sync()
    shutil.rmtree(w.live)   # the target goes away
    res = w.sync()
    assert res.error == "" and not res.plan_ids
    with TestClient(create_app(git_rt, background=False)) as c:
        viewer, operator = _headers(git_rt, "viewer"), _headers(git_rt, "operator")
        # the target's error, and the stack it declares as unknown (not observed), never in sync
        item, stack = c.get("/api/drift", params={"source_id": w.source_id}, headers=viewer).json()["items"]
        assert item["status"] == "error"
        assert (stack["resource"], stack["status"]) == ("stack/web", "unknown")
        assert stack["error"] == f"not observed: {item['error']}"
        assert item["error"] == f"target unavailable: connection {w.conn_name!r}: directory {w.live} does not exist"
        kind = next(k for k in c.get("/api/dashboard", headers=viewer).json()["kinds"] if k["kind"] == "filestore")
        (target,) = [t for t in kind["targets"] if t["target"] == f"filestore:{w.conn_name}"]
        assert target["health"] == "down" and target["errors"] == [item["error"]]

        # approving the plan made while it was there: the steps cannot be made, the one handler answers 503
        plan = c.get(f"/api/plans/{first.plan_ids[0]}", headers=viewer).json()
        r = c.post(f"/api/plans/{plan['id']}/approve", headers=operator, json={"checksum": plan["checksum"]})
        assert r.status_code == 503 and r.json()["code"] == "target_unavailable", r.text
        with git_rt.db.session() as db:
            assert db.scalar(select(PlanRow.status).where(PlanRow.id == plan["id"])) == "pending"


def test_per_kind_settings_come_from_the_one_settings_object(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="auto")
    (w.live / "old.stack").write_text(json.dumps({"owner": "someone/else"}))
    rt = dataclasses.replace(git_rt, settings=git_rt.settings.model_copy(
        update={"reconcilers": {"filestore": {"suffix": ".stack"}}}))
    assert registry.reconcilers(rt)["filestore"].settings == {"suffix": ".stack"}
    w.rt = rt
    w.push({"web": {}})
    res = w.sync()
    assert res.error == "" and len(res.job_ids) == 1, res
    assert wait_job(rt, res.job_ids[0], timeout=240).status == "success"
    assert sorted(p.name for p in w.live.iterdir()) == ["old.stack", "web.stack"]

    bad = dataclasses.replace(git_rt, settings=git_rt.settings.model_copy(
        update={"reconcilers": {"filestore": {"sufix": ".x"}}}))
    with pytest.raises(ConfigurationError, match="filestore reconciler has no setting sufix .it reads: suffix."):
        registry.reconcilers(bad)


def test_the_kind_brings_its_own_section_checked_at_line_and_column(test_kinds_site):
    text = ("apiVersion: jarvis/v1\nname: app\nconnections: {filestore: fs}\nfilestore:\n"
            "  - {name: web, endpoint: prod, compose: c.yml}\n"
            "  - {name: api, endpoint: prod, compose: c.yml, colour: red}\n")
    # not installed: `filestore:` is an unknown key like any other
    assert parse_manifest(text, "orch.yaml", known_connections={"fs"}).manifest is None
    with plugins.on_path(test_kinds_site):
        res = parse_manifest(text, "orch.yaml", known_connections={"fs"})
        assert res.manifest is None
        (err,) = res.errors
        assert (err.line, err.column) == (6, 49) and "colour" in err.message, str(err)

        good = parse_manifest(text.replace(", colour: red", ""), "orch.yaml", known_connections={"fs"})
        assert not good.errors and [s.name for s in good.manifest.filestore] == ["web", "api"]
        assert good.manifest.connections.filestore == "fs"

        unconnected = parse_manifest(text.replace("connections: {filestore: fs}\n", "").replace(", colour: red", ""),
                                     "orch.yaml", known_connections={"fs"})
        (err,) = unconnected.errors
        assert (err.line, err.message) == (3, "'filestore' needs connections.filestore (the filestore connection "
                                               "it deploys through)"), str(err)
        unknown = parse_manifest(text.replace("{filestore: fs}", "{filestore: fz}").replace(", colour: red", ""),
                                 "orch.yaml", known_connections={"fs"})
        assert [e.message for e in unknown.errors] == ["unknown connection 'fz' in connections.filestore"]
