"""The reconciler contract, owned by the controller so it never imports a reconciler module.

`reconcilers/base.py` re-exports these names for reconciler authors. A reconciler is found
through the `jarvis.reconcilers` entry-point group: one module and one line in pyproject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from controller.plans import Change, Plan, Resource, Term, diff_resources


@dataclass(frozen=True)
class ConnectionInfo:
    """A connection as a reconciler sees it: its non-secret settings and decrypted credentials.

    Credentials never leave the process except through the job's private data dir, and every
    value in `secrets` is masked in job output.
    """

    name: str
    type: str
    environment: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    """Which slice of a target one manifest owns (ownership labels carry source and manifest)."""

    source: str
    manifest: str
    environment: str = ""


@dataclass(frozen=True)
class DesiredState:
    resources: tuple[Resource, ...] = ()
    errors: tuple[str, ...] = ()          # per-resource problems; the rest still reconciles
    options: Mapping[str, Any] = field(default_factory=dict)   # e.g. {"zone": "example.com"}
    # values resolved from references (Docker secret contents...), by name: never in a spec, a
    # plan's changes or a log; the controller seals them with the plan and hands them to `steps`
    secrets: Mapping[str, bytes] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class LiveState:
    resources: tuple[Resource, ...] = ()
    health: Mapping[str, Any] = field(default_factory=dict)    # per resource: replicas, task errors
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """One playbook run: the unit a job executes, one per change where the target allows."""

    name: str
    playbook: str                      # absolute path to the playbook file
    vars: Mapping[str, Any] = field(default_factory=dict)   # stored with the job: never a secret
    resource: str = ""
    # sealed with the job; the playbook reads each as the environment variable JARVIS_STEP_<KEY>
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # when it runs (controller.jobs.ordering): by wave, lowest first; after the steps it names, skipped
    # when one of them did not succeed. `vars` may refer to an earlier step's output (ordering.output_ref).
    wave: int = 0
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Planned:
    """What the base's sequence produced for one target of one manifest: both sides and the changes."""

    desired: DesiredState
    live: LiveState
    changes: tuple[Change, ...] = ()


@runtime_checkable
class Reconciler(Protocol):
    kind: ClassVar[str]                 # "swarm", "cloudflare", ...
    # every orch.yaml section it reads: a manifest filling any of them is planned on this kind
    sections: ClassVar[tuple[str, ...]]     # ("services", "compose", "networks", ...), ("dns",)
    connection_type: ClassVar[str]      # the connection type it needs: "docker", "cloudflare"
    connection_key: ClassVar[str]       # its key under orch.yaml `connections:` ("swarm", "dns", ...)

    def plan(self, manifest: Any, scope: Scope, files: Mapping[str, bytes], connection: ConnectionInfo, *,
             target: str, prune: bool) -> Planned:
        """The fixed sequence desired → observe → normalise → diff (BaseReconciler owns it)."""

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        """Turn a parsed manifest's section into resources (pure; `files` are repository files)."""

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        """Read live state: read-only and cheap, no writes."""

    def diff(self, desired: DesiredState, live: LiveState, *, target: str, prune: bool) -> list[Change]:
        """Pure: the same input gives the same output."""

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        """Playbook and variables per change."""

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        """Connection test for `POST /api/connections/{id}/test`."""


class BaseReconciler:
    """The base every kind extends (octoDNS's BaseProvider.plan): it runs the sequence, a kind fills hooks.

    Hooks: `desired` (manifest → resources, pure), `observe` (read-only), `normalise` (make both sides
    comparable: drop what must not be touched, fold server-side defaults), `order` (the order changes
    are shown and applied), `steps` and `check`. `diff` is the one generic diff (`diff_resources`) over
    the normalised sides; a kind overrides it only where its resources do not match by key.
    """

    kind: ClassVar[str]
    sections: ClassVar[tuple[str, ...]]
    connection_type: ClassVar[str]
    connection_key: ClassVar[str]

    def plan(self, manifest: Any, scope: Scope, files: Mapping[str, bytes], connection: ConnectionInfo, *,
             target: str, prune: bool) -> Planned:
        desired = self.desired(manifest, scope, files)
        live = self.observe(connection, scope, desired)
        return Planned(desired, live, tuple(self.diff(desired, live, target=target, prune=prune)))

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        raise NotImplementedError

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        raise NotImplementedError

    def normalise(self, desired: DesiredState, live: LiveState) -> tuple[Sequence[Resource], Sequence[Resource]]:
        """(desired resources, live resources) as the diff compares them; pure."""
        return desired.resources, live.resources

    def order(self, changes: list[Change]) -> list[Change]:
        return changes

    def terms(self, resource: Resource) -> Sequence[Term] | None:
        """The resource's spec in orch.yaml terms (`services.web.update.delay: 10s`); None: no mapping,
        the diff shows engine fields only. Pure; called by the generic diff on both sides."""
        return None

    def diff(self, desired: DesiredState, live: LiveState, *, target: str, prune: bool) -> list[Change]:
        want, have = self.normalise(desired, live)
        return self.order(diff_resources(target, want, have, prune=prune, terms=self.terms))

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        raise NotImplementedError

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        raise NotImplementedError
