"""Issue 10 §5: a push re-plans only the manifests it changed (or whose referenced files it changed);
a force push, a drift check or an unknown base is a full sync; every target is read once per sync.
Real git repositories, real PostgreSQL, the file-store test kind (its compose files are repository files)."""

from __future__ import annotations

from sqlalchemy import select

from controller import connections
from controller.store.models import DriftItem, Manifest, PlanRow, Source
from tests.gitops.conftest import World, git_rt  # noqa: F401  (the runtime with a worker, and the test world)
from tests.support.gitserver import commit

PATHS = ["apps/a/orch.yaml", "apps/b/orch.yaml", "apps/c/orch.yaml"]


def _text(w: World, name: str, endpoint: str = "prod", conn: str | None = None) -> str:
    text = w.manifest({f"{name}-web": {"endpoint": endpoint, "compose": "stack.yml"}}, name=name)
    return text.replace(f"filestore: {w.conn_name}", f"filestore: {conn}") if conn else text


def _three(w: World) -> str:
    return commit(w.repo, {p: _text(w, p.split("/")[1]) for p in PATHS}, "three manifests")


def _plans(w: World, revision: str) -> list[str]:
    with w.rt.db.session() as db:
        return sorted(db.scalars(select(PlanRow.manifest_path).where(PlanRow.source_id == w.source_id,
                                                                    PlanRow.revision == revision)))


def _rows(w: World, revision: str) -> dict[str, Manifest]:
    with w.rt.db.session() as db:
        rows = db.scalars(select(Manifest).where(Manifest.source_id == w.source_id, Manifest.revision == revision))
        return {m.path: m for m in rows}


