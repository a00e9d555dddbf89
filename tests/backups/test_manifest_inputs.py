"""A `backups:` entry's inputs are checked against its runbook's schema when the manifest is read, with
the file:line:column of the mistake; the example manifest names runbooks that exist, with valid inputs."""

from __future__ import annotations

from pathlib import Path

from controller.backups.schedule import manifest_checker
from controller.jobs.service import JobsService
from controller.manifests.loader import parse_manifest

ROOT = Path(__file__).resolve().parents[2]
PATH = "infra/orch.yaml"


def _errors(rt, text: str) -> list[str]:
    parsed = parse_manifest(text, PATH, runbook_inputs=manifest_checker(JobsService.of(rt).catalog))
    return [str(e) for e in parsed.errors]


def test_inputs_that_fail_the_runbook_schema_are_errors_at_their_line_and_column(backup_rt):
    text = """\
apiVersion: jarvis/v1
name: infra
connections: {swarm: prod}
backups:
  - name: uploads
    runbook: backup-volume
    schedule: "0 3 * * *"
    with:
      volume: uploads
      repository: offsite
      keep: 0
      stop_during_backup: web
  - name: db
    runbook: backup-postgres
    schedule: "0 4 * * *"
    with: {database: app, repositry: offsite}
  - name: files
    runbook: backup-files
    schedule: "0 5 * * *"
    timezone: Europe/Berlin
"""
    errors = _errors(backup_rt, text)
    joined = "\n".join(errors)
    assert f"{PATH}:11:13: backups.uploads.with.keep: 0 is less than the minimum of 1" in joined, joined
    assert f"{PATH}:12:27: backups.uploads.with.stop_during_backup: 'web' is not of type 'array'" in joined, joined
    assert f"{PATH}:16:11: backups.db.with: Additional properties are not allowed ('repositry' was unexpected)" \
        in joined, joined
    assert f"{PATH}:16:5: backups.db.with.repository: 'repository' is a required property" in joined, joined
    assert f"{PATH}:18:14: backups.files: no runbook named 'backup-files'" in joined, joined
    assert len(errors) == 5, joined


def test_the_docker_connection_comes_from_the_manifest_and_a_time_zone_must_exist(backup_rt):
    base = """\
apiVersion: jarvis/v1
name: infra
{conns}backups:
  - name: uploads
    runbook: backup-volume
    schedule: "0 3 * * *"
    timezone: {zone}
    with: {{volume: uploads, repository: offsite}}
"""
    assert _errors(backup_rt, base.format(conns="connections: {swarm: prod}\n", zone="Europe/Berlin")) == []
    missing = _errors(backup_rt, base.format(conns="", zone="Europe/Berlin"))
    assert missing == [f"{PATH}:8:5: backups.uploads.with.connection: 'connection' is a required property"]
    zone = _errors(backup_rt, base.format(conns="connections: {swarm: prod}\n", zone="Mars/Olympus"))
    assert len(zone) == 1 and zone[0].startswith(f"{PATH}:8:15:") and "unknown time zone string 'Mars/Olympus'" in zone[0]


def test_the_example_backups_manifest_names_runbooks_that_exist_with_valid_inputs(backup_rt):
    text = (ROOT / "examples/backups/orch.yaml").read_text()
    assert _errors(backup_rt, text) == []
    catalog = JobsService.of(backup_rt).catalog
    for runbook in ("backup-volume", "restore-volume", "verify-backup", "backup-postgres", "restore-postgres"):
        assert runbook in catalog, catalog.errors


def test_a_repository_connection_that_does_not_exist_says_which_type_to_add(backup_rt):
    """The example as a new install reads it: `offsite` is named with the type it must be, at its line."""
    text = (ROOT / "examples/backups/orch.yaml").read_text()
    checker = manifest_checker(JobsService.of(backup_rt).catalog, known={"prod-swarm"})
    errors = [str(e) for e in parse_manifest(text, PATH, {"prod-swarm"}, runbook_inputs=checker).errors]
    line, at = next((n, t.index("offsite") + 1) for n, t in enumerate(text.splitlines(), 1) if "webapp_uploads" in t)
    assert errors[0] == (f"{PATH}:{line}:{at}: backups.webapp-uploads.with.repository: unknown connection 'offsite'"
                         " — known connections: prod-swarm; or add a backup-repository connection named 'offsite'"
                         " in Settings → Connections"), errors
    assert len(errors) == 3 and all("'offsite'" in e for e in errors), errors
    everything = manifest_checker(JobsService.of(backup_rt).catalog, known={"prod-swarm", "offsite"})
    assert parse_manifest(text, PATH, {"prod-swarm", "offsite"}, runbook_inputs=everything).errors == []
