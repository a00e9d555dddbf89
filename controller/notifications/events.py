"""What can be notified, and `emit`: the one way an event becomes deliveries.

Each event is emitted where the project already makes it, in the same transaction, so a notification
exists exactly when its cause was stored (an outbox: the dispatcher sends the rows afterwards):

  incident.opened, incident.resolved   `controller.incidents.event` (the incident's timeline entry)
  job.failed                           an after-job hook (`job_finished`, handed to the worker by api/processes.py)
  drift.detected, plan.awaiting_approval  `controller.gitops.decisions.record` (a new plan row)
  backup.failed, backup.missed         `controller.backups.schedule` (where it opens the backup's incident)

`emit` finds the enabled rules for the event and its environment and adds one delivery per rule; a
delivery that repeats one of the rule's within its de-duplication window, or goes over its rate limit,
is stored as `suppressed` with the reason, never dropped unseen.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controller.store.models import (
    BackupSchedule,
    Connection,
    Incident,
    Job,
    NotificationDelivery,
    NotificationRule,
    PlanRow,
    utcnow,
)

EVENTS: dict[str, str] = {
    "incident.opened": "an incident opened",
    "incident.resolved": "an incident resolved",
    "job.failed": "a job ended in error, timed out or was canceled",
    "drift.detected": "drift found on a target whose policy is detect",
    "plan.awaiting_approval": "a plan waits for an operator's approval (or is held by a safety limit)",
    "backup.failed": "a backup run failed",
    "backup.missed": "a backup slot was skipped (the last run had not ended)",
}
WAKE = "jarvis.notify.wake"
_wakers: list[Callable[[], None]] = []
_lock = threading.Lock()


def on_commit(waker: Callable[[], None]) -> None:
    """`waker()` runs after a transaction that added deliveries commits (the dispatcher of this process)."""
    with _lock:
        if waker not in _wakers:
            _wakers.append(waker)


def off_commit(waker: Callable[[], None]) -> None:
    with _lock:
        if waker in _wakers:
            _wakers.remove(waker)


@sa_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(WAKE, False):
        for waker in list(_wakers):
            waker()


@sa_event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(WAKE, None)


def emit(db: Session, event: str, *, key: str, title: str, body: str = "", environment: str = "",
         link: str = "", data: dict[str, Any] | None = None) -> list[NotificationDelivery]:
    """One delivery per enabled rule that takes `event` in `environment`; `key` names what it is about
    (de-duplication compares it). Returns the deliveries added (suppressed ones included)."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    rules = db.scalars(select(NotificationRule).where(NotificationRule.enabled.is_(True),
                                                      NotificationRule.environment.in_(("", environment or "")))
                       .order_by(NotificationRule.id)).all()
    now = utcnow()
    out = []
    for rule in rules:
        if event not in (rule.events or []):
            continue
        channel = db.get(Connection, rule.channel_id)
        row = NotificationDelivery(rule_id=rule.id, channel_id=rule.channel_id, channel=channel.name if channel else "",
                                   event=event, environment=environment or "", dedupe_key=f"{event}:{key}"[:300],
                                   title=title[:300], body=body[:20000], link=link[:1000], data=data or {},
                                   status="pending", next_attempt_at=now, created_at=now)
        why = _suppressed(db, rule, row.dedupe_key, now)
        if why:
            row.status, row.last_error, row.next_attempt_at = "suppressed", why, None
        db.add(row)
        db.flush()
        out.append(row)
    if any(r.status == "pending" for r in out):
        db.info[WAKE] = True
    return out


def _suppressed(db: Session, rule: NotificationRule, dedupe_key: str, now: dt.datetime) -> str:
    counted = (NotificationDelivery.rule_id == rule.id, NotificationDelivery.status != "suppressed")
    if rule.dedupe_seconds > 0:
        earlier = db.scalar(select(NotificationDelivery.id).where(
            *counted, NotificationDelivery.dedupe_key == dedupe_key,
            NotificationDelivery.created_at >= now - dt.timedelta(seconds=rule.dedupe_seconds))
            .order_by(NotificationDelivery.id.desc()).limit(1))
        if earlier is not None:
            return f"duplicate of delivery {earlier} (rule {rule.name} de-duplicates for {rule.dedupe_seconds}s)"
    if rule.max_per_hour > 0:
        sent = db.scalar(select(func.count()).select_from(NotificationDelivery).where(
            *counted, NotificationDelivery.created_at >= now - dt.timedelta(hours=1))) or 0
        if sent >= rule.max_per_hour:
            return f"over the rate limit of rule {rule.name} ({rule.max_per_hour} an hour)"
    return ""


