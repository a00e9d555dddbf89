"""backup-postgres and restore-postgres through the jobs engine, into a real restic repository on a
real PostgreSQL: rows written, backed up, the database dropped, restored, rows compared."""

from __future__ import annotations

import psycopg

from tests.backups.conftest import PASSWORD
from tests.support import pg
from tests.support.jobs import wait_job


def _run(client, user, runbook: str, input: dict):
    r = client.post(f"/api/runbooks/{runbook}/execute", headers=user.headers, json={"input": input})
    assert r.status_code in (200, 201, 202), r.text
    return r.json()["id"]


def _rows(database: str) -> list[tuple]:
    with psycopg.connect(f"postgresql://postgres@127.0.0.1/{database}") as c:
        return c.execute("SELECT id, note FROM notes ORDER BY id").fetchall()


def test_backup_drop_restore_and_compare_rows(backup_client, backup_rt, operator, admin, repository):
    name = pg.create_database("jarvis_bk")
    restored = f"{name}_restore"
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1/{name}", autocommit=True) as c:
            c.execute("CREATE TABLE notes (id int primary key, note text)")
            c.execute("INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 500) g")
        before = _rows(name)
        job = wait_job(backup_rt, _run(backup_client, operator, "backup-postgres",
                                       {"database": name, "repository": repository, "keep": 2}))
        assert job.status == "success", job.reason
        snap = job.output_json["backup"]
        assert snap["target"] == f"postgres:{name}" and snap["snapshots"] == 1 and snap["size"] > 0
        detail = backup_client.get(f"/api/jobs/{job.id}", headers=operator.headers).text
        assert PASSWORD not in detail

        pg.drop_database(name)
        job = wait_job(backup_rt, _run(backup_client, admin, "restore-postgres",
                                       {"database": name, "repository": repository}))
        assert job.status == "success", job.reason
        assert job.output_json["restore"]["database"] == restored            # a new database by default
        assert job.output_json["restore"]["tables"] == {"public.notes": 500}
        assert _rows(restored) == before

        # over an existing database only when asked
        job = wait_job(backup_rt, _run(backup_client, admin, "restore-postgres",
                                       {"database": name, "repository": repository}))
        assert job.status == "error" and "overwrite: true" in job.reason
    finally:
        pg.drop_database(name)
        pg.drop_database(restored)


def test_retention_keeps_the_newest_and_a_missing_database_fails_without_a_snapshot(
        backup_client, backup_rt, operator, repository):
    name = pg.create_database("jarvis_bk")
    try:
        for _ in range(3):
            job = wait_job(backup_rt, _run(backup_client, operator, "backup-postgres",
                                           {"database": name, "repository": repository, "keep": 2}))
            assert job.status == "success", job.reason
        assert job.output_json["backup"]["snapshots"] == 2 and job.output_json["backup"]["retention"]["removed"] == 1
    finally:
        pg.drop_database(name)
    job = wait_job(backup_rt, _run(backup_client, operator, "backup-postgres",
                                   {"database": name, "repository": repository}))
    assert job.status == "error" and "pg_dump" in job.reason and "does not exist" in job.reason


def test_the_repository_must_be_a_backup_repository_connection(backup_client, operator, docker_conn):
    r = backup_client.post("/api/runbooks/backup-postgres/execute", headers=operator.headers,
                           json={"input": {"database": "x", "repository": docker_conn}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "input.repository"
