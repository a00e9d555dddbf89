"""Backups from manifests, on their schedules: the rows of the `backups` table, kept in step with the
`backups:` entries of the manifests in force, fired by the leading controller as ordinary runbook jobs.

- `sync_entries` makes one row per entry (key: source, manifest path, name); a removed entry loses its
  row. An entry whose cron, runbook or inputs are wrong keeps a row with `error` set, never fires, and
  shows the reason; the manifest's other entries still run.
- `fire_due` claims each due row with a conditional update on `next_run_at` (two controllers never fire
  one slot twice) and sets the next slot from *now*: runs missed while no controller ran collapse into
  one catch-up run, never several. A backup whose last job has not ended is not started again.
- `job_finished` (an after-job hook) records the outcome: success only when the job reports a snapshot
  the repository listed after the backup; anything else is an error that opens or updates the
  backup's incident through `controller.incidents.open_or_update`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from controller import cron, incidents
from controller.errors import Conflict, Invalid
from controller.jobs.catalog import Catalog
from controller.manifests.checks import unknown_connection_hint
from controller.notifications import events as notify
from controller.store.models import FINAL, BackupCheck, BackupSchedule, Job, Manifest, Source, utcnow

log = logging.getLogger(__name__)
SCHEDULER = "scheduler"
TARGETS = {"backup-volume": ("volume", "volume"), "backup-postgres": ("postgres", "database")}
VERIFY = {"backup-volume": "verify-backup"}
RESTORE = {"backup-volume": "restore-volume", "backup-postgres": "restore-postgres"}
OVERDUE_FACTOR = 1.5       # the same as deploy/prometheus/rules/jarvis.yml's JarvisBackupOverdue


def trigger_for(schedule: str, timezone: str = "UTC") -> CronTrigger:
    return cron.trigger(schedule, timezone or "UTC")


def next_after(row: BackupSchedule, now: dt.datetime) -> dt.datetime | None:
    return trigger_for(row.schedule, row.timezone).get_next_fire_time(None, now)


def overdue(row: BackupSchedule, now: dt.datetime | None = None) -> str:
    """Why the backup is overdue, or "": as the JarvisBackupOverdue alert reads it, one and a half of
    its schedule's interval since its last success (since it was added, for one that never succeeded)."""
    if row.error:
        return ""
    now = now or utcnow()
    seconds = cron.interval(row.schedule, row.timezone, now)
    since = row.last_success_at or row.created_at
    if not seconds or since is None:
        return ""
    since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    late = (now - since).total_seconds() - OVERDUE_FACTOR * seconds
    if late <= 0:
        return ""
    what = "no success since it was added" if row.last_success_at is None else "last success"
    return f"{what} {_span((now - since).total_seconds())} ago; its schedule allows {_span(OVERDUE_FACTOR * seconds)}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{int(seconds)} s"


def fingerprint(row: BackupSchedule) -> str:
    return f"backup:{row.key}"


def target_of(runbook: str, input: dict[str, Any]) -> str:
    kind, field = TARGETS.get(runbook, ("", ""))
    return f"{kind}:{input.get(field)}" if kind and input.get(field) else ""


def entries_in_force(db: Session) -> Iterable[tuple[Source, Manifest]]:
    """(source, manifest) for each manifest file of each source's current revision, in its version in
    force (the newest valid one: a broken push keeps the last good schedules)."""
    for source in db.scalars(select(Source).where(Source.enabled.is_(True), Source.last_revision.is_not(None))):
        paths = set(db.scalars(select(Manifest.path).where(Manifest.source_id == source.id,
                                                           Manifest.revision == source.last_revision)))
        for path in sorted(paths):
            good = db.scalar(select(Manifest).where(Manifest.source_id == source.id, Manifest.path == path,
                                                    Manifest.valid.is_(True)).order_by(Manifest.id.desc()).limit(1))
            if good is not None:
                yield source, good


def entry_input(catalog: Catalog, runbook: str, with_: dict[str, Any], manifest_connections: dict[str, str]
                ) -> dict[str, Any]:
    """The inputs a `backups:` entry runs with: its `with:`, and for a runbook on a docker connection
    the manifest's connections.swarm unless `with:` names one (as the manifest's services use it)."""
    input = dict(with_ or {})
    found = catalog.get(runbook)
    if found is not None and found.connection_type == "docker" and "connection" not in input:
        swarm = (manifest_connections or {}).get("swarm")
        if swarm:
            input["connection"] = swarm
    return input


