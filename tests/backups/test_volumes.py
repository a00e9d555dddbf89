"""backup-volume, restore-volume and verify-volume through the jobs engine, over a docker connection
to the real engine, into a real restic repository; a restore is checked file by file."""

from __future__ import annotations

import uuid

import pytest

from tests.backups.conftest import HELPER
from tests.support.jobs import wait_job

pytestmark = pytest.mark.docker

FILES = {"a.txt": "alpha\n", "deep/dir/b.bin": "b" * 70_000, ".hidden": "dot file\n"}


def _fill(engine, volume: str, files: dict[str, str]) -> None:
    script = " && ".join(f"mkdir -p \"$(dirname /data/{n})\" && printf '%s' \"$F{i}\" > /data/{n}"
                         for i, n in enumerate(files))
    engine.containers.run(HELPER, ["sh", "-c", script], remove=True, labels={"jarvis.backup-helper": "t"},
                          environment={f"F{i}": v for i, v in enumerate(files.values())},
                          volumes={volume: {"bind": "/data", "mode": "rw"}})


def _read(engine, volume: str) -> dict[str, str]:
    out = engine.containers.run(HELPER, ["sh", "-c", "cd /data && find . -type f | sort | while read f; do "
                                         "printf '%s\\t%s\\n' \"$f\" \"$(md5sum < \"$f\" | cut -c1-32)\"; done"],
                                remove=True, labels={"jarvis.backup-helper": "t"},
                                volumes={volume: {"bind": "/data", "mode": "ro"}})
    return dict(line.split("\t") for line in out.decode().splitlines())


def _run(client, user, runbook: str, input: dict) -> int:
    r = client.post(f"/api/runbooks/{runbook}/execute", headers=user.headers, json={"input": input})
    assert r.status_code in (200, 201, 202), r.text
    return r.json()["id"]


def test_volume_backup_restore_into_a_new_volume_and_verify(backup_client, backup_rt, operator, admin, engine,
                                                            docker_conn, repository, volumes):
    name = f"jbk-{uuid.uuid4().hex[:8]}"
    volumes.append(name)
    engine.volumes.create(name)
    _fill(engine, name, FILES)
    common = {"connection": docker_conn, "repository": repository, "helper_image": HELPER}

    job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume", {**common, "volume": name, "keep": 3}))
    assert job.status == "success", job.reason
    snap = job.output_json["backup"]
    assert snap["target"] == f"volume:{name}" and snap["snapshots"] == 1 and snap["size"] > 70_000

    job = wait_job(backup_rt, _run(backup_client, admin, "restore-volume", {**common, "volume": name}))
    assert job.status == "success", job.reason
    into = job.output_json["restore"]["volume"]
    assert into.startswith(f"{name}-restore-") and job.output_json["restore"]["files"] == 3
    assert _read(engine, into) == _read(engine, name)                # every file, same content

    # over an existing volume only with overwrite; then files added since the snapshot are gone
    _fill(engine, name, {"later.txt": "after the backup\n"})
    job = wait_job(backup_rt, _run(backup_client, admin, "restore-volume", {**common, "volume": name, "into": name}))
    assert job.status == "error" and "overwrite: true" in job.reason
    job = wait_job(backup_rt, _run(backup_client, admin, "restore-volume",
                                   {**common, "volume": name, "into": name, "overwrite": True}))
    assert job.status == "success", job.reason
    assert _read(engine, name) == _read(engine, into)

    job = wait_job(backup_rt, _run(backup_client, operator, "verify-volume", {**common, "volume": name}))
    assert job.status == "success", job.reason
    assert job.output_json["verify"]["verified"] is True and job.output_json["verify"]["files"] == 3
    assert not [v for v in engine.volumes.list() if v.name.startswith("jarvis-verify-")]   # scratch removed


def test_a_volume_that_does_not_exist_fails_and_writes_no_snapshot(backup_client, backup_rt, operator,
                                                                   docker_conn, repository):
    job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume",
                                   {"connection": docker_conn, "repository": repository, "volume": "jbk-missing-vol",
                                    "helper_image": HELPER}))
    assert job.status == "error" and "volume jbk-missing-vol does not exist" in job.reason
