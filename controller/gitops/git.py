"""Git sources: a bare mirror per source, fetched with pygit2, read at a commit.

No database here; the caller keeps the last seen revision and decides what to do with a new one.
Every failure of this class is a `GitError` whose message says what went wrong and where, and
never contains a credential.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pygit2

from controller.gitops.globs import matches, normalise_path, validate

# A source at a local path is often a checkout mounted read-only into Jarvis's container, owned by
# another user than Jarvis's (uid 10001). libgit2 then refuses it ("not owned by current user"), a
# check git added against repositories whose config runs commands (core.fsmonitor and the like);
# libgit2 runs none, and Jarvis only reads objects from a source, so the check only stands in the way.
pygit2.option(pygit2.enums.Option.SET_OWNER_VALIDATION, 0)

GITHUB_TOKEN_USER = "x-access-token"  # GitHub accepts any user with a token; this is its documented one


class GitError(Exception):
    """A repository could not be fetched or read (unreachable, bad credentials, no such branch...)."""


@dataclass(frozen=True)
class Revision:
    sha: str
    author: str
    message: str
    committed_at: datetime  # timezone-aware


@dataclass(frozen=True)
class Credentials:
    token: str | None = None      # https: sent as basic auth `x-access-token:<token>`
    ssh_key: str | None = None    # ssh: private key text (PEM / OpenSSH format)
    ssh_user: str = "git"
    ssh_passphrase: str = ""

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return (f"Credentials(token={'***' if self.token else None}, "
                f"ssh_key={'***' if self.ssh_key else None}, ssh_user={self.ssh_user!r})")


class _AuthRejected(Exception):
    """Raised from the credentials callback when the server refused what we sent."""


class _Callbacks(pygit2.RemoteCallbacks):
    def __init__(self, creds: Credentials, ssh: bool) -> None:
        super().__init__()
        self._creds = creds
        self._ssh = ssh
        self.attempts = 0

    def credentials(self, url, username_from_url, allowed_types):
        # libgit2 asks again after a rejection; answering twice with the same secret loops, so
        # the second request means the first one was refused.
        if allowed_types & pygit2.enums.CredentialType.USERNAME:
            # ssh without a user in the URL: libgit2 asks for the name first, then for the key
            return pygit2.Username(username_from_url or self._creds.ssh_user)
        self.attempts += 1
        if self.attempts > 1:
            raise _AuthRejected()
        if allowed_types & pygit2.enums.CredentialType.SSH_KEY:
            if not self._creds.ssh_key:
                raise _AuthRejected("no SSH key is configured for this source")
            user = username_from_url or self._creds.ssh_user
            return pygit2.KeypairFromMemory(user, None, self._creds.ssh_key, self._creds.ssh_passphrase)
        if allowed_types & pygit2.enums.CredentialType.USERPASS_PLAINTEXT:
            if not self._creds.token:
                raise _AuthRejected("no token is configured for this source")
            return pygit2.UserPass(GITHUB_TOKEN_USER, self._creds.token)
        raise _AuthRejected("the server asks for a kind of credential Jarvis does not support")

    def certificate_check(self, certificate, valid, host):
        if not self._ssh:
            raise pygit2.Passthrough  # TLS: libgit2's own verification decides
        # SSH host keys are accepted even when no known_hosts file vouches for them (a deployed
        # container has none); our key pair still authenticates us to the server.
        return True


def _is_ssh(url: str) -> bool:
    """ssh://... or scp-like user@host:path (but not a Windows-less local path)."""
    return url.startswith(("ssh://", "ssh+git://", "git+ssh://")) or bool(re.match(r"^[^/:@]+@[^/:]+:", url))


def redact_url(url: str) -> str:
    """The URL without any user:password@ part, safe to show."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", url)


def _scrub(text: str, creds: Credentials) -> str:
    for secret in (creds.token, creds.ssh_key, creds.ssh_passphrase):
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@", r"\1", text)


def _explain(raw: str, url: str) -> str:
    """Turn libgit2's terse message into one that says what to fix."""
    low = raw.lower()
    if "private key" in low:
        return f"the SSH key of the source for {url} cannot be used (expected a PEM or OpenSSH private key, with its passphrase if it has one): {raw}"
    if "401" in low or "403" in low or "authenticat" in low or "credentials" in low:
        return f"authentication failed for {url}: check the source's token or SSH key"
    if "404" in low or "repository not found" in low:
        return f"repository not found at {url} (HTTP 404): check the URL and the token's access"
    if any(w in low for w in ("could not find repository", "unsupported url protocol", "not a git",
                              "appear to be a git repository")):
        return f"{url} is not a git repository (or does not exist)"
    if any(w in low for w in ("failed to connect", "failed to resolve", "timed out", "connection", "could not resolve")):
        return f"repository {url} is unreachable: {raw}"
    return f"fetching {url} failed: {raw}"


