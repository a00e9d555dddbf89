"""A source's status tells how many of its manifests are invalid, on the list, the dashboard and in
each history entry: ok, degraded (some invalid), error (all invalid, or the sync itself failed)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from tests.gitops.conftest import World
from tests.support.gitserver import commit

BROKEN = "apiVersion: jarvis/v1\nname: [unclosed\n"


def _seen(c, admin, source_id):
    src = next(s for s in c.get("/api/sources", headers=admin.headers).json() if s["id"] == source_id)
    dash = next(s for s in c.get("/api/dashboard", headers=admin.headers).json()["sources"] if s["id"] == source_id)
    last = c.get(f"/api/sources/{source_id}/history", headers=admin.headers).json()[0]
    return (src["status"], src["status_text"]), (dash["status"], dash["status_text"]), (last["result"], last["result_text"])


def test_status_counts_invalid_manifests(git_rt, tmp_path, admin):
    w = World(git_rt, tmp_path)
    commit(w.repo, {"a/orch.yaml": w.manifest({"web": {}}, name="a"), "b/orch.yaml": BROKEN,
                    "c/orch.yaml": BROKEN}, "two of three broken")
    with TestClient(create_app(git_rt, background=False)) as c:
        w.sync()
        assert _seen(c, admin, w.source_id) == (("degraded", "degraded: 2 of 3 manifests invalid"),) * 3
        commit(w.repo, {"a/orch.yaml": BROKEN}, "all broken")
        w.sync()
        assert _seen(c, admin, w.source_id) == (("error", "error: 3 of 3 manifests invalid"),) * 3
        commit(w.repo, {p: w.manifest({}, name=p[0]) for p in ("a/orch.yaml", "b/orch.yaml", "c/orch.yaml")}, "fixed")
        w.sync()
        assert _seen(c, admin, w.source_id) == (("ok", "ok"),) * 3
