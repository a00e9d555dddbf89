"""The reconciler contract, owned by the controller so it never imports a reconciler module.

`reconcilers/base.py` re-exports these names for reconciler authors. A reconciler is found
through the `jarvis.reconcilers` entry-point group: one module and one line in pyproject.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from controller.errors import JarvisError
from controller.plans import Change, Plan, Resource, Term, diff_resources

# (connection name, credential key) → the decrypted value; raises LookupError saying which is unknown
ConnectionResolver = Callable[[str, str], str]
# a connection → a client for its target (a kind's own `client_for` unless the context hands another)
ClientFactory = Callable[..., Any]
Health = Literal["ok", "degraded", "down", "unknown"]


class ReconcilerError(JarvisError):
    """The one base for a reconciler's failures. The planner turns one into the target's plan error
    (`plan_error`), the API into an HTTP answer (`status`, by JarvisError's one handler)."""

    status, code = 500, "reconciler_error"
    label = "reconciler error"

    @property
    def plan_error(self) -> str:
        return f"{self.label}: {self.message}"


class InvalidDesiredState(ReconcilerError):
    """What the manifest asks for cannot be planned or applied as written (a reference, a value)."""

    status, code, label = 422, "invalid_desired_state", "invalid desired state"


class TargetUnavailable(ReconcilerError):
    """The target (engine, API) could not be reached or refused the connection's credentials."""

    status, code, label = 503, "target_unavailable", "target unavailable"


class TargetConflict(ReconcilerError):
    """The target holds something in the way (a foreign object, a plan older than the live state)."""

    status, code, label = 409, "target_conflict", "conflict"


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
    # keys of desired resources whose live state could not be read (a zone that did not answer):
    # their drift is unknown, never "in sync", and the diff plans nothing for them
    unobserved: tuple[str, ...] = ()


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
class TargetSummary:
    """What one observation says about a target, in a shape every page loops over without knowing the kind.

    `counts` are labelled figures (`{"services": 3, "containers with errors": 1}`); `problems` is how
    many of them need a person (the dashboard adds them up); `resources` holds per-resource health
    (a service's replicas and task errors) keyed like `Resource.key`.
    """

    health: Health = "unknown"
    counts: Mapping[str, int] = field(default_factory=dict)
    problems: int = 0
    errors: tuple[str, ...] = ()
    resources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"health": self.health, "counts": dict(self.counts), "problems": self.problems,
                "errors": list(self.errors), "resources": {k: dict(v) for k, v in self.resources.items()}}


@dataclass(frozen=True)
class ReconcilerContext:
    """What the registry hands a reconciler instead of a bare `cls()`.

    `settings`: this kind's settings (`JARVIS_RECONCILERS` `{kind: {...}}` over the kind's `settings_defaults`);
    `resolve_secret`: `connection:NAME/KEY` references (None where no stored connection can be read);
    `clients`: client factories by connection type, to hand a kind another way to reach its target;
    `environ`: what `env:VAR` references read (None: this process's environment).
    """

    kind: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)
    resolve_secret: ConnectionResolver | None = field(default=None, repr=False)
    clients: Mapping[str, ClientFactory] = field(default_factory=dict)
    environ: Mapping[str, str] | None = field(default=None, repr=False)

    def secret(self, name: str, key: str) -> str:
        """The credential `key` of connection `name`; LookupError names what is unknown (never a value)."""
        if self.resolve_secret is None:
            raise LookupError(f"connection secrets are not available here (needed {name}/{key})")
        return self.resolve_secret(name, key)


class Observations:
    """One sync's reads of its targets: each target is read once, and the read is shared by every
    manifest planned on it (gitops-engine's cluster cache, kept for one sync only so a push never
    plans against state older than the push). A failed read is remembered too: an unreachable
    target costs one timeout per sync, not one per manifest. `reads` counts the real reads per
    target, which the sync reports."""

    def __init__(self) -> None:
        self._done: dict[str, tuple[Any, BaseException | None]] = {}
        self.reads: dict[str, int] = {}

    def get(self, target: str, read: Callable[[], Any]) -> Any:
        if target not in self._done:
            self.reads[target] = self.reads.get(target, 0) + 1
            try:
                self._done[target] = (read(), None)
            except Exception as exc:
                self._done[target] = (None, exc)
        value, exc = self._done[target]
        if exc is not None:
            raise exc
        return value


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
             target: str, prune: bool, observations: Observations | None = None) -> Planned:
        """The fixed sequence desired → observe → normalise → diff (BaseReconciler owns it); with
        `observations`, a kind that reads its whole target at once reads it once per sync."""

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

    def summarise(self, live: LiveState) -> TargetSummary:
        """The target's health, counts and errors from one observation (pure)."""