def manifest_checker(catalog: Catalog, known: Collection[str] | None = None):
    """The `runbook_inputs` check parse_manifest takes: a `backups:` entry's inputs against its runbook's
    schema, so a typo fails at its file:line:column when the manifest is read, not at 03:00. With the
    `known` connection names, a connection its `with:` names (a backup's `repository`) must exist."""
    def check(runbook: str, with_: dict[str, Any], manifest_connections: dict[str, str]):
        found = catalog.get(runbook)
        if found is None:
            return None
        problems = catalog.validate_input(runbook, entry_input(catalog, runbook, with_, manifest_connections))
        wanted = {**({"connection": found.connection_type} if found.connection_type else {}), **found.connections}
        for key, type_ in wanted.items():
            name = (with_ or {}).get(key)
            if known is not None and isinstance(name, str) and name not in known:
                problems.append({"path": f"input.{key}", "message": f"unknown connection {name!r}",
                                 "hint": unknown_connection_hint(name, known, type_)})
        return problems
    return check


def sync_entries(db: Session, catalog: Catalog, now: dt.datetime | None = None) -> dict[str, int]:
    """Rows for every `backups:` entry in force; rows of entries gone are removed."""
    now = now or utcnow()
    seen: set[str] = set()
    counts = {"added": 0, "changed": 0, "removed": 0}
    for source, manifest in entries_in_force(db):
        desired = manifest.desired or {}
        for entry in desired.get("backups") or []:
            key = f"{source.id}:{manifest.path}:{entry['name']}"
            seen.add(key)
            what = _upsert(db, catalog, source, manifest, desired, entry, key, now)
            counts[what] = counts.get(what, 0) + 1
    for row in db.scalars(select(BackupSchedule).where(BackupSchedule.source_id.is_not(None))):
        if row.key not in seen:
            db.delete(row)
            counts["removed"] += 1
    counts.pop("same", None)
    return counts


def _upsert(db: Session, catalog: Catalog, source: Source, manifest: Manifest, desired: dict[str, Any],
            entry: dict[str, Any], key: str, now: dt.datetime) -> str:
    runbook = catalog.get(entry["runbook"])
    input = entry_input(catalog, entry["runbook"], entry.get("with") or {}, desired.get("connections") or {})
    tz = str(entry.get("timezone") or "UTC")
    error = ""
    where = f"{manifest.path}: backups.{entry['name']}"
    for field in ("schedule", "check_schedule"):
        try:
            if entry.get(field) or field == "schedule":
                trigger_for(entry[field], tz)
        except (ValueError, KeyError) as exc:
            error = error or f"{where}.{field}: {exc}"
    if runbook is None:
        error = error or f"{where}.runbook: no runbook named {entry['runbook']!r} in the catalog"
    else:
        problems = catalog.validate_input(runbook.name, input)
        if problems:
            error = error or f"{where}.with: " + "; ".join(
                f"{p['path'].replace('input', 'with', 1)}: {p['message']}" for p in problems)
        input = runbook.public_input(input)
    row = db.scalar(select(BackupSchedule).where(BackupSchedule.key == key))
    fields = dict(source_id=source.id, manifest_path=manifest.path, name=entry["name"], runbook=entry["runbook"],
                  schedule=entry["schedule"], timezone=tz, input=input, error=error,
                  check_schedule=str(entry.get("check_schedule") or ""),
                  target=target_of(entry["runbook"], input))
    if row is None:
        row = BackupSchedule(key=key, created_at=now, updated_at=now, **fields)
        row.next_run_at = None if error else next_after(row, now)
        row.last_status = "invalid" if error else "never"
        db.add(row)
        return "added"
    changed = any(getattr(row, k) != v for k, v in fields.items())
    if changed:
        timing = (row.schedule, row.timezone) != (fields["schedule"], tz)
        for k, v in fields.items():
            setattr(row, k, v)
        row.updated_at = now
        if error:
            row.next_run_at, row.last_status = None, "invalid"
        elif timing or row.next_run_at is None:
            row.next_run_at = next_after(row, now)
            if row.last_status == "invalid":
                row.last_status = "never"
    return "changed" if changed else "same"


def start_run(db: Session, jobs, row: BackupSchedule, *, by: str = SCHEDULER, role: str = "admin",
              trigger: str = "schedule") -> Job:
    """Queue the backup's runbook job now (a schedule slot or Run now) and mark the row running."""
    if row.error:
        raise Conflict(f"backup {row.name} cannot run: {row.error}")
    if row.last_job_id and db.scalar(select(Job.status).where(Job.id == row.last_job_id)) not in FINAL:
        raise Conflict(f"backup {row.name} is running (job {row.last_job_id}); one run at a time")
    job = jobs.run_runbook(db, row.runbook, dict(row.input), user_email=by, user_role=role, trigger=trigger)
    db.execute(update(BackupSchedule).where(BackupSchedule.id == row.id)
               .values(last_job_id=job.id, last_run_at=utcnow(), last_status="running", last_error=""))
    db.commit()
    return job


