"""A source at one revision: its manifests and the other files they reference.

Git sources are fetched into a bare mirror per source; a local directory that is not a git
repository (the embedded default's `examples/`) is read from the working tree as it is on disk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from controller.gitops.git import Credentials, GitError, Mirror, Revision, WorktreeSource


@dataclass
class Snapshot:
    revision: Revision
    manifests: dict[str, bytes]
    files: RepoFiles
    mirror: Mirror | None = None     # None for a working tree, which has no history

    def history(self) -> list[str] | None:
        """This revision and its first-parent ancestors, newest first (None: no history)."""
        return self.mirror.first_parents(self.revision.sha) if self.mirror is not None else None


class RepoFiles(Mapping[str, bytes]):
    """Repository files read on demand; remembers what was asked for so pushes touching them resync.

    `read` holds every full path asked for, found or not (a push that adds a missing compose file
    must re-plan the manifest that looked for it). A view from `under` has its own `read` (what one
    manifest referred to) and also records into its parent's (what the whole sync referred to)."""

    def __init__(self, reader, root: str = "", parent: RepoFiles | None = None) -> None:
        self._reader = reader
        self._root = root
        self._parent = parent
        self.read: set[str] = set()
        self._cache: dict[str, bytes] = parent._cache if parent is not None else {}

    def under(self, folder: str) -> RepoFiles:
        """The same files, with paths relative to `folder` (a manifest's own directory)."""
        return RepoFiles(self._reader, _join(self._root, folder), parent=self)

    def _record(self, full: str) -> None:
        files: RepoFiles | None = self
        while files is not None:
            files.read.add(full)
            files = files._parent

    def __getitem__(self, path: str) -> bytes:
        try:
            full = _join(self._root, path)
        except ValueError as exc:
            raise KeyError(str(exc)) from None
        self._record(full)
        if full not in self._cache:
            try:
                self._cache[full] = self._reader(full)
            except (GitError, FileNotFoundError, IsADirectoryError, ValueError) as exc:
                raise KeyError(f"{full}: {exc}") from None
        return self._cache[full]

    def __contains__(self, path: object) -> bool:
        try:
            self[str(path)]
            return True
        except KeyError:
            return False

    def __iter__(self) -> Iterator[str]:
        return iter(self._cache)

    def __len__(self) -> int:
        return len(self._cache)


def _join(root: str, path: str) -> str:
    """`path` from a manifest's folder `root`, as a path from the repository's root. `..` may climb
    to another folder of the repository (a manifest in examples/jarvis-self naming
    ../../deploy/stack.yml), a leading `/` starts at the repository's root; nothing leaves it."""
    joined = path.lstrip("/") if path.startswith("/") else f"{root.strip('/')}/{path}" if root else path
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValueError(f"{path}: outside the repository")
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


@dataclass
class SourceRef:
    id: int
    url: str
    branch: str
    paths: list[str]
    credentials: Credentials | None = None
    mirror_dir: Path = field(default_factory=Path)


def is_worktree(url: str) -> bool:
    """A local directory that is not itself a git repository is read from disk as it is."""
    if "://" in url or url.startswith("git@"):
        return False
    p = Path(url)
    return p.is_dir() and not (p / ".git").exists() and not (p / "HEAD").is_file()


def snapshot(ref: SourceRef) -> Snapshot:
    if is_worktree(ref.url):
        wt = WorktreeSource(Path(ref.url))
        revision, manifests = wt.snapshot(ref.paths)
        return Snapshot(revision, manifests, RepoFiles(wt.read_file))
    mirror = Mirror(ref.mirror_dir)
    revision = mirror.fetch(ref.url, ref.branch, ref.credentials)
    manifests = mirror.read_manifests(revision.sha, ref.paths)
    return Snapshot(revision, manifests, RepoFiles(lambda p, sha=revision.sha: mirror.read_file(sha, p)), mirror)
