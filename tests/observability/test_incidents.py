"""Incidents with a lifecycle: opened or updated by fingerprint, acknowledged, resolved with a
structured note, every step in the timeline with who and when; the dashboard lists the active ones."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from controller import incidents
from controller.runtime import Runtime
from controller.store.models import Incident, IncidentEvent
from tests.conftest import make_settings


def _open(runtime, **kw):
    fp = kw.pop("fingerprint", f"test:{uuid.uuid4().hex}")
    with runtime.db.session() as db:
        inc, opened = incidents.open_or_update(db, fp, title=kw.pop("title", "web: did not converge"),
                                               origin="convergence", **kw)
        return inc.id, fp, opened


def test_the_same_fingerprint_updates_the_active_incident_and_a_resolved_one_is_not_reused(runtime, client, operator):
    first, fp, opened = _open(runtime, target="swarm:prod", resource="service/web")
    again, _, opened_again = _open(runtime, fingerprint=fp, title="web: still not converging", job_id=7)
    assert opened and not opened_again and again == first
    detail = client.get(f"/api/incidents/{first}", headers=operator.headers).json()
    assert detail["occurrences"] == 2 and detail["title"] == "web: still not converging" and detail["job_id"] == 7
    assert [e["kind"] for e in detail["timeline"]] == ["opened", "seen"]

    res = client.patch(f"/api/incidents/{first}", headers=operator.headers,
                       json={"state": "resolved", "resolution": {"cause": "bad image tag", "action": "rolled back"}})
    assert res.status_code == 200, res.text
    later, _, opened_later = _open(runtime, fingerprint=fp)
    assert opened_later and later != first


def test_acknowledge_then_resolve_records_who_when_and_a_structured_resolution(runtime, client, operator):
    inc, _, _ = _open(runtime)
    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers,
                       json={"state": "acknowledged", "note": "looking at it"})
    body = res.json()
    assert res.status_code == 200 and body["state"] == "acknowledged"
    assert body["acknowledged_by"] == operator.email and body["acknowledged_at"]

    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers,
                       json={"note": "tasks OOM-killed", "job_id": 41,
                             "logs": {"selector": "service/web", "since": "2026-12-01T10:00:00Z",
                                      "until": "2026-12-01T10:05:00Z"}})
    assert res.status_code == 200
    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers,
                       json={"state": "resolved", "note": "memory raised",
                             "resolution": {"cause": "memory limit too low", "action": "raised the limit to 512M",
                                            "runbook": "scale-service", "plan_id": 12}})
    body = res.json()
    assert res.status_code == 200 and body["state"] == "resolved", res.text
    assert body["resolved_by"] == operator.email and body["resolved_at"]
    assert body["resolution"] == {"cause": "memory limit too low", "action": "raised the limit to 512M",
                                  "runbook": "scale-service", "plan_id": 12, "job_id": None}
    kinds = [(e["kind"], e["actor"]) for e in body["timeline"]]
    assert kinds == [("opened", "jarvis"), ("acknowledged", operator.email), ("note", operator.email),
                     ("link", operator.email), ("resolved", operator.email)]
    link = body["timeline"][3]["data"]
    assert link["job_id"] == 41 and link["logs"]["selector"] == "service/web"
    assert body["timeline"][4]["message"] == "memory raised"


def test_resolving_needs_cause_and_action(runtime, client, operator):
    inc, _, _ = _open(runtime)
    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers, json={"state": "resolved"})
    assert res.status_code == 422 and "resolution" in res.text
    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers,
                       json={"state": "resolved", "resolution": {"cause": " ", "action": "restarted"}})
    assert res.status_code == 422
    assert [e["field"] for e in res.json()["errors"]] == ["resolution.cause"]
    with runtime.db.session() as db:
        assert db.get(Incident, inc).state == "open"


def test_a_resolved_incident_cannot_be_acknowledged_but_can_be_reopened(runtime, client, operator):
    inc, _, _ = _open(runtime)
    client.patch(f"/api/incidents/{inc}", headers=operator.headers,
                 json={"state": "resolved", "resolution": {"cause": "c", "action": "a"}})
    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers, json={"state": "acknowledged"})
    assert res.status_code == 409 and "resolved" in res.json()["detail"]
    res = client.patch(f"/api/incidents/{inc}", headers=operator.headers, json={"state": "open", "note": "came back"})
    assert res.status_code == 200 and res.json()["state"] == "open" and res.json()["resolved_at"] is None


def test_viewers_read_incidents_and_only_operators_change_them(runtime, client, viewer):
    inc, _, _ = _open(runtime)
    assert client.get(f"/api/incidents/{inc}", headers=viewer.headers).status_code == 200
    assert client.patch(f"/api/incidents/{inc}", headers=viewer.headers, json={"note": "x"}).status_code == 403
    assert client.get("/api/incidents/999999", headers=viewer.headers).status_code == 404


def test_the_list_filters_by_state_and_the_dashboard_shows_the_active_ones(runtime, client, operator):
    active, _, _ = _open(runtime, title="active one")
    done, _, _ = _open(runtime, title="resolved one")
    client.patch(f"/api/incidents/{done}", headers=operator.headers,
                 json={"state": "resolved", "resolution": {"cause": "c", "action": "a"}})
    ids = lambda state: {i["id"] for i in client.get(f"/api/incidents?state={state}&limit=200",  # noqa: E731
                                                      headers=operator.headers).json()["items"]}
    assert active in ids("active") and done not in ids("active")
    assert done in ids("resolved") and active not in ids("resolved")
    dash = client.get("/api/dashboard", headers=operator.headers).json()
    listed = {i["id"]: i for i in dash["incidents"]}
    assert active in listed and done not in listed and listed[active]["state"] == "open"
    assert dash["incident_counts"]["open"] >= 1 and dash["incident_counts"]["resolved"] >= 1
    assert client.get("/api/incidents?state=bogus", headers=operator.headers).status_code == 422


def _race(rt, fingerprint: str, n: int) -> list[bool]:
    """`n` sessions report the same problem at the same moment; returns who thinks it opened it."""
    gate = threading.Barrier(n)
    opened: list[bool] = []

    def report() -> None:
        gate.wait()
        with rt.db.session() as db:
            _, was_opened = incidents.open_or_update(db, fingerprint, title="web: apply error", origin="apply")
        opened.append(was_opened)

    threads = [threading.Thread(target=report) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return opened


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_concurrent_reports_of_one_problem_open_one_incident_and_count_every_sighting(database, runtime, tmp_path):
    rt = runtime if database == "postgresql" else Runtime.start(
        make_settings(tmp_path / "data", f"sqlite:///{tmp_path}/jarvis.db"), first_admin=False)
    try:
        fp = f"race:{uuid.uuid4().hex}"
        opened = _race(rt, fp, 8)
        with rt.db.session() as db:
            rows = db.scalars(select(Incident).where(Incident.fingerprint == fp)).all()
            seen = db.scalars(select(IncidentEvent.kind).where(IncidentEvent.incident_id == rows[0].id)).all()
        assert len(opened) == 8 and opened.count(True) == 1
        assert [(r.state, r.occurrences) for r in rows] == [("open", 8)]
        assert sorted(seen) == ["opened"] + ["seen"] * 7
    finally:
        if rt is not runtime:
            rt.close()


def test_a_resolved_incident_cannot_be_reopened_beside_a_newer_active_one(runtime, client, operator):
    first, fp, _ = _open(runtime)
    client.patch(f"/api/incidents/{first}", headers=operator.headers,
                 json={"state": "resolved", "resolution": {"cause": "c", "action": "a"}})
    newer, _, opened = _open(runtime, fingerprint=fp)
    assert opened and newer != first
    res = client.patch(f"/api/incidents/{first}", headers=operator.headers, json={"state": "open"})
    assert res.status_code == 409 and f"incident {newer} is already open" in res.json()["detail"]