def fire_due(rt, jobs, now: dt.datetime | None = None) -> list[int]:
    """Start every backup whose slot has come; the job ids started."""
    now = now or utcnow()
    started: list[int] = []
    with rt.db.session() as db:
        due = db.scalars(select(BackupSchedule).where(BackupSchedule.error == "",
                                                      BackupSchedule.next_run_at <= now)).all()
        for row in due:
            slot = row.next_run_at
            nxt = next_after(row, now)
            claimed = db.execute(update(BackupSchedule).where(BackupSchedule.id == row.id,
                                                              BackupSchedule.next_run_at == slot)
                                 .values(next_run_at=nxt)).rowcount
            db.commit()
            if not claimed:
                continue
            if row.last_job_id and db.scalar(select(Job.status).where(Job.id == row.last_job_id)) not in FINAL:
                # one run at a time: this slot is missed, and says so (an incident on the backup's row)
                log.warning("backup %s: the last run is still going; this slot is skipped", row.name)
                incidents.open_or_update(
                    db, f"{fingerprint(row)}:missed", title=f"Backup {row.name} missed a run", origin="backup",
                    severity="warning", target=row.target, resource=row.name, source_id=row.source_id,
                    job_id=row.last_job_id, detail={"backup_id": row.id, "slot": slot.isoformat()},
                    message=f"the {slot:%Y-%m-%d %H:%M} UTC run was skipped: job {row.last_job_id} "
                            "(the previous run) had not ended")
                notify.backup_trouble(db, "backup.missed", row, f"the {slot:%Y-%m-%d %H:%M} UTC run was skipped: job "
                                      f"{row.last_job_id} (the previous run) had not ended", row.last_job_id)
                db.commit()
                continue
            try:
                started.append(start_run(db, jobs, row).id)
            except Exception as exc:   # a connection removed since the sync: the backup fails loudly
                db.rollback()
                _failed(db, row, f"could not start: {exc}", None)
                db.commit()
        started += _fire_checks(db, jobs, now)
    return started


def _failed(db: Session, row: BackupSchedule, why: str, job_id: int | None) -> None:
    row = db.get(BackupSchedule, row.id) or row
    row.last_status, row.last_error = "error", why[:2000]
    incidents.open_or_update(db, fingerprint(row), title=f"Backup {row.name} failed", origin="backup",
                             severity="critical", target=row.target, resource=row.name, source_id=row.source_id,
                             job_id=job_id, detail={"backup_id": row.id, "runbook": row.runbook}, message=why[:500])
    notify.backup_trouble(db, "backup.failed", row, why[:2000], job_id)


def job_finished(db: Session, job_id: int, status: str) -> None:
    """After-job hook: a backup's run, or one of its checks, ended."""
    check = db.scalar(select(BackupCheck).where(BackupCheck.job_id == job_id))
    if check is not None:
        _check_finished(db, check, job_id, status)
        return
    row = db.scalar(select(BackupSchedule).where(BackupSchedule.last_job_id == job_id))
    if row is None:
        return
    job = db.get(Job, job_id)
    result = (job.output_json or {}).get("backup") or {}
    if status == "success" and result.get("snapshot_id"):
        row.last_status, row.last_error, row.last_success_at = "success", "", utcnow()
        row.last_snapshot_id = str(result["snapshot_id"])
        row.last_size, row.last_added = result.get("size"), result.get("added")
        row.snapshot_count = result.get("snapshots")
        # what was wrong went away: a later run made a snapshot the repository lists
        for suffix, cause in (("", "the backup failed"), (":missed", "a run was missed while the last one ran")):
            incidents.resolve_by_fingerprint(db, fingerprint(row) + suffix, actor="jarvis", resolution=incidents.Resolution(
                cause=cause, action=f"a later run succeeded: snapshot {row.last_snapshot_id[:8]}", job_id=job_id))
        return
    why = job.reason or ("the job reported no snapshot" if status == "success" else status)
    _failed(db, row, why, job_id)


def check_due(row: BackupSchedule, now: dt.datetime) -> bool:
    """A `check_schedule` slot has come since the last check (since the backup was added, before any)."""
    if not row.check_schedule or row.error or row.check_status == "running":
        return False
    since = row.checked_at or row.created_at
    slot = trigger_for(row.check_schedule, row.timezone).get_next_fire_time(None, since)
    return slot is not None and slot <= now


