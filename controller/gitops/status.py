"""What a sync's status says: `ok`, `degraded` (some manifests invalid: the rest reconcile, the
invalid ones keep their last valid version in force) or `error` (the sync failed, or no manifest is
valid), and the words shown for it, with the counts a user needs to judge it."""

from __future__ import annotations

from typing import Any


def sync_status(error: str, summary: dict[str, Any] | None) -> str:
    if error:
        return "error"
    total, invalid = _counts(summary)
    if invalid == 0:
        return "ok"
    return "error" if invalid >= total else "degraded"


def status_text(status: str, summary: dict[str, Any] | None) -> str:
    """`degraded: 2 of 3 manifests invalid`; a status without invalid manifests is its own word."""
    total, invalid = _counts(summary)
    if status in ("degraded", "error") and invalid:
        return f"{status}: {invalid} of {total} manifest{'s' if total != 1 else ''} invalid"
    return status


def _counts(summary: dict[str, Any] | None) -> tuple[int, int]:
    summary = summary or {}
    return int(summary.get("manifests", 0)), int(summary.get("invalid", 0))
