"""One manifest at one revision → a plan per target: desired, observe, diff, rules, plan.

All I/O here is the reconcilers' own `observe`; storing and acting on plans is the loop's job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.contract import (
    ConnectionInfo,
    DesiredState,
    LiveState,
    Observations,
    Reconciler,
    ReconcilerError,
    Scope,
    TargetSummary,
    TargetUnavailable,
)
from controller.gitops.rules import apply_rules
from controller.plans import Plan

log = logging.getLogger(__name__)


@dataclass
class TargetPlan:
    kind: str
    connection: str
    target: str
    plan: Plan | None = None
    desired: DesiredState | None = None
    live: LiveState | None = None
    summary: TargetSummary | None = None     # what the observation says about the target (pages show it)
    error: str = ""
    extra_errors: list[str] = field(default_factory=list)


def targets(r: Reconciler, data: Mapping[str, Any]) -> bool:
    """Whether a manifest targets this kind: it fills one of the kind's sections, or it still names
    the kind's connection. The second keeps a manifest whose last resource was removed planned, so
    `prune: true` deletes what it owned instead of leaving it behind."""
    return any(data.get(s) for s in r.sections) or bool((data.get("connections") or {}).get(r.connection_key))


def plan_manifest(manifest: Any, *, path: str, source: str, revision: str, reconcilers: Mapping[str, Reconciler],
                  connection: Callable[[str], ConnectionInfo], files: Mapping[str, bytes],
                  observations: Observations | None = None) -> list[TargetPlan]:
    """`observations`: the sync's shared reads (each target read once for every manifest on it)."""
    data = manifest.model_dump(mode="json", exclude_none=True)
    policy = data.get("policy") or {}
    scope = Scope(source=source, manifest=data["name"], environment=data.get("environment", ""))
    out: list[TargetPlan] = []
    for kind, r in sorted(reconcilers.items()):
        if not targets(r, data):
            continue
        conn_name = (data.get("connections") or {}).get(r.connection_key, "")
        tp = TargetPlan(kind=kind, connection=conn_name, target=f"{kind}:{conn_name}")
        out.append(tp)
        conn, tp.error = _connection_for(r, kind, conn_name, connection)
        if conn is not None:
            try:
                planned = r.plan(manifest, scope, files, conn, target=tp.target, prune=bool(policy.get("prune", False)),
                               observations=observations)
                tp.desired, tp.live, changes = planned.desired, planned.live, list(planned.changes)
                tp.summary = r.summarise(planned.live)
            except ReconcilerError as exc:   # a failure the kind named: its words, mapped once
                tp.error = exc.plan_error
                tp.summary = TargetSummary(health="down" if isinstance(exc, TargetUnavailable) else "unknown",
                                           problems=1, errors=(tp.error,))
            except Exception as exc:   # one target failing never stops the others
                log.warning("planning %s for %s failed: %s", tp.target, path, exc, exc_info=True)
                tp.error = f"{type(exc).__name__}: {exc}"
        if tp.error:   # not observed: what it declares is listed as unknown, never as in sync
            tp.desired = _declared(r, manifest, scope, files)
            continue
        changes = apply_rules(changes, data.get("ignore", []), data.get("protected", []))
        managed = sum(1 for res in tp.live.resources if res.owned)
        tp.plan = Plan(target=tp.target, changes=tuple(changes), managed_count=managed, source=source,
                       manifest=data["name"], revision=revision,
                       errors=tuple(tp.desired.errors) + tuple(tp.live.errors), secrets=tp.desired.secrets)
    return out


def _connection_for(r: Reconciler, kind: str, name: str,
                    connection: Callable[[str], ConnectionInfo]) -> tuple[ConnectionInfo | None, str]:
    """(the connection, "") or (None, why it cannot be used for this kind)."""
    try:
        conn = connection(name)
    except Exception as exc:
        return None, f"connection {name!r}: {getattr(exc, 'message', exc)}"
    if conn.type != r.connection_type:
        return None, f"connection {name!r} is a {conn.type} connection; {kind} needs {r.connection_type}"
    return conn, ""


def _declared(r: Reconciler, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState | None:
    """What the manifest declares on a target that could not be observed (listed as unknown), or None
    when the desired state itself is what failed. `desired` is pure, so computing it again is safe."""
    try:
        return r.desired(manifest, scope, files)
    except Exception:
        return None