def _fire_checks(db: Session, jobs, now: dt.datetime) -> list[int]:
    """Start the scheduled `restic check` of each backup whose check slot has come: claimed with a
    conditional update on check_status, so two controllers never start one slot twice."""
    started: list[int] = []
    for row in db.scalars(select(BackupSchedule).where(BackupSchedule.check_schedule != "",
                                                       BackupSchedule.error == "")).all():
        if not check_due(row, now):
            continue
        claimed = db.execute(update(BackupSchedule).where(BackupSchedule.id == row.id,
                                                          BackupSchedule.check_status == row.check_status)
                             .values(check_status="running")).rowcount
        db.commit()
        if not claimed:
            continue
        try:
            started.append(start_check(db, jobs, row, "check", by=SCHEDULER, role="admin").id)
        except Exception as exc:   # the repository connection removed since the sync: say so on the row
            db.rollback()
            db.execute(update(BackupSchedule).where(BackupSchedule.id == row.id).values(
                check_status="failed", checked_at=utcnow(), check_detail=f"could not start the check: {exc}"[:2000]))
            db.commit()
    return started


def start_check(db: Session, jobs, row: BackupSchedule, kind: str, *, by: str, role: str) -> Job:
    """`restic check` of the backup's repository (kind "check"), or a test restore ("restore")."""
    repo = row.input.get("repository")
    if kind == "check":
        job = jobs.run_runbook(db, "check-repository", {"connection": repo}, user_email=by, user_role=role)
    else:
        verify = VERIFY.get(row.runbook)
        if verify is None:
            raise Conflict(f"backup {row.name}: no test restore for {row.runbook} yet")
        keys = set(jobs.catalog.get(verify).input.get("properties", {}))
        job = jobs.run_runbook(db, verify, {k: v for k, v in row.input.items() if k in keys},
                               user_email=by, user_role=role)
    db.add(BackupCheck(backup_id=row.id, kind=kind, status="running", job_id=job.id))
    db.execute(update(BackupSchedule).where(BackupSchedule.id == row.id).values(check_status="running"))
    db.commit()
    return job


def start_restore(db: Session, jobs, row: BackupSchedule, *, snapshot: str, into: str, overwrite: bool,
                  confirm: str, by: str, role: str) -> Job:
    """A backup's snapshot restored with its runbook's restore (restore-volume, restore-postgres): into a
    new volume or database by default; over the one that was backed up (or any existing one) only with
    overwrite and `confirm` repeating the name of what is overwritten."""
    runbook = RESTORE.get(row.runbook)
    if runbook is None or jobs.catalog.get(runbook) is None:
        raise Conflict(f"backup {row.name}: no restore for {row.runbook}")
    _, field = TARGETS[row.runbook]
    source = str(row.input.get(field) or "")
    target = into or (source if overwrite else "")     # overwrite without `into`: the one backed up
    if overwrite and confirm != target:
        raise Invalid(f"overwriting {target!r} replaces its contents: type its name to confirm",
                      errors=[{"field": "confirm", "message": f"type {target!r} to confirm"}])
    keys = set(jobs.catalog.get(runbook).input.get("properties", {}))
    input = {k: v for k, v in row.input.items() if k in keys and k not in ("into", "overwrite", "snapshot")}
    input.update(snapshot=snapshot or "latest", overwrite=bool(overwrite))
    if target:
        input["into"] = target
    return jobs.run_runbook(db, runbook, input, user_email=by, user_role=role)


def _check_finished(db: Session, check: BackupCheck, job_id: int, status: str) -> None:
    job = db.get(Job, job_id)
    out = job.output_json or {}
    result = out.get("check") or out.get("verify") or {}
    ok = status == "success" and not result.get("failed", True)
    check.status = "ok" if ok else "failed"
    check.detail = str(result.get("msg") or job.reason or status)[:2000]
    row = db.get(BackupSchedule, check.backup_id)
    if row is None:
        return
    row.check_status, row.checked_at, row.check_detail = check.status, utcnow(), check.detail
    what = "repository check" if check.kind == "check" else "test restore"
    if ok:
        incidents.resolve_by_fingerprint(db, f"{fingerprint(row)}:{check.kind}", actor="jarvis", resolution=incidents.Resolution(
            cause=f"the {what} failed", action=f"a later {what} passed", job_id=job_id))
    else:
        incidents.open_or_update(db, f"{fingerprint(row)}:{check.kind}", title=f"Backup {row.name}: {what} failed",
                                 origin="backup", severity="critical", target=row.target, resource=row.name,
                                 source_id=row.source_id, job_id=job_id, detail={"backup_id": row.id},
                                 message=check.detail[:500])
