"""A source served over HTTP by git's own http-backend, authenticated with a github connection's token."""

from __future__ import annotations

from sqlalchemy import select

from controller import connections
from controller.gitops.loop import sync_source
from controller.store.models import PlanRow, ReconcileRun, Source
from tests.gitops.conftest import World
from tests.support.gitserver import GitHttpServer, commit

TOKEN = "ghp_test_token_0123456789abcdef"


def test_http_source_with_token_and_a_bad_token(git_rt, tmp_path):
    w = World(git_rt, tmp_path)
    commit(w.repo, {"apps/app/orch.yaml": w.manifest({"web": {}})}, "first")
    with GitHttpServer(tmp_path, token=TOKEN) as server:
        url = server.url_for("repo")
        with git_rt.db.session() as db:
            connections.create(db, git_rt.secrets, name=f"gh-{tmp_path.name[-8:]}", type="github", environment="",
                               config={}, credentials={"token": TOKEN}, created_by="t")
            src = db.get(Source, w.source_id)
            src.url, src.connection = url, f"gh-{tmp_path.name[-8:]}"
        res = sync_source(git_rt, w.source_id, "test")
        assert res.error == "", res.error
        with git_rt.db.session() as db:
            assert db.scalar(select(PlanRow.status).where(PlanRow.source_id == w.source_id)) == "pending"
            connections.update(db, git_rt.secrets, connections.by_name(db, f"gh-{tmp_path.name[-8:]}"),
                               credentials={"token": "wrong-token-value-123"})
        res = sync_source(git_rt, w.source_id, "test")
    assert "authentication" in res.error.lower() and "wrong-token" not in res.error
    with git_rt.db.session() as db:
        src = db.get(Source, w.source_id)
        run = db.get(ReconcileRun, res.run_id)
        assert src.status == "error" and run.result == "error"
        # the plan made from the last good fetch is untouched
        assert db.scalar(select(PlanRow.status).where(PlanRow.source_id == w.source_id)) == "pending"
