"""Per-manifest rules applied to a reconciler's changes: ignored fields and protected resources.

Pure functions over plain values, tested without servers.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import replace

from controller.plans import Action, Change


def _matches(path: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") or path.startswith(p + "[")
               for p in patterns)


def apply_rules(changes: Iterable[Change], ignore: Iterable[Mapping], protected: Iterable[str]) -> list[Change]:
    """Drop ignored field differences (an update left with none disappears) and mark protected ones.

    `ignore` items are {resource: "<type>/<name>" (globs allowed), fields: [dotted globs]}.
    """
    ignore = [(i.get("resource", "*"), list(i.get("fields", []))) for i in ignore]
    protected = list(protected)
    out: list[Change] = []
    for c in changes:
        if c.action is Action.UPDATE:
            patterns = [f for res, fields in ignore if fnmatch.fnmatchcase(c.resource, res) for f in fields]
            if patterns:
                kept = tuple(f for f in c.fields if not _matches(f.path, patterns))
                if not kept:
                    continue
                c = replace(c, fields=kept)
        if any(fnmatch.fnmatchcase(c.resource, p) for p in protected) and not c.protected:
            c = replace(c, protected=True, reason=c.reason or "protected in the manifest")
        out.append(c)
    return out
