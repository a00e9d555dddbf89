"""GitHub webhooks and the GitOps API through HTTP, with real HMAC signatures and real payload shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from controller.store.models import Source

EXAMPLES = Path("/work/shared/specs/github-webhooks/examples")
SECRET = "webhook-secret-123"


def _example(kind: str) -> dict:
    """A real payload from GitHub's published examples (`shared/` lies beside the repository)."""
    base = Path(__file__).resolve().parents[3] / "shared" / "specs" / "github-webhooks" / "examples" / kind
    if not base.exists():
        base = EXAMPLES / kind
    name = "with-new-branch.payload.json" if kind == "push" else "payload.json"   # a branch push with commits
    return json.loads((base / name).read_text())


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def api(git_rt):
    from api.app import create_app

    with TestClient(create_app(git_rt, background=False)) as c:
        yield c


@pytest.fixture
def gh_source(api, admin):
    payload = _example("push")
    repo = payload["repository"]
    name = f"gh-{uuid.uuid4().hex[:6]}"
    r = api.post("/api/sources", headers=admin.headers,
                 json={"name": name, "url": repo["clone_url"], "branch": payload["ref"].split("/")[-1],
                       "paths": ["**/orch.yaml", "**"], "webhook_secret": SECRET})
    assert r.status_code == 201, r.text
    assert "webhook_secret" not in r.json() and r.json()["has_webhook_secret"] is True
    yield r.json(), payload
    api.delete(f"/api/sources/{r.json()['id']}", headers=admin.headers)


def post(api, payload, event="push", secret=SECRET, delivery=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    return api.post("/api/webhooks/github", content=body,
                    headers={"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                             "X-Hub-Signature-256": sign(body, secret), "content-type": "application/json"})


def _stamp(rt, source_id):
    with rt.db.session() as s:
        return s.get(Source, source_id).sync_requested_at


def test_signed_push_requests_a_sync_and_replays_do_nothing(api, gh_source, git_rt):
    src, payload = gh_source
    with git_rt.db.session() as s:
        s.get(Source, src["id"]).sync_requested_at = None
    delivery = str(uuid.uuid4())
    r = post(api, payload, delivery=delivery)
    assert r.status_code == 202 and src["name"] in r.json()["sources"]
    first = _stamp(git_rt, src["id"])
    assert first is not None
    again = post(api, payload, delivery=delivery)
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_bad_signature_is_401_and_recorded(api, gh_source, admin):
    src, payload = gh_source
    r = post(api, payload, secret="wrong-secret")
    assert r.status_code == 401
    body = json.dumps(payload).encode()
    tampered = api.post("/api/webhooks/github", content=body + b" ",
                        headers={"X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
                                 "X-Hub-Signature-256": sign(body)})
    assert tampered.status_code == 401


def test_unknown_repository_and_ping(api, gh_source):
    src, payload = gh_source
    other = json.loads(json.dumps(payload))
    other["repository"]["clone_url"] = "https://github.com/nobody/unknown.git"
    other["repository"]["ssh_url"] = "git@github.com:nobody/unknown.git"
    other["repository"]["html_url"] = "https://github.com/nobody/unknown"
    other["repository"]["full_name"] = "nobody/unknown"
    r = post(api, other)
    assert r.status_code == 404 and "nobody/unknown" in r.json()["detail"]
    ping = _example("ping")
    ping["repository"] = payload["repository"]
    r = post(api, ping, event="ping")
    assert r.status_code == 200 and r.json()["detail"] == "pong"


def test_push_to_another_branch_is_ignored(api, gh_source, git_rt):
    src, payload = gh_source
    with git_rt.db.session() as s:
        s.get(Source, src["id"]).sync_requested_at = None
    other = dict(payload, ref="refs/heads/some-feature")
    r = post(api, other)
    assert r.status_code == 202 and r.json()["sources"] == []
    assert _stamp(git_rt, src["id"]) is None


def test_sources_api_sync_now_history_and_roles(api, admin, operator, viewer, git_rt, tmp_path):
    from tests.support.gitserver import commit, make_repo

    repo = tmp_path / "r"
    make_repo(repo)
    commit(repo, {"README": "x"}, "init")
    r = api.post("/api/sources", headers=admin.headers, json={"name": f"local-{uuid.uuid4().hex[:6]}", "url": str(repo)})
    sid = r.json()["id"]
    assert api.post("/api/sources", headers=operator.headers, json={"name": "x", "url": "y"}).status_code == 403
    assert api.post(f"/api/sources/{sid}/sync", headers=viewer.headers).status_code == 403
    assert api.post(f"/api/sources/{sid}/sync", headers=operator.headers).status_code == 202
    from controller.gitops.loop import sync_source

    sync_source(git_rt, sid, "manual")
    hist = api.get(f"/api/sources/{sid}/history", headers=viewer.headers).json()
    assert hist[0]["result"] == "ok" and hist[0]["trigger"] == "manual"
    one = api.get(f"/api/sources/{sid}", headers=viewer.headers).json()
    assert one["status"] == "ok" and one["last_revision"]["message"] == "init"
    with git_rt.db.session() as s:
        assert s.scalar(select(Source.id).where(Source.id == sid)) == sid


def test_plans_and_drift_api(api, operator, viewer, world):
    world.push({"web": {}})
    world.sync()
    plans = api.get("/api/plans", params={"status": "pending", "source_id": world.source_id},
                    headers=viewer.headers).json()
    assert len(plans) == 1
    detail = api.get(f"/api/plans/{plans[0]['id']}", headers=viewer.headers).json()
    assert detail["changes"][0]["resource"] == "stack/web" and detail["changes"][0]["action"] == "create"
    (m,) = api.get(f"/api/sources/{world.source_id}/manifests", headers=viewer.headers).json()
    assert m["valid"] is True and m["path"] == "apps/app/orch.yaml" and m["in_force_revision"] == m["revision"]
    d = api.get("/api/drift", params={"source_id": world.source_id}, headers=viewer.headers).json()
    assert d["summary"]["pending"] == 1 and d["items"][0]["fields"]
    assert api.post(f"/api/plans/{plans[0]['id']}/approve", headers=viewer.headers,
                    json={"checksum": detail["checksum"]}).status_code == 403
    bad = api.post(f"/api/plans/{plans[0]['id']}/approve", headers=operator.headers, json={"checksum": "0" * 64})
    assert bad.status_code == 422
    ok = api.post(f"/api/plans/{plans[0]['id']}/approve", headers=operator.headers,
                  json={"checksum": detail["checksum"]})
    assert ok.status_code == 202 and ok.json()["job_id"]
    again = api.post(f"/api/plans/{plans[0]['id']}/reject", headers=operator.headers)
    assert again.status_code == 409
    dash = api.get("/api/dashboard", headers=viewer.headers).json()
    assert {"active_jobs", "drift", "sources", "incidents"} <= set(dash)
