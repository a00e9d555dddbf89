"""GitHub push webhooks: signature check, payload parsing, matching a push to a source.

Pure functions; the API route reads the body and headers, de-duplicates deliveries in the
database and schedules a fetch of every source that `repo_matches` and `paths_touch`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from controller.gitops.globs import matches

ZERO_SHA = "0" * 40
# GitHub lists at most this many commits in a push payload; with more, file lists are incomplete.
MAX_LISTED_COMMITS = 20
# GitHub's payloads nest about six levels deep; far deeper is not GitHub, and would exhaust the stack.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class WebhookError(ValueError):
    """A payload that is not a usable push event; the message names the missing field."""


@dataclass(frozen=True)
class PushEvent:
    full_name: str          # "owner/name"
    clone_url: str
    ssh_url: str
    html_url: str
    ref: str                # "refs/heads/main", "refs/tags/v1"
    branch: str | None      # "main"; None for a tag or another kind of ref
    after: str              # new head sha; all zeros when the ref was deleted
    deleted: bool
    forced: bool
    paths: set[str] | None  # files the pushed commits touched; None when GitHub did not say them all


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `X-Hub-Signature-256` (`sha256=<hex>`) is the HMAC-SHA256 of the raw body."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def load_payload(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict:
    """The JSON object of a delivery, refused (WebhookError) when not JSON, too deep or not an object.

    The depth is counted on the brackets outside strings before `json.loads` runs, so a body of
    a million `[` is a clear error instead of a RecursionError."""
    depth = deepest = 0
    for byte in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > max_depth:
        raise WebhookError(f"body nests deeper than {max_depth} levels")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookError("body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookError("body is not a JSON object")
    return payload


def repository_of(payload: dict) -> dict:
    """The `repository` object of any event (push, ping, ...); {} when absent, an error when not an object."""
    repo = payload.get("repository") or {}
    if not isinstance(repo, dict):
        raise WebhookError("repository is not an object")
    return repo


def _field(payload: dict, *keys: str) -> object:
    value: object = payload
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise WebhookError(f"push payload has no {'.'.join(keys)}")
        value = value[key]
    return value


def _paths(commits: object) -> set[str] | None:
    if not isinstance(commits, list) or not commits or len(commits) >= MAX_LISTED_COMMITS:
        return None
    paths: set[str] = set()
    for commit in commits:
        lists = [commit.get(key) for key in ("added", "removed", "modified")] if isinstance(commit, dict) else []
        if not lists or not all(isinstance(item, list) for item in lists):
            return None
        if not any(lists):
            # GitHub leaves the lists empty for commits too large to compute: unknown, not "nothing"
            return None
        for item in lists:
            paths.update(str(path) for path in item)
    return paths


def parse_push(payload: dict) -> PushEvent:
    """The parts of a `push` event that decide which sources to fetch."""
    if not isinstance(payload, dict):
        raise WebhookError("push payload is not a JSON object")
    ref = str(_field(payload, "ref"))
    after = str(_field(payload, "after"))
    deleted = bool(payload.get("deleted", after == ZERO_SHA))
    return PushEvent(
        full_name=str(_field(payload, "repository", "full_name")),
        clone_url=str(_field(payload, "repository", "clone_url")),
        ssh_url=str(_field(payload, "repository", "ssh_url")),
        html_url=str(_field(payload, "repository", "html_url")),
        ref=ref,
        branch=ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else None,
        after=after,
        deleted=deleted,
        forced=bool(payload.get("forced", False)),
        paths=None if deleted else _paths(payload.get("commits")),
    )


_URL_FORMS = [
    re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^/@]*@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$", re.I),  # https, ssh://
    re.compile(r"^(?:[^/@]+@)?(?P<host>[^/:]+):(?P<path>[^/].*)$"),                              # git@host:o/r
]


def normalise_repo_url(url: str) -> str | None:
    """`host/owner/name` in lower case for any URL form GitHub hands out, or None if not a remote URL."""
    url = url.strip()
    for form in _URL_FORMS:
        found = form.match(url)
        if found:
            path = found["path"].strip("/")
            if path.endswith(".git"):
                path = path[:-4]
            return f"{found['host'].lower()}/{path.strip('/').lower()}"
    return None


def repo_matches(source_url: str, event: PushEvent) -> bool:
    """Whether a source's URL names the repository the push went to (any URL form, any case)."""
    wanted = normalise_repo_url(source_url)
    if wanted is None:
        return False
    for url in (event.clone_url, event.ssh_url, event.html_url):
        if normalise_repo_url(url) == wanted:
            return True
    return False


def paths_touch(globs: Iterable[str], paths: set[str] | None) -> bool:
    """Whether the pushed paths touch the given globs; unknown paths (None) always do.

    The caller passes the manifest globs plus the files those manifests refer to (compose files),
    so an edit to either one leads to a fetch."""
    if paths is None:
        return True
    globs = list(globs)
    return any(matches(path, globs) for path in paths)
