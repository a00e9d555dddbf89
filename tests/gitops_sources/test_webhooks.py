"""GitHub push webhooks: signatures, the payload examples GitHub documents, matching sources."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from controller.gitops.webhooks import (
    PushEvent,
    WebhookError,
    parse_push,
    paths_touch,
    repo_matches,
    verify_signature,
)

EXAMPLES = sorted(Path("/work/shared/specs/github-webhooks/examples/push").glob("*.json"))
SECRET = "It's a Secret to Everybody"


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_examples_exist():
    assert len(EXAMPLES) >= 6


def test_github_documented_signature():
    # the worked example from GitHub's "Validating webhook deliveries" page
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_signature(SECRET, b"Hello, World!", header)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_signature_of_example_payloads(example):
    body = example.read_bytes()
    header = _sign(SECRET, body)
    assert verify_signature(SECRET, body, header)
    assert not verify_signature("another secret", body, header)
    assert not verify_signature(SECRET, body + b" ", header)
    assert not verify_signature(SECRET, body, header.replace("sha256=", "sha1="))
    assert not verify_signature(SECRET, body, None)
    assert not verify_signature("", body, _sign("", body))  # an unset secret never verifies


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_parse_every_example_push(example):
    payload = json.loads(example.read_text())
    event = parse_push(payload)
    assert event.full_name == "Codertocat/Hello-World"
    assert event.clone_url == payload["repository"]["clone_url"]
    assert event.ref == payload["ref"]
    assert event.after == payload["after"]
    assert event.deleted == payload["deleted"]
    assert event.forced == payload["forced"]
    if payload["ref"].startswith("refs/heads/"):
        assert event.branch == payload["ref"].removeprefix("refs/heads/")
        assert event.paths == {"README.md"}
    else:
        assert event.branch is None  # a tag push is no branch
        assert event.paths is None


def _event(commits: list[dict] | None, **overrides) -> PushEvent:
    payload = json.loads((EXAMPLES[0].parent / "with-new-branch.payload.json").read_text())
    if commits is not None:
        payload["commits"] = commits
    payload.update(overrides)
    return parse_push(payload)


def _c(added=(), modified=(), removed=()) -> dict:
    return {"added": list(added), "modified": list(modified), "removed": list(removed)}


def test_paths_union_of_all_commits():
    event = _event([_c(added=["apps/web/orch.yaml"]), _c(modified=["stack.yml"], removed=["old/orch.yaml"])])
    assert event.paths == {"apps/web/orch.yaml", "stack.yml", "old/orch.yaml"}
    assert paths_touch(["**/orch.yaml"], event.paths)
    assert not paths_touch(["infra/*/orch.yaml"], event.paths)


def test_paths_unknown_when_github_did_not_list_them():
    assert _event([]).paths is None                                    # no commit lists
    assert _event([{"id": "x"}]).paths is None                         # lists missing
    assert _event([_c()]).paths is None                                # too large to compute
    assert _event([_c(added=[f"f{i}"]) for i in range(20)]).paths is None  # capped at 20 commits
    assert paths_touch(["**/orch.yaml"], None)


def test_force_push_and_deletion_flags():
    assert _event(None, forced=True).forced
    deleted = _event(None, deleted=True, after="0" * 40)
    assert deleted.deleted and deleted.paths is None


def test_payload_without_repository_is_a_clear_error():
    with pytest.raises(WebhookError, match="repository.full_name"):
        parse_push({"ref": "refs/heads/main", "after": "a" * 40, "repository": {}})
    with pytest.raises(WebhookError, match="no ref"):
        parse_push({})


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Codertocat/Hello-World",
        "https://github.com/Codertocat/Hello-World.git",
        "https://github.com/codertocat/hello-world/",
        "HTTPS://GitHub.com/Codertocat/Hello-World.git/",
        "https://x-access-token@github.com/Codertocat/Hello-World.git",
        "git@github.com:Codertocat/Hello-World.git",
        "git@github.com:codertocat/hello-world",
        "ssh://git@github.com/Codertocat/Hello-World",
        "ssh://git@github.com:22/Codertocat/Hello-World.git",
    ],
)
def test_repo_matches_url_forms(url):
    assert repo_matches(url, _event(None))


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/Codertocat/Hello-World-2",
        "https://github.com/Other/Hello-World",
        "https://gitlab.com/Codertocat/Hello-World",
        "git@github.com:Codertocat/Hello.git",
        "/srv/git/Hello-World",
        "",
    ],
)
def test_repo_does_not_match_other_repositories(url):
    assert not repo_matches(url, _event(None))
