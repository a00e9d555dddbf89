"""Which manifests a sync parses and plans: every one, or only those a push changed.

A push changes files. A manifest is affected when its own file changed, or a file it read when it
was last planned (a compose file, a config: `manifests.files`) changed, or nothing is known about
it at the base revision (no stored row, or its last plan ended in an error, which may have stopped
it before it read its files). Every other manifest keeps what the base revision's sync stored.

Pure: git (which paths changed) and the database (what each manifest read) answer the questions,
this module decides. Anything that cannot be compared against a known base is a full sync.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

# a new revision arriving by a push or a poll is compared with the base; everything else (the drift
# timer, "sync now", a changed source, an apply's verification) observes every manifest again
INCREMENTAL_TRIGGERS = frozenset({"webhook", "poll"})


@dataclass(frozen=True)
class ChangeSet:
    replan: frozenset[str]        # manifest paths to parse and plan in this sync
    base: str | None = None       # the revision compared against; None: a full sync
    reason: str = ""              # a full sync: why; a partial one: what changed
    changed_files: int = 0        # files the tree diff named

    @property
    def full(self) -> bool:
        return self.base is None

    def to_dict(self) -> dict[str, object]:
        return {"full": self.full, "base": self.base, "reason": self.reason, "replanned": len(self.replan),
                "changed_files": self.changed_files}


def everything(manifests: Collection[str], reason: str) -> ChangeSet:
    return ChangeSet(replan=frozenset(manifests), reason=reason)


def full_sync_reason(*, trigger: str, base: str | None, revision: str, has_history: bool) -> str | None:
    """Why this sync must plan every manifest, or None when it may compare with `base` (the caller
    still checks that `revision` descends from it: a force push is a full sync too)."""
    if trigger not in INCREMENTAL_TRIGGERS:
        return f"a {trigger} sync observes every manifest"
    if not has_history:
        return "the source has no history to compare with (a working tree)"
    if base is None:
        return "no earlier complete sync to compare with"
    if base == revision:
        return "the revision did not change: every manifest is observed again"
    return None


def affected(manifests: Collection[str], changed: Collection[str], refs: Mapping[str, Collection[str]],
             unsettled: Collection[str] = ()) -> frozenset[str]:
    """The manifests to re-plan: own file changed, a file it read changed, not known at the base
    (absent from `refs`), or `unsettled` (its last plan ended in an error)."""
    changed, unsettled = set(changed), set(unsettled)
    return frozenset(p for p in manifests
                     if p in changed or p in unsettled or p not in refs or not changed.isdisjoint(refs[p]))


def partial(manifests: Collection[str], *, base: str, changed: Collection[str],
            refs: Mapping[str, Collection[str]], unsettled: Collection[str] = ()) -> ChangeSet:
    replan = affected(manifests, changed, refs, unsettled)
    return ChangeSet(replan=replan, base=base, changed_files=len(set(changed)),
                     reason=f"{len(set(changed))} files changed since {base[:12]}: {len(replan)} of "
                            f"{len(manifests)} manifests affected")
