"""Alerts in: Alertmanager's webhook turned into incidents.

Alertmanager posts a group of alerts (its webhook format, version 4); each alert carries a
fingerprint of its labels that stays the same from firing to resolved. A firing alert opens or
updates the incident with that fingerprint (one per Alertmanager connection, so two Alertmanagers
never fold into each other), a resolved one resolves it, with Alertmanager as the actor.

The sender proves itself with a bearer token that is an `alertmanager` connection's credential:
`authenticate` compares it, in constant time, with each such connection's token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller import connections, incidents
from controller.errors import Unauthorized
from controller.store.models import Connection

TYPE = "alertmanager"     # the connection type, declared in controller/connection_types.py
SEVERITIES = ("critical", "warning", "info")

@dataclass(frozen=True)
class Tally:
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    ignored: int = 0      # resolved alerts with no active incident (already resolved by a person)


def authenticate(db: Session, store, token: str) -> Connection:
    """The `alertmanager` connection whose token this is; Unauthorized otherwise (never says why)."""
    found = None
    for conn in db.scalars(select(Connection).where(Connection.type == TYPE).order_by(Connection.id)):
        expected = connections.open_credentials(store, conn).get("token", "")
        # every connection is compared, so the time taken does not tell which one matched
        if expected and hmac.compare_digest(expected.encode(), token.encode()) and found is None:
            found = conn
    if found is None:
        raise Unauthorized("a valid Alertmanager token is required")
    return found


def fingerprint(conn: Connection, alert: Mapping[str, Any]) -> str:
    return f"alert:{conn.id}:{alert['fingerprint']}"


def title(alert: Mapping[str, Any]) -> str:
    labels, notes = alert.get("labels") or {}, alert.get("annotations") or {}
    name = labels.get("alertname", "alert")
    summary = notes.get("summary") or notes.get("description") or ""
    where = labels.get("instance") or labels.get("service") or labels.get("job") or ""
    return f"{name}{f' on {where}' if where else ''}{f': {summary}' if summary else ''}"


def severity(alert: Mapping[str, Any]) -> str:
    given = str((alert.get("labels") or {}).get("severity", "")).lower()
    return given if given in SEVERITIES else "warning"


def receive(db: Session, conn: Connection, alerts: Iterable[Mapping[str, Any]]) -> Tally:
    """Each alert of one webhook call into its incident. Alerts are processed in the order given."""
    opened = updated = resolved = ignored = 0
    actor = f"alertmanager:{conn.name}"
    for alert in alerts:
        fp = fingerprint(conn, alert)
        labels = alert.get("labels") or {}
        if alert["status"] == "resolved":
            done = incidents.resolve_by_fingerprint(
                db, fp, actor=actor, message=f"resolved at {alert.get('endsAt', '')}",
                resolution=incidents.Resolution(cause=title(alert), action="Alertmanager reported the alert resolved"))
            resolved, ignored = resolved + (done is not None), ignored + (done is None)
            continue
        _, was_opened = incidents.open_or_update(
            db, fp, title=title(alert), origin="alertmanager", actor=actor, severity=severity(alert),
            target=conn.environment or conn.name, resource=str(labels.get("instance") or labels.get("job") or "")[:300],
            detail={"labels": dict(labels), "annotations": dict(alert.get("annotations") or {}),
                    "starts_at": alert.get("startsAt", ""), "generator_url": alert.get("generatorURL", ""),
                    "connection": conn.name},
            message=f"firing since {alert.get('startsAt', '')}")
        opened, updated = opened + was_opened, updated + (not was_opened)
    return Tally(opened=opened, updated=updated, resolved=resolved, ignored=ignored)
