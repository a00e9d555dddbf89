"""Plans and rules are plain values and pure functions: tested without any server."""

from __future__ import annotations

from controller.gitops.rules import apply_rules
from controller.plans import (
    Action,
    Change,
    FieldDiff,
    Plan,
    Resource,
    SafetyLimits,
    diff_resources,
    field_diffs,
)
from reconcilers.base import BaseReconciler, DesiredState, LiveState


def res(name, owned=True, **spec):
    return Resource(type="svc", name=name, spec=spec, owned=owned, id=f"id-{name}")


def test_diff_creates_updates_and_prunes_only_owned():
    desired = [res("a", image="x:2"), res("b", image="y:1"), res("new", image="z")]
    live = [res("a", image="x:1"), res("b", image="y:1"), res("gone", image="q"), res("foreign", owned=False, image="f")]
    changes = diff_resources("t", desired, live, prune=True)
    by = {c.resource: c for c in changes}
    assert set(by) == {"svc/a", "svc/new", "svc/gone"}
    assert by["svc/a"].action is Action.UPDATE and by["svc/a"].fields == (FieldDiff("image", "x:1", "x:2"),)
    assert by["svc/new"].action is Action.CREATE and by["svc/gone"].action is Action.DELETE
    assert all(c.resource != "svc/b" for c in changes)
    assert "svc/gone" not in {c.resource for c in diff_resources("t", desired, live, prune=False)}


def test_desired_name_held_by_a_foreign_resource_is_never_touched():
    changes = diff_resources("t", [res("web", image="a")], [res("web", owned=False, image="b")], prune=True)
    assert changes == []


def test_diff_is_pure_and_field_paths_are_readable():
    desired = [res("a", env={"A": "1", "B": "2"}, ports=[{"published": 80}])]
    live = [res("a", env={"A": "1"}, ports=[{"published": 8080}])]
    assert diff_resources("t", desired, live, prune=False) == diff_resources("t", desired, live, prune=False)
    paths = {f.path for f in field_diffs({"env": {"A": "1"}, "ports": [{"published": 8080}]},
                                         {"env": {"A": "1", "B": "2"}, "ports": [{"published": 80}]})}
    assert paths == {"env.B", "ports[0].published"}


def _plan(n_changes: int, managed: int, action=Action.DELETE, protected=False) -> Plan:
    return Plan("t", tuple(Change("t", f"svc/{i}", action, protected=protected) for i in range(n_changes)),
                managed_count=managed)


def test_safety_limits_hold_large_destructive_plans():
    assert _plan(3, 10).held_reasons() == []                 # 30% of 10
    assert _plan(4, 10).held_reasons()[0].startswith("4 of 10")
    assert _plan(9, 9).held_reasons() == []                  # fewer than 10 managed: the fraction does not apply
    assert _plan(50, 10, action=Action.CREATE).held_reasons() == []   # creating is never destructive
    assert _plan(1, 100, protected=True).held_reasons() == ["svc/0 is protected"]
    assert _plan(4, 10).held_reasons(SafetyLimits(max_fraction=0.5)) == []


def test_checksum_changes_with_any_change_and_survives_a_round_trip():
    p = _plan(2, 10, action=Action.UPDATE)
    again = Plan("t", tuple(Change.from_dict(c.to_dict()) for c in p.changes))
    assert again.checksum == p.checksum
    assert _plan(3, 10, action=Action.UPDATE).checksum != p.checksum


def test_ignore_rules_and_protected_marks():
    changes = [Change("t", "svc/web", Action.UPDATE, fields=(FieldDiff("replicas", 1, 3),)),
               Change("t", "svc/api", Action.UPDATE, fields=(FieldDiff("replicas", 1, 3), FieldDiff("image", "a", "b"))),
               Change("t", "svc/db", Action.DELETE)]
    out = apply_rules(changes, [{"resource": "svc/*", "fields": ["replicas"]}], ["svc/db"])
    assert [c.resource for c in out] == ["svc/api", "svc/db"]
    assert [f.path for f in out[0].fields] == ["image"]
    assert out[1].protected is True


class MemoryKind(BaseReconciler):
    """A kind on nothing but the public contract: live state is a dict; `normalise` drops a server default."""

    kind, sections, connection_type, connection_key = "memory", ("stacks",), "memory", "stacks"

    def __init__(self, live):
        self.live, self.observed = live, []

    def desired(self, manifest, scope, files):
        return DesiredState(resources=tuple(res(n, **spec) for n, spec in manifest.items()))

    def observe(self, connection, scope, desired):
        self.observed.append((connection, [r.key for r in desired.resources]))
        return LiveState(resources=tuple(res(n, **spec) for n, spec in self.live.items()))

    def normalise(self, desired, live):
        strip = [Resource(r.type, r.name, {k: v for k, v in r.spec.items() if k != "created"}, r.owned, id=r.id)
                 for r in live.resources]
        return desired.resources, strip


def test_the_base_runs_desired_observe_normalise_diff_with_the_target_it_is_given():
    kind = MemoryKind({"a": {"image": "x:1", "created": "today"}, "gone": {"image": "q"}})
    planned = kind.plan({"a": {"image": "x:2"}}, None, {}, "conn", target="memory:m1", prune=True)
    assert kind.observed == [("conn", ["svc/a"])]           # observe saw the desired state
    assert [(c.target, c.resource, c.action) for c in planned.changes] == [
        ("memory:m1", "svc/a", Action.UPDATE), ("memory:m1", "svc/gone", Action.DELETE)]
    assert planned.changes[0].fields == (FieldDiff("image", "x:1", "x:2"),)   # the default never shows
    assert [r.key for r in planned.desired.resources] == ["svc/a"] and len(planned.live.resources) == 2
