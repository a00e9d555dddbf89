"""GitOps fixtures: a real git repository, the file-store test reconciler, a connection to it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from api.processes import jobs_service
from controller import connections
from controller.gitops.loop import sync_source
from controller.runtime import Runtime
from controller.store.models import Source
from tests.conftest import make_settings
from tests.support.gitserver import commit, make_repo
from tests.support.jobs import wait_job  # noqa: F401  (re-exported for the tests here)


@pytest.fixture
def git_rt(pg_url, tmp_path, filestore_registered):
    rt = Runtime.start(make_settings(tmp_path / "data", pg_url, worker_concurrency=2, job_lease_seconds=5),
                       first_admin=False)
    jobs = jobs_service(rt)
    jobs.start_worker()
    yield rt
    rt.close()


class World:
    """A repository, a live directory, a connection and a source, named uniquely per test."""

    def __init__(self, rt: Runtime, tmp: Path, policy: str = "manual", prune: bool = False) -> None:
        self.rt, self.tmp = rt, tmp
        suffix = tmp.name[-20:].replace("_", "-").strip("-")
        self.live = tmp / "live"
        self.live.mkdir()
        self.repo = tmp / "repo"
        make_repo(self.repo)
        self.conn_name = f"fs-{suffix}"
        with rt.db.session() as db:
            connections.create(db, rt.secrets, name=self.conn_name, type="filestore", environment="test",
                               config={"root": str(self.live)}, credentials={}, created_by="test")
            src = Source(name=f"src-{suffix}", url=str(self.repo), branch="main", paths=["**/orch.yaml"],
                         poll_interval=60)
            db.add(src)
            db.flush()
            self.source_id, self.source_name = src.id, src.name
        self.policy, self.prune = policy, prune

    def manifest(self, stacks: dict[str, dict], *, name: str = "app", extra: str = "") -> str:
        items = "\n".join(f"  - {{name: {n}, endpoint: {v.get('endpoint', 'prod')}, compose: {v.get('compose', 'c.yml')}}}"
                          for n, v in stacks.items()) or "  []"
        return textwrap.dedent(f"""\
            apiVersion: jarvis/v1
            name: {name}
            policy: {{sync: {self.policy}, prune: {str(self.prune).lower()}}}
            connections: {{filestore: {self.conn_name}}}
            """) + extra + "filestore:\n" + items + "\n"

    def push(self, stacks: dict[str, dict] | None = None, *, text: str | None = None, path: str = "apps/app/orch.yaml",
             message: str = "update") -> str:
        body = text if text is not None else self.manifest(stacks or {})
        return commit(self.repo, {path: body}, message)

    def sync(self, trigger: str = "test"):
        return sync_source(self.rt, self.source_id, trigger)

    def files(self) -> dict[str, dict]:
        import json

        return {f.stem: json.loads(f.read_text()) for f in sorted(self.live.glob("*.json"))}


@pytest.fixture
def world(git_rt, tmp_path):
    return World(git_rt, tmp_path)
