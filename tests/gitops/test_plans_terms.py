"""Field differences in orch.yaml terms: the generic diff with a reconciler's `terms` hook, and the Swarm
and Cloudflare hooks. Pure: no server."""

from __future__ import annotations

import copy

from controller.contract import LiveState, Scope
from controller.plans import Action, Change, FieldDiff, Resource, Term, described_diffs, diff_resources
from reconcilers.cloudflare.diffing import diff_records
from reconcilers.cloudflare.normalise import desired_spec
from reconcilers.cloudflare.reconciler import change_zone
from reconcilers.swarm.compose import convert_compose
from reconcilers.swarm.desired import build_desired
from reconcilers.swarm.normalize import normalize_service
from reconcilers.swarm.reconciler import SwarmReconciler
from reconcilers.swarm.terms import swarm_terms
from reconcilers.swarm.units import human_duration, human_size

SCOPE = Scope("src", "app")


def _kv_terms(r: Resource) -> list[Term]:
    """A toy hook: `size` is stored in bytes and written in KiB; `note` has no term."""
    out = [Term(f"things.{r.name}.size", "size", r.spec["size"], f"{r.spec['size'] // 1024}K")]
    return out + [Term("", "owner", r.spec["owner"], r.spec["owner"])] if "owner" in r.spec else out


def test_generic_diff_says_terms_next_to_engine_fields_and_never_hides_an_undescribed_one():
    want = Resource("thing", "a", {"size": 4096, "note": "x", "owner": "jarvis"})
    have = Resource("thing", "a", {"size": 2048, "note": "y", "owner": "jarvis"}, id="1")
    (c,) = diff_resources("t", [want], [have], prune=False, terms=_kv_terms)
    assert c.fields == (FieldDiff("size", 2048, 4096, "things.a.size", "2K", "4K"), FieldDiff("note", "y", "x"))
    # a create: bookkeeping (owner) comes with the resource and is not a row; the undescribed field is
    (c,) = diff_resources("t", [want], [], prune=False, terms=_kv_terms)
    assert [(f.manifest_path, f.path) for f in c.fields] == [("things.a.size", "size"), ("", "note")]
    # bookkeeping that changes on a resource that stays does show, as an engine field
    moved = Resource("thing", "a", {"size": 4096, "note": "x", "owner": "someone"}, id="1")
    (c,) = diff_resources("t", [want], [moved], prune=False, terms=_kv_terms)
    assert c.fields == (FieldDiff("owner", "someone", "jarvis", "", "someone", "jarvis"),)
    # without a hook the diff is what it always was
    (c,) = diff_resources("t", [want], [have], prune=False)
    assert {f.path for f in c.fields} == {"size", "note"} and not any(f.manifest_path for f in c.fields)
    assert described_diffs(dict(want.spec), dict(want.spec), _kv_terms(want), _kv_terms(want)) == ()


def _service(**svc):
    state, _ = build_desired({"apiVersion": "jarvis/v1", "name": "app", "services": {"web": svc}}, SCOPE, {})
    (res,) = state.resources
    return state, res


def test_a_swarm_create_reads_as_orch_yaml_with_human_units_not_engine_json():
    state, _ = _service(image="nginx:1", replicas=2, env={"A": "1"}, ports=["8080:80"],
                        update={"delay": "10s", "order": "start-first"},
                        resources={"limits": {"cpus": 0.5, "memory": "512M"}}, labels={"team": "a"})
    (c,) = SwarmReconciler().diff(state, LiveState(), target="swarm:x", prune=False)
    rows = {f.manifest_path: f for f in c.fields}
    assert rows["services.web.update.delay"] == FieldDiff("UpdateConfig.Delay", None, 10_000_000_000,
                                                          "services.web.update.delay", None, "10s")
    assert rows["services.web.replicas"].manifest_after == 2
    assert rows["services.web.env.A"].manifest_after == "1" and rows["services.web.env.A"].after == "A=1"
    assert rows["services.web.ports"].manifest_after == ["8080:80"]
    assert rows["services.web.resources.limits.memory"].manifest_after == "512M"
    assert rows["services.web.resources.limits.cpus"].manifest_after == 0.5
    assert rows["services.web.labels.team"].manifest_after == "a"
    assert rows["services.web.restart.delay"].manifest_after == "5s"
    # every row is in orch.yaml terms, none is an engine blob, and Jarvis's own labels are not rows
    assert "" not in rows and not any("jarvis." in p for p in rows)
    assert all(isinstance(f.manifest_after, str) for p, f in rows.items() if p.endswith(("delay", "monitor", "window")))
    assert next(iter(rows)) == "services.web.image"   # in the order orch.yaml says them


def test_a_swarm_update_names_only_what_changed_in_orch_yaml_terms():
    state, want = _service(image="nginx:1", replicas=2, update={"delay": "1m30s"}, env={"A": "1", "B": "2"},
                           secrets=[], volumes=["data:/data:ro"])
    spec = copy.deepcopy(dict(want.spec))
    spec["Mode"] = {"Replicated": {"Replicas": 1}}
    spec["UpdateConfig"]["Delay"] = 0
    spec["TaskTemplate"]["ContainerSpec"]["Env"] = ["A=1", "B=3"]
    spec["TaskTemplate"]["ContainerSpec"]["Mounts"][0].pop("ReadOnly")
    spec["TaskTemplate"]["ContainerSpec"]["Hostname"] = "by-hand"     # a field orch.yaml has no word for
    live = LiveState(resources=(Resource("service", "web", normalize_service(spec), id="s1"),))
    (c,) = SwarmReconciler().diff(state, live, target="swarm:x", prune=False)
    assert c.action is Action.UPDATE
    assert {f.manifest_path: (f.manifest_before, f.manifest_after) for f in c.fields} == {
        "services.web.replicas": (1, 2), "services.web.env.B": ("3", "2"),
        "services.web.volumes": (["data:/data"], ["data:/data:ro"]),
        "services.web.update.delay": ("0s", "1m30s"), "": (None, None)}
    (hostname,) = [f for f in c.fields if not f.manifest_path]
    assert (hostname.path, hostname.before, hostname.after) == ("TaskTemplate.ContainerSpec.Hostname", "by-hand", None)


