"""Apply through real ansible-runner against the emulator, then observe again: no drift."""

from __future__ import annotations

import json

from controller.plans import Action, Plan
from reconcilers.cloudflare import CloudflareReconciler

MANIFEST = {"dns": {"zone": "example.com", "records": [
    {"name": "@", "type": "A", "content": "203.0.113.10", "ttl": 300},
    {"name": "www", "type": "CNAME", "content": "example.com", "proxied": True},
    {"name": "v6", "type": "AAAA", "content": "2001:0db8:0000:0000:0000:0000:0000:0001"},
    {"name": "@", "type": "TXT", "content": "v=spf1 include:_spf.example.net ~all"},
    {"name": "long", "type": "TXT", "content": "k=" + "a" * 600},
    {"name": "@", "type": "MX", "content": "mx1.example.com", "priority": 10},
    {"name": "@", "type": "MX", "content": "mx2.example.com", "priority": 20},
    {"name": "_sip._tcp", "type": "SRV", "priority": 10,
     "data": {"weight": 5, "port": 5060, "target": "sip.example.com"}},
    {"name": "@", "type": "CAA", "content": "letsencrypt.org", "data": {"flags": 0, "tag": "issue"}},
    {"name": "sub", "type": "NS", "content": "ns1.other.net"},
]}}


def _apply(rec, changes, connection, run_playbook, token_leak):
    plan = Plan(target="cloudflare:cf-main", changes=tuple(changes), source="examples", manifest="app")
    out = []
    for step in rec.steps(plan, connection):
        assert "api_token" not in json.dumps(step.vars) and token_leak not in json.dumps(step.vars)
        runner, results, stdout = run_playbook(step.playbook, step.vars)
        assert token_leak not in stdout
        out.append((runner, results))
    return out


def test_apply_creates_everything_then_no_drift(emulator, connection, scope, run_playbook):
    rec = CloudflareReconciler()
    desired = rec.desired(MANIFEST, scope, {})
    assert desired.errors == ()
    live = rec.observe(connection, scope, desired)
    changes = rec.diff(desired, live, target="cloudflare:cf-main", prune=False)
    assert len(changes) == 10 and {c.action for c in changes} == {Action.CREATE}
    [(runner, results)] = _apply(rec, changes, connection, run_playbook, connection.secrets["api_token"])
    assert runner.status == "successful", runner.stdout
    assert results[0]["applied"] == 10 and results[0]["batches"] == 1
    assert emulator.requests["POST /zones/{zone_id}/dns_records/batch"] == 1
    again = rec.observe(connection, scope, desired)
    assert rec.diff(desired, again, target="cloudflare:cf-main", prune=True) == []
    # the long TXT went out as 255-character strings
    long_txt = next(r for r in emulator.zone_records("example.com") if r["name"] == "long.example.com")
    assert long_txt["content"].startswith('"k=') and long_txt["content"].count('" "') == 2


def test_update_delete_and_rerun_of_half_applied_plan_converges(emulator, connection, scope, run_playbook):
    rec = CloudflareReconciler()
    desired = rec.desired(MANIFEST, scope, {})
    _apply(rec, rec.diff(desired, rec.observe(connection, scope, desired), target="cloudflare:cf-main", prune=False),
           connection, run_playbook, connection.secrets["api_token"])
    changed = json.loads(json.dumps(MANIFEST))
    changed["dns"]["records"][0]["content"] = "203.0.113.99"      # update
    del changed["dns"]["records"][3]                              # delete (prune)
    changed["dns"]["records"].append({"name": "new", "type": "A", "content": "198.51.100.7"})  # create
    desired2 = rec.desired(changed, scope, {})
    changes = rec.diff(desired2, rec.observe(connection, scope, desired2), target="cloudflare:cf-main", prune=True)
    assert sorted((c.action.value, c.resource) for c in changes) == [
        ("create", "record/new.example.com/A"), ("delete", "record/example.com/TXT"),
        ("update", "record/example.com/A")]
    # half-apply by hand: the delete and the create already happened out of band
    zid = emulator.zone_id("example.com")
    delete = next(c for c in changes if c.action is Action.DELETE)
    emulator.delete(zid, delete.live_id)
    emulator.seed("example.com", type="A", name="new.example.com", content="198.51.100.7", ttl=1,
                  proxied=False, comment="jarvis:examples/app")
    [(runner, results)] = _apply(rec, changes, connection, run_playbook, connection.secrets["api_token"])
    assert runner.status == "successful"
    statuses = {r["resource"]: r["status"] for r in results[0]["changes"]}
    assert statuses == {"record/example.com/TXT": "noop", "record/new.example.com/A": "noop",
                        "record/example.com/A": "applied"}
    # and running the very same plan once more changes nothing
    [(runner, results)] = _apply(rec, changes, connection, run_playbook, connection.secrets["api_token"])
    assert runner.status == "successful" and results[0]["applied"] == 0
    assert rec.diff(desired2, rec.observe(connection, scope, desired2), target="cloudflare:cf-main", prune=True) == []


def test_one_refused_record_does_not_hold_back_the_rest(emulator, connection, scope, run_playbook):
    rec = CloudflareReconciler()
    manifest = {"dns": {"zone": "example.com", "records": [
        {"name": "a", "type": "A", "content": "192.0.2.1"},
        {"name": "clash", "type": "CNAME", "content": "target.example.net"},
    ]}}
    emulator.seed("example.com", type="A", name="clash", content="192.0.2.50")   # foreign A at that name
    desired = rec.desired(manifest, scope, {})
    changes = rec.diff(desired, rec.observe(connection, scope, desired), target="cloudflare:cf-main", prune=False)
    [(runner, results)] = _apply(rec, changes, connection, run_playbook, connection.secrets["api_token"])
    assert runner.status == "failed"     # the job reports the failure ...
    by = {r["resource"]: r for r in results[0]["changes"]}
    assert by["record/a.example.com/A"]["status"] == "applied"    # ... and the good record is there
    assert by["record/clash.example.com/CNAME"]["status"] == "failed"
    assert "81053" in by["record/clash.example.com/CNAME"]["error"]
    names = {r["name"] for r in emulator.zone_records("example.com")}
    assert "a.example.com" in names


def test_wrong_token_fails_the_step_without_showing_it(emulator, connection, scope, run_playbook):
    rec = CloudflareReconciler()
    desired = rec.desired(MANIFEST, scope, {})
    changes = rec.diff(desired, rec.observe(connection, scope, desired), target="cloudflare:cf-main", prune=False)
    plan = Plan(target="cloudflare:cf-main", changes=tuple(changes), source="examples", manifest="app")
    [step] = rec.steps(plan, connection)
    runner, results, stdout = run_playbook(step.playbook, step.vars, token="wrong-secret-token")
    assert runner.status == "failed"
    assert "Authentication error" in results[0]["msg"] and "wrong-secret-token" not in stdout
