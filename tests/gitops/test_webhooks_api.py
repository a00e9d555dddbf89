"""GitHub webhooks and the GitOps API through HTTP, with real HMAC signatures and real payload shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from controller.store.models import Source, WebhookDelivery

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


# Hostile and broken deliveries (issue 11, items 7 and 8): the signature is checked before anything in
# the body is read, bad bodies answer 400 with the reason, and an id is only claimed by a verified delivery.

def _raw(api, body: bytes, event="push", delivery=None, signature=None):
    return api.post("/api/webhooks/github", content=body,
                    headers={"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                             "X-Hub-Signature-256": signature if signature is not None else sign(body),
                             "content-type": "application/json"})


def _deliveries(rt, delivery_id) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id))


def test_wrong_shapes_and_deep_nesting_answer_400_with_the_reason(api, gh_source):
    for event, body, reason in [
        ("push", b'{"repository":"x"}', "repository is not an object"),
        ("ping", b'{"repository":"x"}', "repository is not an object"),
        ("push", b'["not", "an", "object"]', "body is not a JSON object"),
        ("push", b'{"ref": "refs/heads/main", "after": "x", "repository": {"full_name": 1}}', "no repository.clone_url"),
        ("push", b"not json", "body is not JSON"),
        ("push", b"[" * 100_000 + b"]" * 100_000, "body nests deeper than 32 levels"),
        ("push", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "body nests deeper than 32 levels"),
    ]:
        r = _raw(api, body, event=event)
        assert r.status_code == 400, (body[:40], r.status_code, r.text)
        assert reason in r.json()["detail"], r.json()
    # brackets inside strings are not nesting
    r = _raw(api, json.dumps({"zen": "[[[[" * 100, "repository": {"full_name": "nobody/x"}}).encode(), event="ping")
    assert r.status_code == 404


def test_an_unsigned_body_is_refused_before_it_is_read_and_leaves_no_delivery_row(api, gh_source, git_rt):
    for body in (b'{"repository":"x"}', b"[" * 100_000, b"not json"):
        delivery = str(uuid.uuid4())
        r = _raw(api, body, delivery=delivery, signature="sha256=" + "0" * 64)
        assert r.status_code == 401 and "signature" in r.json()["detail"]
        assert _deliveries(git_rt, delivery) == 0


def test_an_unsigned_request_cannot_poison_a_delivery_id(api, gh_source, git_rt):
    src, payload = gh_source
    with git_rt.db.session() as s:
        s.get(Source, src["id"]).sync_requested_at = None
    delivery = str(uuid.uuid4())
    forged = api.post("/api/webhooks/github", content=b"{}",
                      headers={"X-GitHub-Event": "push", "X-GitHub-Delivery": delivery})
    assert forged.status_code == 401
    r = post(api, payload, delivery=delivery)
    assert r.status_code == 202 and src["name"] in r.json()["sources"], r.text
    assert _stamp(git_rt, src["id"]) is not None


def test_a_redelivery_of_a_failed_delivery_is_processed(api, gh_source, git_rt):
    src, payload = gh_source
    with git_rt.db.session() as s:
        s.get(Source, src["id"]).sync_requested_at = None
    delivery = str(uuid.uuid4())
    broken = _raw(api, b'{"repository":"x"}', delivery=delivery)
    assert broken.status_code == 400
    r = post(api, payload, delivery=delivery)          # GitHub's "Redeliver" sends the same id
    assert r.status_code == 202 and src["name"] in r.json()["sources"], r.text
    assert _stamp(git_rt, src["id"]) is not None
    assert _deliveries(git_rt, delivery) == 1
    again = post(api, payload, delivery=delivery)      # a succeeded one is a duplicate
    assert again.status_code == 200 and again.json()["duplicate"] is True
