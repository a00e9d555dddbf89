"""A runtime with a worker for the backup runbooks, restic repositories in temp folders, and a real
docker engine (the connection names it explicitly; nothing defaults to this host's socket)."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from controller import connections
from controller.manifests.loader import parse_manifest
from controller.runtime import Runtime
from controller.store.models import Manifest, Source
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "restic-password-never-echoed-42"
HELPER = "jarvis-test/sleep:1"          # a busybox image built by tests/infra/docker.sh


@pytest.fixture
def backup_rt(pg_url, tmp_path):
    rt = Runtime.start(make_settings(tmp_path, pg_url, job_lease_seconds=3, sweep_interval_seconds=0.5,
                                     run_worker=True, worker_concurrency=2), first_admin=False)
    yield rt
    rt.close()


@pytest.fixture
def backup_client(backup_rt):
    from api.app import create_app

    with TestClient(create_app(backup_rt)) as c:
        yield c


def add_connection(rt, type_: str, config: dict, credentials: dict, name: str | None = None) -> str:
    name = name or f"{type_[:6]}-{uuid.uuid4().hex[:6]}"
    with rt.db.session() as db:
        connections.create(db, rt.secrets, name=name, type=type_, environment="test", config=config,
                           credentials=credentials, created_by="t")
    return name


@pytest.fixture
def repository(backup_rt, tmp_path) -> str:
    """A `backup-repository` connection to a new restic repository (created by restic init)."""
    location = tmp_path / f"restic-{uuid.uuid4().hex[:6]}"
    env = {"RESTIC_REPOSITORY": str(location), "RESTIC_PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"}
    subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)
    return add_connection(backup_rt, "backup-repository", {"repository": str(location)}, {"password": PASSWORD})


@pytest.fixture(scope="session")
def engine():
    import docker

    ready = subprocess.run(["docker", "image", "inspect", HELPER], capture_output=True).returncode == 0
    if not ready:
        subprocess.run(["sh", str(ROOT / "tests/infra/docker.sh")], check=True)
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture
def docker_conn(backup_rt, engine) -> str:
    return add_connection(backup_rt, "docker", {"base_url": "unix:///var/run/docker.sock"}, {})


@pytest.fixture
def volumes(engine):
    """Names of test volumes, removed (with their helper containers) afterwards."""
    made: list[str] = []
    yield made
    for c in engine.containers.list(all=True, filters={"label": "jarvis.backup-helper"}):
        c.remove(force=True)
    for v in engine.volumes.list():
        if any(v.name.startswith(p) for p in made):
            v.remove(force=True)


def manifest_with_backups(rt, backups_yaml: str, source_id: int | None = None, rev: str = "r1") -> int:
    """A source whose revision `rev` has one valid manifest with these `backups:` entries (YAML lines)."""
    text = f"apiVersion: jarvis/v1\nname: bk\nbackups:\n{backups_yaml}"
    parsed = parse_manifest(text, "backups/orch.yaml")
    assert not parsed.errors, parsed.errors
    with rt.db.session() as s:
        if source_id is None:
            src = Source(name=f"src-{uuid.uuid4().hex[:6]}", url="/nowhere")
            s.add(src)
            s.flush()
            source_id = src.id
        s.add(Manifest(source_id=source_id, path="backups/orch.yaml", revision=rev, content=text, valid=True,
                       desired=parsed.manifest.model_dump(mode="json", exclude_none=True)))
        s.execute(update(Source).where(Source.id == source_id).values(last_revision=rev))
    return source_id