def revision_of(commit: pygit2.Commit) -> Revision:
    tz = timezone(timedelta(minutes=commit.commit_time_offset))
    return Revision(
        sha=str(commit.id),
        author=f"{commit.author.name} <{commit.author.email}>",
        message=commit.message.strip(),
        committed_at=datetime.fromtimestamp(commit.commit_time, tz=tz),
    )


def _repo_path(path: str) -> str:
    """A normalised repository path; refuses absolute paths and `..` (they name nothing in a tree)."""
    if path.startswith("/") or ".." in path.replace("\\", "/").split("/"):
        raise GitError(f"path {path!r} must be relative to the repository root and stay inside it")
    clean = normalise_path(path)
    if not clean:
        raise GitError("an empty path names no file")
    return clean


class Mirror:
    """A bare mirror of one source's repository at `path`, created on first use.

    Fetches only the watched branch, with a forced refspec, so a force-pushed branch simply moves.
    Callers serialise fetches of one mirror (one source is reconciled at a time)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._repo: pygit2.Repository | None = None

    @property
    def repo(self) -> pygit2.Repository:
        if self._repo is None:
            if (self.path / "HEAD").exists():
                self._repo = pygit2.Repository(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._repo = pygit2.init_repository(str(self.path), bare=True)
        return self._repo

    def fetch(self, url: str, branch: str, creds: Credentials | None = None) -> Revision:
        """Fetch `branch` from `url` (https/http, ssh, file:// or a local path); its head revision."""
        creds = creds or Credentials()
        shown = redact_url(url)
        if not branch or branch.startswith("refs/") or ".." in branch:
            raise GitError(f"branch name {branch!r} is not a plain branch name")
        target = f"refs/heads/{branch}"
        # Fetch into a fresh ref first: libgit2 reports success when the branch does not exist,
        # and a branch deleted upstream must not look like its last fetched head.
        scratch = f"refs/jarvis/fetch/{uuid.uuid4().hex}"
        callbacks = _Callbacks(creds, ssh=_is_ssh(url))
        remote = self.repo.remotes.create_anonymous(url)
        try:
            remote.fetch([f"+{target}:{scratch}"], callbacks=callbacks)
        except _AuthRejected as exc:
            detail = f" ({exc})" if str(exc) else ""
            raise GitError(f"authentication failed for {shown}{detail}: check the source's token or SSH key") from None
        except (pygit2.GitError, OSError) as exc:
            raise GitError(_scrub(_explain(str(exc), shown), creds)) from None
        ref = self.repo.references.get(scratch)
        if ref is None:
            raise GitError(f"branch {branch!r} not found in {shown} (deleted or never pushed)")
        oid = ref.target
        self.repo.references.create(target, oid, force=True)
        ref.delete()
        return revision_of(self.repo[oid].peel(pygit2.Commit))

    def head(self, branch: str) -> Revision | None:
        """The last fetched head of `branch`, or None before the first fetch."""
        ref = self.repo.references.get(f"refs/heads/{branch}")
        return revision_of(self.repo[ref.target].peel(pygit2.Commit)) if ref else None

    def _commit(self, sha: str) -> pygit2.Commit:
        try:
            return self.repo.revparse_single(sha).peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
            raise GitError(f"commit {sha} is not in the mirror at {self.path} (fetch first)") from None

    def revision(self, sha: str) -> Revision:
        return revision_of(self._commit(sha))

    def read_manifests(self, sha: str, globs: list[str]) -> dict[str, bytes]:
        """Every file of commit `sha` whose path matches a glob: path -> content."""
        try:
            validate(globs)
        except ValueError as exc:
            raise GitError(str(exc)) from None
        found: dict[str, bytes] = {}
        self._walk(self._commit(sha).tree, "", globs, found)
        return dict(sorted(found.items()))

    def _walk(self, tree: pygit2.Tree, prefix: str, globs: list[str], found: dict[str, bytes]) -> None:
        for entry in tree:
            path = prefix + entry.name
            if entry.type_str == "tree":
                self._walk(self.repo[entry.id], path + "/", globs, found)
            elif entry.type_str == "blob" and matches(path, globs):
                found[path] = self.repo[entry.id].data

    def read_file(self, sha: str, path: str) -> bytes:
        """One file of commit `sha` (a compose file a manifest refers to, say)."""
        clean = _repo_path(path)
        tree = self._commit(sha).tree
        try:
            obj = self.repo[tree[clean].id]
        except KeyError:
            raise GitError(f"file {clean!r} does not exist in commit {sha[:12]}") from None
        if not isinstance(obj, pygit2.Blob):
            raise GitError(f"{clean!r} in commit {sha[:12]} is a directory, not a file")
        return obj.data

    def changed_paths(self, old_sha: str, new_sha: str) -> set[str]:
        """Paths added, modified, deleted or renamed (both names) between two commits."""
        old, new = self._commit(old_sha), self._commit(new_sha)
        diff = self.repo.diff(old.tree, new.tree)
        paths: set[str] = set()
        for delta in diff.deltas:
            paths.add(delta.old_file.path)
            paths.add(delta.new_file.path)
        return paths

    def first_parents(self, sha: str, limit: int = 200) -> list[str]:
        """`sha` and its first-parent ancestors, newest first: the order commits took effect."""
        out: list[str] = []
        commit = self._commit(sha)
        while len(out) < limit:
            out.append(str(commit.id))
            if not commit.parents:
                break
            commit = commit.parents[0]
        return out

    def is_ancestor(self, old_sha: str, new_sha: str) -> bool:
        """Whether `new_sha` descends from `old_sha` (False after a force push rewrote history)."""
        if old_sha == new_sha:
            return True
        new = self._commit(new_sha)
        try:
            old = self._commit(old_sha)
        except GitError:
            return False  # never fetched here (a new mirror): nothing shows history was kept
        return self.repo.descendant_of(new.id, old.id)

class WorktreeSource:
    """A directory edited on disk (the embedded default: the `examples/` folder), read as a source.

    It has no history, so its revision is a content hash: `wt-` + the first 16 hex digits of the
    sha256 of every file's path and content. Every non-hidden file counts, not only manifests,
    because an edited compose file that a manifest refers to must also yield a new revision."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _files(self) -> list[tuple[str, Path]]:
        if not self.path.is_dir():
            raise GitError(f"working-tree source {self.path} is not a directory")
        files = []
        root = self.path.resolve()
        for file in self.path.rglob("*"):
            rel = file.relative_to(self.path).as_posix()
            # hidden files and editor backups (.git/, .swp, foo~) are not part of the source
            if any(part.startswith(".") for part in rel.split("/")) or rel.endswith("~"):
                continue
            # a symlink out of the directory is not part of the source (read_file refuses it too)
            if file.is_file() and file.resolve().is_relative_to(root):
                files.append((rel, file))
        return sorted(files)

    def snapshot(self, globs: list[str]) -> tuple[Revision, dict[str, bytes]]:
        """The current revision and every file matching a glob: path -> content."""
        try:
            validate(globs)
        except ValueError as exc:
            raise GitError(str(exc)) from None
        digest = hashlib.sha256()
        manifests: dict[str, bytes] = {}
        newest = 0.0
        for rel, file in self._files():
            try:
                data = file.read_bytes()
                newest = max(newest, file.stat().st_mtime)
            except FileNotFoundError:
                continue  # deleted while we walked; the watcher reports it again
            # length-prefixed, so moving bytes between a path and its content changes the hash
            for part in (rel.encode(), data):
                digest.update(len(part).to_bytes(8, "big") + part)
            if matches(rel, globs):
                manifests[rel] = data
        revision = Revision(
            sha="wt-" + digest.hexdigest()[:16],
            author="local",
            message="working tree",
            committed_at=datetime.fromtimestamp(newest, tz=UTC) if newest else datetime.now(UTC),
        )
        return revision, manifests

    def read_file(self, path: str) -> bytes:
        """One file under the directory; paths escaping it (`..`, absolute, symlinks out) are refused."""
        root = self.path.resolve()
        target = (root / path).resolve()
        if path.startswith("/") or not target.is_relative_to(root):
            raise GitError(f"path {path!r} leaves the working-tree source {self.path}")
        if not target.is_file():
            raise GitError(f"file {path!r} does not exist in the working-tree source {self.path}")
        return target.read_bytes()