class BaseReconciler:
    """The base every kind extends (octoDNS's BaseProvider.plan): it runs the sequence, a kind fills hooks.

    Hooks: `desired` (manifest → resources, pure), `observe` (read-only) — or, for a kind that can read
    its whole target at once, `read` (the one read, shared by every manifest on the target in a sync)
    and `observe_read` (that read → one manifest's live state, pure) —, `normalise` (make both sides
    comparable: drop what must not be touched, fold server-side defaults), `order` (the order changes
    are shown and applied), `steps`, `check` and `summarise`. `diff` is the one generic diff
    (`diff_resources`) over the normalised sides; a kind overrides it only where its resources do not
    match by key. A failure a kind can name is raised as a `ReconcilerError` subclass.
    """

    kind: ClassVar[str]
    title: ClassVar[str] = ""                       # how pages name the kind ("Docker Swarm"); default: kind
    sections: ClassVar[tuple[str, ...]]
    connection_type: ClassVar[str]
    connection_key: ClassVar[str]
    # sections a kind brings that the built-in manifest model lacks: name -> the type of its value (a
    # pydantic model, or a list of one), validated at file:line:column like the built-in ones
    # (controller/manifests/extensions.py); its `connection_key` joins `connections:` the same way
    manifest_sections: ClassVar[Mapping[str, Any]] = {}
    settings_defaults: ClassVar[Mapping[str, Any]] = {}   # every per-kind setting it reads, with its default
    # the config of a connection to this machine's own target (Swarm: the local engine's socket): embedded
    # Jarvis offers to create it, named "local", when `check` says it answers (controller.local_offer)
    local_connection: ClassVar[Mapping[str, Any] | None] = None

    def __init__(self, context: ReconcilerContext | None = None) -> None:
        self.context = context or ReconcilerContext(kind=getattr(self, "kind", ""))

    @property
    def settings(self) -> Mapping[str, Any]:
        """This kind's settings: the context's over the defaults it declares."""
        return {**self.settings_defaults, **self.context.settings}

    def client(self, connection: ConnectionInfo, default: ClientFactory, **kwargs: Any) -> Any:
        """A client for `connection`: the context's factory for its type, else the kind's own `default`."""
        return self.context.clients.get(connection.type, default)(connection, **kwargs)

    def plan(self, manifest: Any, scope: Scope, files: Mapping[str, bytes], connection: ConnectionInfo, *,
             target: str, prune: bool, observations: Observations | None = None) -> Planned:
        desired = self.desired(manifest, scope, files)
        if observations is not None and self.reads_whole_target:
            read = observations.get(target, lambda: self.read(connection))
            live = self.observe_read(read, connection, scope, desired)
        else:
            live = self.observe(connection, scope, desired)
        return Planned(desired, live, tuple(self.diff(desired, live, target=target, prune=prune)))

    @property
    def reads_whole_target(self) -> bool:
        """Whether the kind splits its observation into `read` + `observe_read` (it overrides `read`)."""
        return type(self).read is not BaseReconciler.read

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        raise NotImplementedError

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        if self.reads_whole_target:
            return self.observe_read(self.read(connection), connection, scope, desired)
        raise NotImplementedError

    def read(self, connection: ConnectionInfo) -> Any:
        """Read the whole target (every object, whoever owns it), read-only. Override it together with
        `observe_read` when one read can serve every manifest on the target: a sync then reads the
        target once instead of once per manifest."""
        raise NotImplementedError

    def observe_read(self, read: Any, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        """One manifest's live state from what `read` returned (pure but for checks the read cannot
        answer, such as whether an image exists in a registry)."""
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

    def summarise(self, live: LiveState) -> TargetSummary:
        """Default: healthy without errors, down with nothing observed and errors, degraded otherwise."""
        owned = sum(1 for r in live.resources if r.owned)
        health: Health = "ok" if not live.errors else ("down" if not live.resources else "degraded")
        return TargetSummary(health=health, counts={"managed": owned}, problems=len(live.errors),
                             errors=tuple(live.errors))
