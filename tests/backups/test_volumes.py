"""backup-volume, restore-volume and verify-backup through the jobs engine, over a docker connection
to the real engine, into a real restic repository; a restore is checked file by file."""

from __future__ import annotations

import time
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

    job = wait_job(backup_rt, _run(backup_client, operator, "verify-backup", {**common, "volume": name}))
    assert job.status == "success", job.reason
    assert job.output_json["verify"]["verified"] is True and job.output_json["verify"]["files"] == 3
    assert not [v for v in engine.volumes.list() if v.name.startswith("jarvis-verify-")]   # scratch removed


def test_a_volume_that_does_not_exist_fails_and_writes_no_snapshot(backup_client, backup_rt, operator,
                                                                   docker_conn, repository):
    job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume",
                                   {"connection": docker_conn, "repository": repository, "volume": "jbk-missing-vol",
                                    "helper_image": HELPER}))
    assert job.status == "error" and "volume jbk-missing-vol does not exist" in job.reason


def _replicas(engine, service: str) -> int:
    return engine.api.inspect_service(service)["Spec"]["Mode"]["Replicated"]["Replicas"]


def test_services_stopped_during_a_backup_are_started_again_even_when_it_fails(
        backup_client, backup_rt, operator, engine, docker_conn, repository, volumes):
    name = f"jbk-{uuid.uuid4().hex[:8]}"
    volumes.append(name)
    engine.volumes.create(name)
    _fill(engine, name, {"state.db": "x" * 1000})
    writer = engine.services.create(HELPER, name=f"{name}-writer", command=["sleep", "3600"],
                                    mounts=[f"{name}:/data:rw"], labels={"jarvis.test": "backups"})
    try:
        common = {"connection": docker_conn, "repository": repository, "volume": name,
                  "stop_during_backup": [writer.name], "stop_timeout": 60}
        job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume", {**common, "helper_image": HELPER}))
        assert job.status == "success", job.reason
        assert job.output_json["backup"]["stopped"] == {writer.name: 1}   # scaled to 0 for the backup,
        assert _replicas(engine, writer.name) == 1                         # and back to its replicas
        # the helper image cannot be had: the backup fails after the service was stopped; it runs again
        job = wait_job(backup_rt, _run(backup_client, operator, "backup-volume",
                                       {**common, "helper_image": "jarvis-test/no-such-image:1"}))
        assert job.status == "error" and "no-such-image" in job.reason
        assert _replicas(engine, writer.name) == 1
    finally:
        writer.remove()
        for _ in range(60):      # its task's container holds the volume until Swarm removes it
            if not engine.containers.list(all=True, filters={"label": f"com.docker.swarm.service.name={writer.name}"}):
                break
            time.sleep(1)
