"""The VPS diff as a pure function: what a change of each field plans, ownership, the lock-out rule."""

from __future__ import annotations

import subprocess
import tempfile

from controller.contract import ConnectionInfo, Scope
from controller.plans import Action, Plan, Risk
from reconcilers.vps import VpsReconciler
from reconcilers.vps.servers import desired_servers, diff_servers, live_server, ownership_labels, selector

SCOPE = Scope(source="infra", manifest="fleet/orch.yaml")
TARGET = "vps:hetzner-main"
ENTRY = {"name": "swarm-1", "type": "cx22", "image": "debian-12", "location": "fsn1", "roles": ["swarm-manager"],
         "labels": {"team": "platform"}, "hardening": {"ssh": "strict", "firewall": [443, 22, 80], "fail2ban": True}}


def live(name="swarm-1", type_="cx22", image="debian-12", location="fsn1", labels=None, protected=False, owned=True):
    own = ownership_labels(SCOPE) if owned else {}
    return live_server({"id": 7, "name": name, "status": "running", "server_type": {"name": type_},
                        "image": {"name": image}, "location": {"name": location},
                        "labels": {"team": "platform", **own, **(labels or {})}, "protection": {"delete": protected},
                        "public_net": {"ipv4": {"ip": "10.213.0.11"}}}, SCOPE)


def plan(entries, lives, prune=False):
    desired, errors = desired_servers(entries, SCOPE)
    changes, diff_errors = diff_servers(TARGET, desired, lives, prune=prune)
    return changes, errors + diff_errors


def test_labels_and_selector_carry_the_manifest_and_stay_valid_hetzner_labels():
    assert ownership_labels(SCOPE) == {"jarvis-managed": "true", "jarvis-source": "infra",
                                       "jarvis-manifest": "fleet-orch.yaml"}
    assert selector(SCOPE) == "jarvis-managed=true,jarvis-source=infra,jarvis-manifest=fleet-orch.yaml"


def test_an_untouched_server_plans_nothing_whatever_its_status_and_address():
    assert plan([ENTRY], [live()]) == ([], [])


def test_a_missing_server_is_created_with_its_hardening_normalised():
    (change,), errors = plan([ENTRY], [])
    assert errors == [] and change.action is Action.CREATE and change.risk is Risk.LOW
    assert change.desired["hardening"] == {"ssh": "strict", "firewall": [22, 80, 443], "fail2ban": True}
    assert change.desired["labels"]["jarvis-managed"] == "true"


def test_a_new_type_is_a_resize_and_a_new_image_or_location_a_replacement_held_for_approval():
    (resize,), _ = plan([{**ENTRY, "type": "cx32"}], [live()])
    assert (resize.action, resize.risk, [f.path for f in resize.fields]) == (Action.UPDATE, Risk.MEDIUM, ["type"])
    assert resize.reason.startswith("resize")
    assert Plan(TARGET, (resize,)).held_reasons() == []
    for field, value in (("image", "ubuntu-24.04"), ("location", "hel1")):
        (replace,), _ = plan([{**ENTRY, field: value}], [live()])
        assert replace.risk is Risk.HIGH and replace.reason.startswith("replace")
        assert Plan(TARGET, (replace,)).held_reasons() == [f"server/swarm-1: {replace.reason}"]


def test_a_name_taken_by_a_foreign_server_is_an_error_for_that_server_alone():
    other = {**ENTRY, "name": "swarm-2"}
    changes, errors = plan([ENTRY, other], [live(owned=False)])
    assert [c.resource for c in changes] == ["server/swarm-2"]
    assert errors == ["server swarm-1: the name is taken by a server Jarvis does not own (it carries no "
                      "jarvis-managed labels of this manifest); rename one of them"]


def test_prune_deletes_only_owned_servers_and_a_protected_one_is_held():
    changes, _ = plan([], [live(), live(name="foreign", owned=False), live(name="keep", protected=True)], prune=True)
    assert [(c.resource, c.action, c.protected) for c in changes] == [
        ("server/keep", Action.DELETE, True), ("server/swarm-1", Action.DELETE, False)]
    assert plan([], [live()], prune=False) == ([], [])


def test_a_firewall_that_closes_ssh_is_refused_in_the_plan_with_the_reason():
    changes, errors = plan([{**ENTRY, "hardening": {"firewall": [80, 443]}}], [])
    assert changes == []
    assert errors == ["server swarm-1: hardening.firewall [80, 443] would close port 22, and Jarvis manages "
                      "the server over SSH: add 22"]


def test_replacing_a_protected_server_is_held_as_protected_and_its_step_says_replace():
    (replace,), _ = plan([{**ENTRY, "location": "hel1", "protected": True}], [live(protected=True)])
    assert replace.protected and Plan(TARGET, (replace,)).held_reasons() == ["server/swarm-1 is protected"]
    (resize,), _ = plan([{**ENTRY, "type": "cx32", "protected": True}], [live(protected=True)])
    assert not resize.protected                      # a resize deletes nothing
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{tmp}/k"], check=True)
        key = open(f"{tmp}/k").read()
    conn = ConnectionInfo(name="hz", type="hetzner", secrets={"api_token": "t", "private_key": key})
    (step,) = VpsReconciler().steps(Plan(TARGET, (replace,)), conn)
    assert step.name == "server swarm-1: replace (delete, create) and harden"
    assert step.vars["vps_replace"] is True and step.vars["vps_live_id"] == "7"
    (step,) = VpsReconciler().steps(Plan(TARGET, (resize,)), conn)
    assert step.vars["vps_replace"] is False