# -- the environment an event belongs to: its connection's --------------------------------------------
def environment_of(db: Session, connection: str | None) -> str:
    if not connection:
        return ""
    return db.scalar(select(Connection.environment).where(Connection.name == connection)) or ""


def _incident_environment(db: Session, incident: Incident) -> str:
    detail = incident.detail or {}
    if detail.get("connection"):
        return environment_of(db, detail["connection"])
    if detail.get("plan_id"):
        plan = db.get(PlanRow, detail["plan_id"])
        if plan is not None:
            return environment_of(db, plan.connection)
    if incident.job_id:
        return environment_of(db, db.scalar(select(Job.connection).where(Job.id == incident.job_id)))
    return ""


# -- the events, each called from the one place it is made ----------------------------------------------
def incident_changed(db: Session, incident: Incident, kind: str, actor: str, message: str) -> None:
    """From the incident's timeline: an opening or a resolution notifies."""
    if kind not in ("opened", "resolved"):
        return
    when = "opened" if kind == "opened" else f"resolved by {actor}"
    body = f"[{incident.severity}] {incident.title}\n{message}".strip() if kind == "opened" else \
        f"{incident.title}\n{when}: {(incident.resolution or {}).get('action', '')}".strip()
    emit(db, f"incident.{kind}", key=f"incident:{incident.fingerprint or incident.id}",
         title=f"Incident {kind}: {incident.title}"[:300], body=body,
         environment=_incident_environment(db, incident), link=f"/incidents/{incident.id}",
         data={"incident_id": incident.id, "severity": incident.severity, "origin": incident.origin,
               "target": incident.target, "resource": incident.resource,
               "state": "open" if kind == "opened" else "resolved"})


def job_finished(db: Session, job_id: int, status: str) -> None:
    """After-job hook: a job that did not succeed notifies."""
    if status == "success":
        return
    job = db.get(Job, job_id)
    if job is None:
        return
    emit(db, "job.failed", key=f"job:{job.runbook}:{job.connection or ''}",
         title=f"Job {job.id} {status}: {job.title or job.runbook}"[:300], body=job.reason or status,
         environment=environment_of(db, job.connection), link=f"/jobs/{job.id}",
         data={"job_id": job.id, "runbook": job.runbook, "status": status})


def plan_recorded(db: Session, plan: PlanRow) -> None:
    """A new plan row: drift reported (detect) or a plan waiting for approval (pending or held)."""
    if plan.status == "detected":
        event, what = "drift.detected", "drift detected"
    elif plan.status in ("pending", "held"):
        event, what = "plan.awaiting_approval", "plan awaits approval" + (" (held)" if plan.status == "held" else "")
    else:
        return
    counts = ", ".join(f"{k} {v}" for k, v in (plan.counts or {}).items() if v)
    body = "\n".join([f"{plan.manifest_name} → {plan.target}: {counts or 'changes'}", *plan.held_reasons])
    emit(db, event, key=f"plan:{plan.source_id}:{plan.manifest_path}:{plan.target}:{plan.checksum}",
         title=f"{plan.target}: {what}"[:300], body=body, environment=environment_of(db, plan.connection),
         link="/gitops#plans", data={"plan_id": plan.id, "target": plan.target, "status": plan.status})


def backup_trouble(db: Session, event: str, backup: BackupSchedule, why: str, job_id: int | None = None) -> None:
    """backup.failed or backup.missed, beside the backup's incident; its environment is its repository's."""
    emit(db, event, key=f"backup:{backup.key}", title=f"Backup {backup.name} {event.split('.')[1]}", body=why,
         environment=environment_of(db, str((backup.input or {}).get("repository") or "")),
         link=f"/backups/{backup.id}", data={"backup": backup.name, "backup_id": backup.id, "job_id": job_id})
