"""The production client and the reconciler's read side against the emulator."""

from __future__ import annotations

import pytest

from controller.contract import ConnectionInfo
from reconcilers.cloudflare import CloudflareReconciler
from reconcilers.cloudflare.client import BatchOps, CloudflareClient, CloudflareError, chunk_ops

TOKEN = "cf-test-token-0123456789"


@pytest.fixture
def client(emulator):
    with CloudflareClient(TOKEN, emulator.url, per_page=10, backoff=0.01) as c:
        yield c


def test_listing_follows_every_page(emulator, client):
    for i in range(35):
        emulator.seed("example.com", type="A", name=f"h{i}", content=f"192.0.2.{i}", ttl=1)
    zone_id = client.zone("example.com")["id"]
    records = client.list_records(zone_id)
    assert len(records) == 37          # 35 + the two root NS records
    assert len({r["id"] for r in records}) == 37
    assert emulator.requests["GET /zones/{zone_id}/dns_records"] == 4


def test_more_than_200_operations_go_in_chunks_of_200_in_order(emulator, client):
    zone_id = client.zone("example.com")["id"]
    olds = [emulator.seed("example.com", type="TXT", name=f"old{i}", content="x") for i in range(150)]
    ops = BatchOps(deletes=[{"id": r["id"]} for r in olds],
                   posts=[{"type": "TXT", "name": f"n{i}", "content": "y", "ttl": 1} for i in range(300)])
    batches = chunk_ops(ops)
    assert [len(b) for b in batches] == [200, 200, 50]
    assert len(batches[0].deletes) == 150 and len(batches[0].posts) == 50 and not batches[1].deletes
    for b in batches:
        client.batch(zone_id, b)
    assert emulator.requests["POST /zones/{zone_id}/dns_records/batch"] == 3
    names = {r["name"] for r in emulator.zone_records("example.com")}
    assert not any(n.startswith("old") for n in names) and len(names) == 301   # 300 + apex
    with pytest.raises(ValueError, match="at most 200"):
        client.batch(zone_id, BatchOps(posts=[{"type": "TXT", "name": "z", "content": "z"}] * 201))


def test_a_refused_batch_changes_nothing(emulator, client):
    zone_id = client.zone("example.com")["id"]
    emulator.seed("example.com", type="A", name="taken", content="192.0.2.1")
    with pytest.raises(CloudflareError) as err:
        client.batch(zone_id, BatchOps(posts=[{"type": "A", "name": "fine", "content": "192.0.2.2", "ttl": 1},
                                              {"type": "CNAME", "name": "taken", "content": "x.example.net",
                                               "ttl": 1}]))
    assert 81053 in err.value.codes
    assert "fine.example.com" not in {r["name"] for r in emulator.zone_records("example.com")}


def test_429_waits_for_retry_after_and_5xx_is_retried(emulator, client):
    emulator.fail_next(2, 429)
    assert client.verify_token()["status"] == "active"
    emulator.fail_next(3, 503)
    assert client.zone("example.com")["name"] == "example.com"
    assert emulator.requests["GET /user/tokens/verify"] == 3 and emulator.requests["GET /zones"] == 4


def test_errors_give_cloudflare_codes_and_never_the_token(emulator):
    with CloudflareClient("not-the-token", emulator.url, backoff=0.01) as c, \
            pytest.raises(CloudflareError) as err:
        c.zones()
    assert 10000 in err.value.codes and "not-the-token" not in str(err.value)
    with CloudflareClient(TOKEN, emulator.url, max_retries=1, backoff=0.01) as c:
        emulator.fail_next(5, 500)
        with pytest.raises(CloudflareError) as err:
            c.verify_token()
        assert err.value.status == 500


def test_check_and_status_report_token_and_zones(emulator, connection):
    emulator.add_zone("example.org", status="pending")
    rec = CloudflareReconciler()
    result = rec.check(connection)
    assert result.ok and result.details["zones"] == ["example.com", "example.org"]
    status = rec.status(connection)
    assert status["token_valid"] and {z["name"]: z["status"] for z in status["zones"]} == {
        "example.com": "active", "example.org": "pending"}
    bad = ConnectionInfo(name="cf", type="cloudflare", config={"base_url": emulator.url},
                         secrets={"api_token": "wrong"})
    assert not rec.check(bad).ok and rec.status(bad)["token_valid"] is False


def test_observe_reports_an_invisible_zone_and_reconciles_the_visible_one(emulator, scope):
    emulator.add_zone("hidden.org")
    emulator.add_token("narrow", zones=["example.com"])
    conn = ConnectionInfo(name="cf", type="cloudflare", config={"base_url": emulator.url},
                          secrets={"api_token": "narrow"})
    rec = CloudflareReconciler()
    desired = rec.desired({"dns": [
        {"zone": "example.com", "records": [{"name": "a", "type": "A", "content": "192.0.2.1"}]},
        {"zone": "hidden.org", "records": [{"name": "b", "type": "A", "content": "192.0.2.2"}]},
    ]}, scope, {})
    live = rec.observe(conn, scope, desired)
    assert live.errors == ("zone hidden.org: not visible to the token of connection cf; "
                           "its records are not reconciled",)
    assert [c.resource for c in rec.diff(desired, live, target="cloudflare:cf", prune=True)] == ["record/a.example.com/A"]
    # root NS records are not even part of the live state
    assert all(r.spec["type"] != "NS" for r in live.resources)


def test_a_refused_token_makes_the_target_unavailable_not_a_zone_error(emulator, scope):
    """The whole API refusing the token is one failure of the target, mapped once to the plan error;
    the summary of a zone that is not visible says degraded, with the zone's status."""
    from controller.contract import TargetUnavailable
    from controller.gitops.planner import plan_manifest
    from controller.manifests.loader import parse_manifest

    rec = CloudflareReconciler()
    bad = ConnectionInfo(name="cf-bad", type="cloudflare", config={"base_url": emulator.url},
                         secrets={"api_token": "refused-token-1234"})
    desired = rec.desired({"dns": {"zone": "example.com", "records": []}}, scope, {})
    with pytest.raises(TargetUnavailable, match="connection cf-bad.*Authentication error"):
        rec.observe(bad, scope, desired)
    text = ("apiVersion: jarvis/v1\nname: cfdown\nconnections: {dns: cf-bad}\n"
            "dns: {zone: example.com, records: [{name: a, type: A, content: 192.0.2.1}]}\n")
    manifest = parse_manifest(text, "orch.yaml").manifest
    (tp,) = plan_manifest(manifest, path="orch.yaml", source="s", revision="r", reconcilers={"cloudflare": rec},
                          connection=lambda name: bad, files={})
    assert tp.plan is None and tp.error.startswith("target unavailable: Cloudflare (connection cf-bad): ")
    assert tp.summary.health == "down" and tp.summary.errors == (tp.error,)
    assert "refused-token-1234" not in tp.error

    emulator.add_zone("hidden.org")
    emulator.add_token("narrow", zones=["example.com"])
    narrow = ConnectionInfo(name="cf", type="cloudflare", config={"base_url": emulator.url},
                            secrets={"api_token": "narrow"})
    desired = rec.desired({"dns": [{"zone": "example.com", "records": []}, {"zone": "hidden.org", "records": []}]},
                          scope, {})
    summary = rec.summarise(rec.observe(narrow, scope, desired))
    assert summary.health == "degraded" and summary.problems == 1
    assert summary.counts["zones"] == 2 and summary.counts["zones visible"] == 1
    assert summary.resources == {"zone/example.com": {"status": "active"}, "zone/hidden.org": {"status": "not visible"}}