def test_a_push_changing_one_manifest_replans_only_it(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    first = _three(w)
    res = w.sync("webhook")
    assert res.error == "" and res.full and res.planned == PATHS   # no earlier sync: everything
    assert _plans(w, first) == PATHS

    second = commit(w.repo, {"apps/b/orch.yaml": _text(w, "b", endpoint="edge")}, "b moves to the edge")
    res = w.sync("webhook")
    assert res.error == "" and not res.full and res.planned == ["apps/b/orch.yaml"], res
    assert _plans(w, second) == ["apps/b/orch.yaml"]
    with git_rt.db.session() as db:
        waiting = dict(db.execute(select(PlanRow.manifest_path, PlanRow.status).where(
            PlanRow.source_id == w.source_id, PlanRow.revision == first)).all())
        drift = {p for p in db.scalars(select(DriftItem.manifest_path).where(DriftItem.source_id == w.source_id))}
        src = db.get(Source, w.source_id)
    # the untouched manifests keep their waiting plans (same desired state); b's older plan expired
    assert waiting == {"apps/a/orch.yaml": "pending", "apps/b/orch.yaml": "expired", "apps/c/orch.yaml": "pending"}
    assert drift == set(PATHS) and src.last_revision == second
    # every manifest has its row at the head revision (pages and backups read those), each in force there
    rows = _rows(w, second)
    assert sorted(rows) == PATHS and all(r.valid and r.in_force_revision == second for r in rows.values())
    assert rows["apps/a/orch.yaml"].content == _text(w, "a") and "edge" in rows["apps/b/orch.yaml"].content
    assert sorted(src.watched_files) == ["apps/a/stack.yml", "apps/b/stack.yml", "apps/c/stack.yml"]

    third = commit(w.repo, {"README.md": "nothing to reconcile\n"}, "docs only")
    res = w.sync("webhook")
    assert res.error == "" and not res.full and res.planned == [] and res.reads == {}
    assert sorted(_rows(w, third)) == PATHS and _plans(w, third) == []


def test_a_change_to_a_referenced_compose_file_replans_the_manifest_referring_to_it(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    _three(w)
    assert w.sync("webhook").full
    with git_rt.db.session() as db:
        spec = db.scalar(select(PlanRow.changes).where(PlanRow.source_id == w.source_id,
                                                       PlanRow.manifest_path == "apps/c/orch.yaml"))[0]["desired"]
    assert "compose_sha256" not in spec   # looked for, not there yet: the manifest still refers to it

    added = commit(w.repo, {"apps/c/stack.yml": "services: {web: {image: nginx:1}}\n"}, "c gets its compose file")
    res = w.sync("webhook")
    assert not res.full and res.planned == ["apps/c/orch.yaml"], res
    changed = commit(w.repo, {"apps/c/stack.yml": "services: {web: {image: nginx:2}}\n"}, "c's image moves")
    res = w.sync("webhook")
    assert not res.full and res.planned == ["apps/c/orch.yaml"], res
    with git_rt.db.session() as db:
        digests = [ch["desired"]["compose_sha256"] for rev in (added, changed) for ch in db.scalar(
            select(PlanRow.changes).where(PlanRow.source_id == w.source_id, PlanRow.revision == rev))]
    assert len(digests) == 2 and digests[0] != digests[1]
    assert _rows(w, changed)["apps/c/orch.yaml"].files == ["apps/c/stack.yml"]


def test_a_force_push_an_unknown_base_and_the_drift_timer_plan_everything(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    first = _three(w)
    w.sync("webhook")
    commit(w.repo, {"apps/a/orch.yaml": _text(w, "a", endpoint="edge")}, "a moves")
    assert w.sync("webhook").planned == ["apps/a/orch.yaml"]

    # history rewritten: the new head does not descend from the last synced revision
    rewritten = commit(w.repo, {"apps/b/orch.yaml": _text(w, "b", endpoint="edge")}, "rewritten", parents=[first])
    res = w.sync("webhook")
    assert res.error == "" and res.full and res.planned == PATHS, res
    assert sorted(_rows(w, rewritten)) == PATHS

    res = w.sync("drift")   # the drift timer observes everything, even with nothing pushed
    assert res.full and res.planned == PATHS
    commit(w.repo, {"apps/c/orch.yaml": _text(w, "c", endpoint="edge")}, "c moves")
    assert w.sync("manual").full   # "sync now" too

    # a base the mirror does not hold (a fresh mirror, history rewritten meanwhile): nothing to diff against
    import shutil
    shutil.rmtree(git_rt.settings.data_dir / "mirrors" / str(w.source_id))
    commit(w.repo, {"apps/a/orch.yaml": _text(w, "a", endpoint="edge")}, "rewritten again", parents=[first])
    res = w.sync("webhook")
    assert res.error == "" and res.full and res.planned == PATHS


def test_each_target_is_read_once_per_sync_shared_by_its_manifests(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    other = tmp_path / "other-live"
    other.mkdir()
    with git_rt.db.session() as db:
        connections.create(db, git_rt.secrets, name=w.conn_name + "-2", type="filestore", environment="test",
                           config={"root": str(other)}, credentials={}, created_by="test")
    texts = {p: _text(w, p.split("/")[1]) for p in PATHS}
    texts["apps/d/orch.yaml"] = _text(w, "d", conn=w.conn_name + "-2")
    commit(w.repo, texts, "four manifests on two targets")
    res = w.sync("webhook")
    assert res.error == "" and len(res.planned) == 4 and len(res.plan_ids) == 4
    assert res.reads == {f"filestore:{w.conn_name}": 1, f"filestore:{w.conn_name}-2": 1}

    # the shared read is one manifest's view each: a stack owned by `a` is in sync for a, foreign for b
    (w.live / "a-web.json").write_text('{"endpoint": "prod", "compose": "stack.yml", "env": {}, '
                                       f'"owner": "{w.source_name}/a"}}')
    res = w.sync("drift")
    assert res.reads == {f"filestore:{w.conn_name}": 1, f"filestore:{w.conn_name}-2": 1}
    with git_rt.db.session() as db:
        items = {(i.manifest_path, i.resource): i.status for i in db.scalars(
            select(DriftItem).where(DriftItem.source_id == w.source_id))}
    assert items[("apps/a/orch.yaml", "stack/a-web")] == "in_sync"
    assert items[("apps/b/orch.yaml", "stack/b-web")] == "pending"

    # an unreachable target is tried once, and every manifest on it says so
    import shutil
    shutil.rmtree(w.live)
    res = w.sync("drift")
    assert res.reads[f"filestore:{w.conn_name}"] == 1
    with git_rt.db.session() as db:
        errors = {i.manifest_path for i in db.scalars(select(DriftItem).where(
            DriftItem.source_id == w.source_id, DriftItem.status == "error")) if "does not exist" in i.error}
    assert errors == set(PATHS)


def test_a_push_replans_a_manifest_whose_last_plan_failed(git_rt, tmp_path):  # noqa: F811
    w = World(git_rt, tmp_path, policy="manual")
    _three(w)
    live = w.live
    live.rename(tmp_path / "away")
    assert w.sync("webhook").full   # every target plan fails: the directory is gone
    (tmp_path / "away").rename(live)
    commit(w.repo, {"apps/a/orch.yaml": _text(w, "a", endpoint="edge")}, "a moves")
    res = w.sync("webhook")
    # b and c did not change, but their last plan ended in an error: the push is a moment to retry them
    assert not res.full and res.planned == PATHS and len(res.plan_ids) == 3, res
