"""A resource whose target could not be observed is `unknown`, never `in_sync`; drift rows of targets
no manifest declares any more are removed (issue 11 item 16).

Real parts: the Cloudflare emulator, a git repository, PostgreSQL (a database of this test's own, so
the dashboard's counts are this test's alone), the file-store test kind next to Cloudflare, and the
API through its ASGI app. Cloudflare's client retries nothing here (`max_retries: 0`), so an address
that does not answer fails at once instead of after its back-off."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from controller.accounts import users
from controller.runtime import Runtime
from controller.store.models import DriftItem, PlanRow, Source, TargetStatus
from tests.cloudflare.site import RECORDS, Site, closed_address, seed_in_sync
from tests.conftest import make_settings
from tests.support import pg
from tests.support.tokens import bearer_token


@pytest.fixture
def rt(tmp_path, filestore_registered):
    name = pg.create_database()
    runtime = Runtime.start(make_settings(tmp_path / "data", pg.sqlalchemy_url(name),
                                          reconcilers={"cloudflare": {"max_retries": 0}}), first_admin=False)
    yield runtime
    runtime.close()
    pg.drop_database(name)


@pytest.fixture
def api(rt):
    with TestClient(create_app(rt, background=False)) as c:
        yield c


def headers(rt, role: str) -> dict[str, str]:
    with rt.db.session() as db:
        uid = users.create(db, f"{role}-{id(rt)}@example.test", "pw-unobserved-1234", role).id
    return {"Authorization": f"Bearer {bearer_token(rt, uid, role)}"}


def test_an_unreachable_address_shows_every_record_unknown_never_in_sync(rt, api, emulator, tmp_path):
    w = Site(rt, tmp_path, emulator)
    seed_in_sync(emulator, w.source_name)
    w.push(text=w.with_dns(), message="dns and a stack")
    assert w.sync().error == ""
    assert w.drift() == {r: ("in_sync", "") for r in RECORDS}      # observed: the records match

    admin, viewer = headers(rt, "admin"), headers(rt, "viewer")
    r = api.patch(f"/api/connections/{w.cf_id}", headers=admin, json={"config": {"base_url": closed_address()}})
    assert r.status_code == 200, r.text
    with rt.db.session() as s:   # the source naming the connection is asked to sync at once
        assert s.get(Source, w.source_id).sync_reason == "connection"
    assert w.sync().error == ""

    rows = w.drift()
    status, error = rows.pop("")
    assert status == "error" and "target unavailable" in error and w.cf in error, error
    assert set(rows) == set(RECORDS)
    for resource, (state, why) in rows.items():
        assert state == "unknown", (resource, state)
        assert why.startswith("not observed: target unavailable"), why

    d = api.get("/api/drift", headers=viewer, params={"source_id": w.source_id})
    assert d.status_code == 200, d.text
    body = d.json()
    mine = [i for i in body["items"] if i["target"] == w.target]
    assert sorted((i["resource"], i["status"]) for i in mine) == [("", "error"), *sorted((k, "unknown") for k in RECORDS)]
    assert body["summary"]["unknown"] == 2 and body["summary"]["in_sync"] == 0 and body["summary"]["error"] == 1
    assert [i["status"] for i in api.get("/api/drift", headers=viewer,
                                         params={"source_id": w.source_id, "status": "unknown"}).json()["items"]] == ["unknown"] * 2

    dash = api.get("/api/dashboard", headers=viewer).json()
    assert dash["drift"]["unknown"] == 2 and dash["drift"]["in_sync"] == 0 and dash["drift"]["error"] == 1
    (cf,) = [k for k in dash["kinds"] if k["kind"] == "cloudflare"]
    (target,) = cf["targets"]
    assert target["target"] == w.target and target["health"] == "down" and target["problems"] == 1
    assert target["unknown"] == 2 and target["drifted"] == 0
    assert any("target unavailable" in e for e in target["errors"])

    # the address answers again: the records are compared again and in sync
    r = api.patch(f"/api/connections/{w.cf_id}", headers=admin, json={"config": {"base_url": emulator.url}})
    assert r.status_code == 200, r.text
    assert w.sync().error == ""
    assert w.drift() == {r: ("in_sync", "") for r in RECORDS}


def test_records_of_a_zone_not_visible_are_unknown_and_plan_nothing(rt, emulator, tmp_path):
    """Two zones; the token sees only example.com. Its records are compared; those of example.org
    cannot be, so they are unknown (not in sync, not a create), next to the zone's error."""
    emulator.add_zone("example.org")
    limited = "cf-limited-token-0123456789"
    emulator.add_token(limited, zones=["example.com"])
    w = Site(rt, tmp_path, emulator, token=limited)
    seed_in_sync(emulator, w.source_name)
    hidden = "  - zone: example.org\n    records:\n      - {name: mail, type: A, content: 192.0.2.25}\n"
    w.push(text=w.with_dns().replace("filestore:\n", hidden + "filestore:\n", 1), message="two zones")
    result = w.sync()
    assert result.error == ""

    rows = w.drift()
    status, error = rows.pop("")
    assert status == "error" and "zone example.org: not visible" in error, error
    assert rows.pop("record/mail.example.org/A") == ("unknown", "not observed")
    assert rows == {r: ("in_sync", "") for r in RECORDS}
    with rt.db.session() as s:
        # a record of a zone not read is never planned (as a create): the target has no plan
        assert s.scalar(select(PlanRow.id).where(PlanRow.source_id == w.source_id, PlanRow.target == w.target)) is None
        assert s.get(TargetStatus, w.target).summary["health"] == "degraded"


def test_rows_of_a_target_no_manifest_declares_any_more_are_removed(rt, api, emulator, tmp_path):
    w = Site(rt, tmp_path, emulator)
    seed_in_sync(emulator, w.source_name)
    w.push(text=w.with_dns(), message="dns and a stack")
    assert w.sync().error == ""
    assert set(w.drift()) == set(RECORDS)
    with rt.db.session() as s:
        assert s.get(TargetStatus, w.target) is not None

    # still naming the connection (so `prune` could delete what it owned): declared, no records left
    full = w.with_dns()
    no_records = full[:full.index("\ndns:\n") + 1] + full[full.index("\nfilestore:\n") + 1:]
    assert f"dns: {w.cf}" in no_records and "zone:" not in no_records
    w.push(text=no_records, message="no records")
    assert w.sync().error == ""
    assert w.drift() == {}
    with rt.db.session() as s:
        assert s.get(TargetStatus, w.target) is not None     # still a target: still on the dashboard

    w.push({"web": {}}, message="DNS moves elsewhere: no dns section, no dns connection")
    assert w.sync().error == ""
    assert w.drift() == {}
    with rt.db.session() as s:
        assert s.get(TargetStatus, w.target) is None          # no one's target: not on the dashboard
        left = {d.target for d in s.scalars(select(DriftItem).where(DriftItem.source_id == w.source_id))}
    assert left == {f"filestore:{w.conn_name}"}                # the stack is still compared

    viewer = headers(rt, "viewer")
    items = api.get("/api/drift", headers=viewer, params={"source_id": w.source_id}).json()["items"]
    assert items and all(i["target"] != w.target for i in items)
    dash = api.get("/api/dashboard", headers=viewer).json()
    (cf,) = [k for k in dash["kinds"] if k["kind"] == "cloudflare"]
    assert cf["targets"] == []
