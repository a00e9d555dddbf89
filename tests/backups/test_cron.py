"""Schedules read as cron reads them, aliases included, everywhere a schedule is accepted: the manifest
(a bad one is an error at its file:line:column), the backup rows the scheduler fires, the metrics."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from controller import cron
from controller.backups import schedule
from controller.jobs.service import JobsService
from controller.manifests.loader import parse_manifest
from controller.metrics import _backup_intervals
from controller.store.models import BackupSchedule
from tests.backups.conftest import manifest_with_backups

PATH = "infra/orch.yaml"
# a Wednesday, 10:17 UTC
NOW = dt.datetime(2026, 1, 7, 10, 17, tzinfo=dt.UTC)


def _next(expression: str, timezone: str = "UTC") -> dt.datetime:
    return cron.trigger(expression, timezone).get_next_fire_time(None, NOW).astimezone(dt.UTC)


@pytest.mark.parametrize(("expression", "expected"), [
    ("@hourly", dt.datetime(2026, 1, 7, 11, 0)),
    ("@daily", dt.datetime(2026, 1, 8, 0, 0)),
    ("@midnight", dt.datetime(2026, 1, 8, 0, 0)),
    ("@weekly", dt.datetime(2026, 1, 11, 0, 0)),          # Sunday, as cron's @weekly
    ("@monthly", dt.datetime(2026, 2, 1, 0, 0)),
    ("@yearly", dt.datetime(2027, 1, 1, 0, 0)),
    ("@annually", dt.datetime(2027, 1, 1, 0, 0)),
    ("@DAILY", dt.datetime(2026, 1, 8, 0, 0)),
    ("30 3 * * 0", dt.datetime(2026, 1, 11, 3, 30)),     # 0 is Sunday in cron (APScheduler's crontab: Monday)
    ("30 3 * * 7", dt.datetime(2026, 1, 11, 3, 30)),
    ("30 3 * * 1-5", dt.datetime(2026, 1, 8, 3, 30)),
    ("30 3 * * 5-7", dt.datetime(2026, 1, 9, 3, 30)),
    ("0 9 * * sun,mon", dt.datetime(2026, 1, 11, 9, 0)),
    ("0 12 * * */3", dt.datetime(2026, 1, 7, 12, 0)),     # 0,3,6: Sunday, Wednesday, Saturday
    ("15 */6 * * *", dt.datetime(2026, 1, 7, 12, 15)),
])
def test_aliases_and_weekdays_fire_when_cron_would(expression, expected):
    assert _next(expression) == expected.replace(tzinfo=dt.UTC)


def test_a_schedule_is_read_in_its_time_zone():
    assert _next("@daily", "Europe/Berlin") == dt.datetime(2026, 1, 7, 23, 0, tzinfo=dt.UTC)


def _errors(rt, schedules: list[str]) -> list[str]:
    entries = "".join(f"  - name: b{i}\n    runbook: backup-volume\n    schedule: \"{s}\"\n"
                      f"    with: {{volume: v, repository: offsite}}\n" for i, s in enumerate(schedules))
    text = f"apiVersion: jarvis/v1\nname: infra\nconnections: {{swarm: prod}}\nbackups:\n{entries}"
    parsed = parse_manifest(text, PATH, runbook_inputs=schedule.manifest_checker(JobsService.of(rt).catalog))
    return [str(e) for e in parsed.errors]


def test_aliases_are_valid_in_a_manifest_and_bad_schedules_are_errors_at_their_line_and_column(backup_rt):
    assert _errors(backup_rt, ["@daily", "@hourly", "@weekly", "@monthly", "@yearly", "0 3 * * 0"]) == []
    errors = _errors(backup_rt, ["@fortnightly", "61 * * * *", "0 3 * *", "0 3 1 * 1", "0 3 * * 8", "0 3 * * 5-2"])
    assert len(errors) == 6, errors
    # each entry is 4 lines from line 5; the schedule is its 3rd line, its value at column 15
    lines = [f"{PATH}:{7 + 4 * i}:15: backups[{i}].schedule: " for i in range(6)]
    assert errors[0].startswith(lines[0]) and "unknown cron alias '@fortnightly'" in errors[0], errors[0]
    assert "@daily" in errors[0] and "@yearly" in errors[0]
    assert errors[1].startswith(lines[1]) and "minute:" in errors[1] and "59" in errors[1], errors[1]
    assert errors[2].startswith(lines[2]) and "expected 5 cron fields" in errors[2] and "got 4" in errors[2], errors[2]
    assert errors[3].startswith(lines[3]) and "both the day of the month and the weekday" in errors[3], errors[3]
    assert errors[4].startswith(lines[4]) and "invalid cron weekday '8'" in errors[4], errors[4]
    assert errors[5].startswith(lines[5]) and "runs backwards" in errors[5], errors[5]


def test_a_backup_on_an_alias_gets_its_next_slot_and_its_interval_metric(backup_rt):
    manifest_with_backups(backup_rt, "  - {name: hourly, runbook: backup-volume, schedule: '@hourly',"
                                     " with: {volume: v, repository: r, connection: c}}\n")
    with backup_rt.db.session() as db:
        schedule.sync_entries(db, JobsService.of(backup_rt).catalog, now=NOW)
        db.commit()
        row = db.scalar(select(BackupSchedule).where(BackupSchedule.name == "hourly"))
        assert row.error == "" and row.last_status == "never"
        assert row.next_run_at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 1, 7, 11, 0, tzinfo=dt.UTC)
        assert _backup_intervals(db, NOW)["backup-volume"] == 3600
