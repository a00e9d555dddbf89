"""Roles, in increasing power. Which role may do which action is declared in `api/permissions.py`."""

from __future__ import annotations

ROLES = ("viewer", "operator", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}


def at_least(role: str, minimum: str) -> bool:
    return RANK.get(role, -1) >= RANK[minimum]
