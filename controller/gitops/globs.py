"""Path globs for manifests, shared by git trees, working trees and webhook file lists.

Semantics (the same everywhere, on posix-style repository paths):
- `*` matches within one path segment, `?` one character, `[abc]` one of a set;
- `**` as a whole segment matches zero or more segments (`**/orch.yaml` matches `orch.yaml`
  at the root too);
- a glob without wildcards is a plain path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable


class GlobError(ValueError):
    """A glob that can never match a repository path."""


def normalise_path(path: str) -> str:
    """A repository-relative posix path without `./` or duplicate slashes."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


@functools.lru_cache(maxsize=256)
def _compile(glob: str) -> re.Pattern[str]:
    if glob.startswith("/"):
        raise GlobError(f"manifest glob {glob!r} must be relative to the repository root")
    segments = normalise_path(glob).split("/")
    if not segments or segments == [""]:
        raise GlobError("manifest glob is empty")
    if ".." in segments:
        raise GlobError(f"manifest glob {glob!r} must not contain '..'")
    pattern = ""
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            # zero or more whole segments, each followed by a slash (or everything when last)
            pattern += ".*" if last else "(?:[^/]+/)*"
            continue
        pattern += _segment_regex(segment) + ("" if last else "/")
    return re.compile(pattern + r"\Z")


def _segment_regex(segment: str) -> str:
    out, i = "", 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = segment.find("]", i + 2)
            if end == -1:
                out += re.escape(ch)
            else:
                body = segment[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\") + "]"
                i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


def validate(globs: Iterable[str]) -> None:
    """Raise GlobError naming the first unusable glob."""
    for glob in globs:
        _compile(glob)


def matches(path: str, globs: Iterable[str]) -> bool:
    """Whether the repository path matches any of the globs."""
    path = normalise_path(path)
    return any(_compile(glob).match(path) for glob in globs)
