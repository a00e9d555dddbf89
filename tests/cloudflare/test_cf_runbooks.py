"""The Cloudflare runbooks, run through ansible-runner against the emulator."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

import reconcilers.cloudflare as cf

RUNBOOKS = Path(cf.__file__).parent / "runbooks"


def _runbook(name):
    folder = RUNBOOKS / name
    meta = yaml.safe_load((folder / "runbook.yaml").read_text())
    assert meta["name"] == name and meta["connection_type"] == "cloudflare"
    return meta, str(folder / meta["playbook"])


def test_purge_everything_and_a_list_of_urls(emulator, run_playbook):
    meta, playbook = _runbook("cloudflare-purge-cache")
    jsonschema.validate({"zone": "example.com"}, meta["input"])
    runner, _, _ = run_playbook(playbook, {"input": {"zone": "example.com"}})
    assert runner.status == "successful"
    urls = ["https://example.com/a.css", "https://example.com/b.js"]
    runner, _, _ = run_playbook(playbook, {"input": {"zone": "example.com", "urls": urls}})
    assert runner.status == "successful"
    assert emulator.purges == [{"zone": "example.com", "purge_everything": True},
                               {"zone": "example.com", "files": urls}]


def test_purge_on_a_zone_the_token_cannot_see_fails_clearly(emulator, run_playbook):
    _, playbook = _runbook("cloudflare-purge-cache")
    runner, results, _ = run_playbook(playbook, {"input": {"zone": "other.org"}})
    assert runner.status == "failed" and "not visible to this token" in results[0]["msg"]


def test_toggle_proxied_on_and_off(emulator, run_playbook):
    meta, playbook = _runbook("cloudflare-toggle-proxied")
    emulator.seed("example.com", type="A", name="app", content="192.0.2.4", ttl=300)
    inp = {"zone": "example.com", "name": "app", "type": "A", "proxied": True}
    jsonschema.validate(inp, meta["input"])
    runner, results, _ = run_playbook(playbook, {"input": inp})
    assert runner.status == "successful" and results[0]["changed"]
    [rec] = [r for r in emulator.zone_records("example.com") if r["name"] == "app.example.com"]
    assert rec["proxied"] is True and rec["ttl"] == 1
    runner, results, _ = run_playbook(playbook, {"input": inp})
    assert runner.status == "successful" and not results[0]["changed"]    # already so: nothing to do
    runner, results, _ = run_playbook(playbook, {"input": {**inp, "proxied": False}})
    [rec] = [r for r in emulator.zone_records("example.com") if r["name"] == "app.example.com"]
    assert rec["proxied"] is False


def test_toggle_on_a_missing_record_fails_clearly(emulator, run_playbook):
    _, playbook = _runbook("cloudflare-toggle-proxied")
    runner, results, _ = run_playbook(playbook, {"input": {"zone": "example.com", "name": "nope", "type": "CNAME",
                                                           "proxied": True}})
    assert runner.status == "failed" and "no CNAME record named nope.example.com" in results[0]["msg"]