def test_ignored_fields_stay_ignored_in_orch_yaml_terms():
    m = {"apiVersion": "jarvis/v1", "name": "app", "services": {"web": {"image": "nginx:1", "replicas": 3}},
         "ignore": [{"resource": "service/web", "fields": ["replicas"]}]}
    state, _ = build_desired(m, SCOPE, {})
    spec = copy.deepcopy(dict(state.resources[0].spec))
    spec["Mode"] = {"Replicated": {"Replicas": 1}}
    live = LiveState(resources=(Resource("service", "web", spec, id="s1"),))
    assert SwarmReconciler().diff(state, live, target="swarm:x", prune=False) == []


def test_a_compose_service_is_said_in_compose_words():
    compose = b"services:\n  web:\n    image: nginx:1\n    deploy:\n      replicas: 2\n      update_config: {delay: 5s}\n"
    conv = convert_compose("shop", "stack.yml", {"stack.yml": compose}, {})
    spec = normalize_service(conv.services["shop_web"])
    terms = {t.path: t.value for t in swarm_terms(Resource("service", "shop_web", spec)) if t.path}
    assert terms["compose[shop].services.web.deploy.replicas"] == 2
    assert terms["compose[shop].services.web.deploy.update_config.delay"] == "5s"
    assert terms["compose[shop].services.web.image"] == "nginx:1"


def test_secrets_and_networks_in_orch_yaml_terms():
    m = {"apiVersion": "jarvis/v1", "name": "app", "networks": {"front": {"driver": "overlay"}},
         "secrets": {"token": {"content": "s3cret"}},
         "services": {"web": {"image": "nginx:1", "networks": ["front"], "secrets": ["token"]}}}
    state, _ = build_desired(m, SCOPE, {})
    changes = {c.resource.split("/")[0]: c for c in SwarmReconciler().diff(state, LiveState(), target="x", prune=False)}
    secret = {f.manifest_path: f.manifest_after for f in changes["secret"].fields}
    assert list(secret) == ["secrets.token.version"] and secret["secrets.token.version"].startswith("token_")
    assert "s3cret" not in repr(changes["secret"])
    assert {f.manifest_path: f.manifest_after for f in changes["network"].fields}["networks.front.driver"] == "overlay"
    svc = {f.manifest_path: f.manifest_after for f in changes["service"].fields}
    assert svc["services.web.networks"] == ["front"] and svc["services.web.secrets"][0].startswith("token_")


def test_human_units():
    assert [human_duration(n) for n in (0, 10 * 10**9, 90 * 10**9, 500 * 10**6, 3600 * 10**9 + 1)] == \
        ["0s", "10s", "1m30s", "500ms", "3600000000001ns"]
    assert [human_size(n) for n in (512 * 1024**2, 1024**3, 1536 * 1024, 100)] == ["512M", "1G", "1536K", 100]


def _record(name, rtype, content, **kw):
    spec = desired_spec({"name": name, "type": rtype, "content": content, **kw}, "example.com")
    return Resource("record", f"{spec['name']}/{rtype}", spec, id=f"id-{name}")


def test_cloudflare_records_in_orch_yaml_terms():
    want = _record("www", "CNAME", "lb.example.com", proxied=True)
    (create,) = diff_records("cf:x", [want], [], prune=False)
    rows = {f.manifest_path: f.manifest_after for f in create.fields}
    assert rows["dns.records[www CNAME].content"] == "lb.example.com"
    assert rows["dns.records[www CNAME].name"] == "www" and rows["dns.records[www CNAME].ttl"] == "auto"
    assert rows["dns.zone"] == "example.com"
    have = _record("www", "CNAME", "old.example.com", proxied=True)
    (update,) = diff_records("cf:x", [want], [have], prune=False)
    assert [(f.manifest_path, f.manifest_before, f.manifest_after, f.path) for f in update.fields] == [
        ("dns.records[www CNAME].content", "old.example.com", "lb.example.com", "content")]
    (delete,) = diff_records("cf:x", [], [have], prune=True)
    assert change_zone(delete) == "example.com"
    apex = diff_records("cf:x", [_record("@", "A", "192.0.2.1")], [], prune=False)[0]
    assert "dns.records[@ A].content" in {f.manifest_path for f in apex.fields}


def test_manifest_terms_survive_the_stored_round_trip_and_old_rows_still_load():
    c = Change("t", "service/web", Action.UPDATE,
               fields=(FieldDiff("UpdateConfig.Delay", 0, 10**10, "services.web.update.delay", "0s", "10s"),))
    assert Change.from_dict(c.to_dict()) == c
    old = {"target": "t", "resource": "service/web", "action": "update",
           "fields": [{"path": "Mode.Replicated.Replicas", "before": 1, "after": 2}]}
    assert Change.from_dict(old).fields == (FieldDiff("Mode.Replicated.Replicas", 1, 2),)
