"""The reconciler contract, owned by the controller so it never imports a reconciler module.

`reconcilers/base.py` re-exports these names for reconciler authors. A reconciler is found
through the `jarvis.reconcilers` entry-point group: one module and one line in pyproject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from controller.plans import Change, Plan, Resource


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


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Reconciler(Protocol):
    kind: ClassVar[str]                 # "swarm", "cloudflare", ...
    # every orch.yaml section it reads: a manifest filling any of them is planned on this kind
    sections: ClassVar[tuple[str, ...]]     # ("services", "compose", "networks", ...), ("dns",)
    connection_type: ClassVar[str]      # the connection type it needs: "docker", "cloudflare"
    connection_key: ClassVar[str]       # its key under orch.yaml `connections:` ("swarm", "dns", ...)

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        """Turn a parsed manifest's section into resources (pure; `files` are repository files)."""

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        """Read live state: read-only and cheap, no writes."""

    def diff(self, desired: DesiredState, live: LiveState, *, prune: bool) -> list[Change]:
        """Pure: the same input gives the same output."""

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        """Playbook and variables per change."""

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        """Connection test for `POST /api/connections/{id}/test`."""
