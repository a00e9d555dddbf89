"""Which version of a manifest is in force: the last valid one in commit order (issue 11, item 14).

With `sync: auto` the version in force is what gets deployed, so after an invalid edit it must be
the nearest valid ancestor of the pushed commit, whatever order the rows were stored in."""

from __future__ import annotations

import pygit2
from sqlalchemy import select

from controller.store.models import Manifest
from tests.gitops.conftest import World, wait_job
from tests.support.gitserver import commit

BROKEN = "apiVersion: jarvis/v1\nname: [unclosed\n"


def in_force(w: World, sha: str) -> str | None:
    with w.rt.db.session() as s:
        row = s.scalar(select(Manifest).where(Manifest.source_id == w.source_id, Manifest.revision == sha))
        return row.in_force_revision


def sync_and_wait(w: World):
    res = w.sync()
    assert res.error == "", res.error
    for job_id in res.job_ids:
        assert wait_job(w.rt, job_id).status == "success"
    return res


def test_revert_then_invalid_edit_keeps_the_reverted_version(git_rt, tmp_path):
    w = World(git_rt, tmp_path, policy="auto", prune=True)
    a = w.push({"web": {}}, message="A")
    sync_and_wait(w)
    w.push({"web": {}, "api": {}}, message="B")
    sync_and_wait(w)
    revert = w.push({"web": {}}, message="revert to A's content")
    sync_and_wait(w)
    assert set(w.files()) == {"web"} and in_force(w, revert) == revert
    bad = w.push(text=BROKEN, message="invalid edit")
    res = sync_and_wait(w)
    assert not res.job_ids and set(w.files()) == {"web"}      # nothing of B comes back
    assert in_force(w, bad) == revert
    fix = w.push({"web": {"endpoint": "edge"}}, message="fix")
    sync_and_wait(w)
    assert in_force(w, fix) == fix and w.files()["web"]["endpoint"] == "edge"
    assert a != revert


def test_force_push_back_to_a_seen_revision_then_invalid_edit(git_rt, tmp_path):
    """A, B, the branch reset to A (A's row was stored first), then an invalid edit on top of A:
    A is in force, not B (the newest stored valid row)."""
    w = World(git_rt, tmp_path, policy="auto", prune=True)
    a = w.push({"web": {}}, message="A")
    sync_and_wait(w)
    w.push({"web": {}, "api": {}}, message="B")
    sync_and_wait(w)
    assert set(w.files()) == {"api", "web"}
    pygit2.Repository(str(w.repo)).references.create("refs/heads/main", a, force=True)   # force push to A
    sync_and_wait(w)
    assert set(w.files()) == {"web"}
    bad = commit(w.repo, {"apps/app/orch.yaml": BROKEN}, "invalid edit")
    res = sync_and_wait(w)
    assert not res.job_ids and set(w.files()) == {"web"}
    assert in_force(w, bad) == a
    fix = w.push({"web": {"endpoint": "edge"}}, message="fix")
    sync_and_wait(w)
    assert in_force(w, fix) == fix and set(w.files()) == {"web"} and w.files()["web"]["endpoint"] == "edge"
