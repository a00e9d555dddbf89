"""The change-set decision (controller.gitops.changes) is pure: which manifests a sync re-plans."""

from __future__ import annotations

from controller.gitops import changes

MANIFESTS = ["apps/a/orch.yaml", "apps/b/orch.yaml", "apps/c/orch.yaml"]
REFS = {"apps/a/orch.yaml": ["apps/a/stack.yml"], "apps/b/orch.yaml": ["shared/base.yml"], "apps/c/orch.yaml": []}


def test_a_manifest_is_affected_by_its_own_file_a_file_it_read_or_being_unknown():
    assert changes.affected(MANIFESTS, ["apps/c/orch.yaml"], REFS) == {"apps/c/orch.yaml"}
    assert changes.affected(MANIFESTS, ["shared/base.yml", "README.md"], REFS) == {"apps/b/orch.yaml"}
    assert changes.affected(MANIFESTS, ["README.md"], REFS) == set()
    # no row at the base (added, or never planned there) and an unsettled one are re-planned
    assert changes.affected(MANIFESTS, [], {"apps/a/orch.yaml": []}) == {"apps/b/orch.yaml", "apps/c/orch.yaml"}
    assert changes.affected(MANIFESTS, [], REFS, unsettled=["apps/a/orch.yaml"]) == {"apps/a/orch.yaml"}


def test_only_a_push_or_poll_to_a_new_descendant_revision_is_partial():
    ok = {"base": "1" * 40, "revision": "2" * 40, "has_history": True}
    assert changes.full_sync_reason(trigger="webhook", **ok) is None
    assert changes.full_sync_reason(trigger="poll", **ok) is None
    for trigger in ("drift", "manual", "created", "updated", "verify"):
        assert trigger in changes.full_sync_reason(trigger=trigger, **ok)
    assert "no earlier complete sync" in changes.full_sync_reason(trigger="webhook", **{**ok, "base": None})
    assert "did not change" in changes.full_sync_reason(trigger="poll", **{**ok, "revision": "1" * 40})
    assert "working tree" in changes.full_sync_reason(trigger="webhook", **{**ok, "has_history": False})


def test_a_change_set_says_what_it_covers():
    part = changes.partial(MANIFESTS, base="a" * 40, changed=["apps/a/stack.yml"], refs=REFS)
    assert not part.full and part.replan == {"apps/a/orch.yaml"}
    assert part.to_dict() == {"full": False, "base": "a" * 40, "replanned": 1, "changed_files": 1,
                              "reason": "1 files changed since aaaaaaaaaaaa: 1 of 3 manifests affected"}
    whole = changes.everything(MANIFESTS, "a drift sync observes every manifest")
    assert whole.full and whole.replan == set(MANIFESTS) and whole.to_dict()["base"] is None
