"""Pure tests of normalisation and the diff: no drift on an untouched zone, ownership, bad input."""

from __future__ import annotations

import pytest

from controller.contract import LiveState, Scope
from controller.plans import Action, Resource
from reconcilers.cloudflare import CloudflareReconciler
from reconcilers.cloudflare.normalise import (
    RecordError,
    api_body,
    desired_spec,
    fqdn,
    live_spec,
    split_comment,
    txt_value,
    txt_wire,
)

ZONE = "example.com"
SCOPE = Scope(source="examples", manifest="app")
MARK = "jarvis:examples/app"


def _live(records, owner=MARK):
    """LiveState as observe() builds it, from API-shaped records."""
    specs = [live_spec(r, ZONE) for r in records]
    from reconcilers.cloudflare.diffing import record_keys
    res = tuple(Resource(type="record", name=k, spec=s, id=r.get("id", f"id{i}"),
                         owned=split_comment(r.get("comment"))[1] == owner.removeprefix("jarvis:"))
                for i, (k, s, r) in enumerate(zip(record_keys(specs), specs, records, strict=True)))
    return LiveState(resources=res, health={"target": "cloudflare:cf", "zones": {ZONE: {"id": "z"}}})


def _desired(records, zone="Example.COM."):
    return CloudflareReconciler().desired({"dns": {"zone": zone, "records": records}}, SCOPE, {})


def test_names_at_apex_relative_and_fully_qualified_are_one_form():
    assert fqdn("@", ZONE) == fqdn("", ZONE) == fqdn("Example.COM.", ZONE) == "example.com"
    assert fqdn("WWW", ZONE) == fqdn("www.example.com", ZONE) == fqdn("www.Example.com.", ZONE) == "www.example.com"
    assert fqdn("_sip._tcp", ZONE) == "_sip._tcp.example.com"
    with pytest.raises(RecordError, match="outside the zone"):
        fqdn("app.other.org.", ZONE)


def test_txt_quoting_and_splitting():
    long = "v=DKIM1; p=" + "A" * 400
    wire = txt_wire(long)
    assert wire.startswith('"') and all(len(c) <= 255 for c in wire.strip('"').split('" "'))
    assert txt_value(wire) == long
    assert txt_value('"v=spf1 -all"') == "v=spf1 -all" == txt_value("v=spf1 -all")
    assert txt_wire("short") == "short"


def test_an_untouched_zone_shows_no_drift_whatever_form_the_api_answers_in():
    desired = _desired([
        {"name": "@", "type": "A", "content": "192.0.2.1"},
        {"name": "www", "type": "CNAME", "content": "Example.com.", "proxied": True, "ttl": 300},
        {"name": "v6", "type": "AAAA", "content": "2001:0DB8:0:0::0001", "ttl": 3600},
        {"name": "@", "type": "TXT", "content": "v=spf1 -all"},
        {"name": "dkim", "type": "TXT", "content": "p=" + "B" * 300},
        {"name": "@", "type": "MX", "content": "mx.example.com.", "priority": 10},
        {"name": "_sip._tcp", "type": "SRV", "data": {"priority": 1, "weight": 5, "port": 5060,
                                                        "target": "sip.example.com"}},
        {"name": "@", "type": "CAA", "content": "letsencrypt.org", "data": {"tag": "issue"}},
    ])
    assert desired.errors == ()
    live = _live([
        {"type": "NS", "name": "example.com", "content": "ada.ns.cloudflare.com", "ttl": 86400},
        {"type": "A", "name": "example.com", "content": "192.0.2.1", "ttl": 1, "proxied": False, "comment": MARK},
        {"type": "CNAME", "name": "WWW.example.com", "content": "example.com", "ttl": 1, "proxied": True,
         "comment": MARK},
        {"type": "AAAA", "name": "v6.example.com", "content": "2001:db8::1", "ttl": 3600, "comment": MARK},
        {"type": "TXT", "name": "example.com", "content": '"v=spf1 -all"', "ttl": 1, "comment": MARK},
        {"type": "TXT", "name": "dkim.example.com", "content": txt_wire("p=" + "B" * 300), "ttl": 1,
         "comment": MARK},
        {"type": "MX", "name": "example.com", "content": "mx.example.com", "priority": 10, "ttl": 1,
         "comment": MARK},
        {"type": "SRV", "name": "_sip._tcp.example.com", "content": "5 5060 sip.example.com", "priority": 1,
         "data": {"priority": 1, "weight": 5, "port": 5060, "target": "sip.example.com"}, "ttl": 1,
         "comment": MARK},
        {"type": "CAA", "name": "example.com", "content": '0 issue "letsencrypt.org"',
         "data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}, "ttl": 1, "comment": MARK},
    ][1:])   # the root NS is dropped by observe(); here it is simply not part of the live set
    assert CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=True) == []


def test_proxied_records_never_drift_on_ttl_and_a_value_change_is_one_update():
    desired = _desired([{"name": "app", "type": "A", "content": "192.0.2.9", "proxied": True, "ttl": 120}])
    live = _live([{"type": "A", "name": "app.example.com", "content": "192.0.2.1", "proxied": True, "ttl": 1,
                   "comment": MARK}])
    [change] = CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=True)
    assert change.action is Action.UPDATE and [f.path for f in change.fields] == ["content"]
    assert change.live_id == "id0"


def test_mx_priority_change_is_drift():
    desired = _desired([{"name": "@", "type": "MX", "content": "mx.example.com", "priority": 20}])
    live = _live([{"type": "MX", "name": "example.com", "content": "mx.example.com", "priority": 10,
                   "ttl": 1, "comment": MARK}])
    [change] = CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=False)
    assert change.action is Action.UPDATE and [f.path for f in change.fields] == ["priority"]


def test_records_jarvis_does_not_own_are_never_touched_unless_adopted():
    rec = CloudflareReconciler()
    live = _live([
        {"type": "A", "name": "legacy.example.com", "content": "192.0.2.7", "ttl": 300},           # nobody's
        {"type": "A", "name": "other.example.com", "content": "192.0.2.8", "ttl": 1,
         "comment": "jarvis:examples/another-app"},                                              # another manifest's
    ])
    desired = _desired([{"name": "legacy", "type": "A", "content": "192.0.2.70"}])
    changes = rec.diff(desired, live, target="cloudflare:cf", prune=True)
    assert [(c.action, c.resource) for c in changes] == [(Action.CREATE, "record/legacy.example.com/A")]
    same = _desired([{"name": "legacy", "type": "A", "content": "192.0.2.7", "ttl": 300}])
    assert rec.diff(same, live, target="cloudflare:cf", prune=True) == []
    assert "not managed by Jarvis" in rec.conflicts(same, live)[0]
    adopted = _desired([{"name": "legacy", "type": "A", "content": "192.0.2.7", "ttl": 300, "adopt": True}])
    [change] = rec.diff(adopted, live, target="cloudflare:cf", prune=True)
    assert change.action is Action.UPDATE and change.live_id == "id0"
    assert api_body(change.desired, MARK)["comment"] == MARK


def test_owned_leftovers_are_deleted_only_when_pruning():
    live = _live([{"type": "A", "name": "old.example.com", "content": "192.0.2.3", "ttl": 1, "comment": MARK}])
    desired = _desired([])
    assert CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=False) == []
    [change] = CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=True)
    assert change.action is Action.DELETE and change.live_id == "id0"


def test_root_ns_cannot_be_managed_and_sub_ns_can():
    desired = _desired([{"name": "@", "type": "NS", "content": "ns1.evil.net"},
                        {"name": "dev", "type": "NS", "content": "ns1.other.net"}])
    assert len(desired.errors) == 1 and "apex are Cloudflare's" in desired.errors[0]
    assert [r.name for r in desired.resources] == ["dev.example.com/NS"]


@pytest.mark.parametrize("record, message", [
    ({"name": "bad", "type": "A", "content": "300.1.2.3"}, "not a valid IP address"),
    ({"name": "bad", "type": "AAAA", "content": "192.0.2.1"}, "not an IPv6 address"),
    ({"name": "bad", "type": "A", "content": "192.0.2.1", "ttl": 30}, "ttl 30 is out of range"),
    ({"name": "bad", "type": "A", "content": "192.0.2.1", "ttl": 90000}, "ttl 90000 is out of range"),
    ({"name": "bad.other.org.", "type": "A", "content": "192.0.2.1"}, "outside the zone"),
    ({"name": "bad", "type": "TXT", "content": "x", "proxied": True}, "cannot be proxied"),
    ({"name": "bad", "type": "MX", "content": "mx.example.com"}, "MX needs a priority"),
    ({"name": "bad", "type": "SPF", "content": "x"}, "not supported"),
])
def test_bad_record_is_a_clear_error_and_the_rest_still_reconciles(record, message):
    desired = _desired([{"name": "good", "type": "A", "content": "192.0.2.1"}, record])
    assert len(desired.errors) == 1 and message in desired.errors[0]
    assert "records[1]" in desired.errors[0]
    assert [r.name for r in desired.resources] == ["good.example.com/A"]
    [change] = CloudflareReconciler().diff(desired, _live([]), target="cloudflare:cf", prune=True)
    assert change.resource == "record/good.example.com/A"


def test_cname_sharing_a_name_is_an_error_for_those_records_only():
    desired = _desired([
        {"name": "@", "type": "CNAME", "content": "lb.example.net"},
        {"name": "@", "type": "A", "content": "192.0.2.1"},
        {"name": "app", "type": "CNAME", "content": "lb.example.net"},
        {"name": "app", "type": "A", "content": "192.0.2.2"},
        {"name": "ok", "type": "A", "content": "192.0.2.3"},
    ])
    assert len(desired.errors) == 4
    assert any("CNAME at the zone apex cannot share" in e for e in desired.errors)
    assert [r.name for r in desired.resources] == ["ok.example.com/A"]
    # the live records of an invalid name are left alone even when pruning
    live = _live([{"type": "A", "name": "app.example.com", "content": "192.0.2.2", "ttl": 1, "comment": MARK}])
    changes = CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=True)
    assert [c.resource for c in changes] == ["record/ok.example.com/A"]


def test_a_zone_the_token_cannot_see_plans_nothing_for_it():
    desired = _desired([{"name": "a", "type": "A", "content": "192.0.2.1"}])
    live = LiveState(errors=("zone example.com: not visible",),
                     health={"target": "cloudflare:cf", "zones": {ZONE: {"status": "not visible"}}})
    assert CloudflareReconciler().diff(desired, live, target="cloudflare:cf", prune=True) == []


def test_spec_ipv6_and_ttl_forms():
    spec = desired_spec({"name": "x", "type": "AAAA", "content": "2001:DB8:0000::0001", "ttl": "auto"}, ZONE)
    assert spec["content"] == "2001:db8::1" and spec["ttl"] == 1
    assert desired_spec({"name": "x", "type": "A", "content": "192.0.2.1", "ttl": 1}, ZONE)["ttl"] == 1
