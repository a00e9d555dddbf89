"""SwarmReconciler: orch.yaml services/compose → Docker Swarm, through the reconciler contract."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import docker
import docker.errors

from controller.contract import (
    BaseReconciler,
    ConnectionCheck,
    ConnectionInfo,
    DesiredState,
    LiveState,
    Scope,
    Step,
    TargetConflict,
    TargetSummary,
    TargetUnavailable,
)
from controller.plans import Action, Change, Plan, Resource, Term, diff_resources
from reconcilers.swarm.connection import DOCKER
from reconcilers.swarm.desired import OBJECT_LABEL, build_desired
from reconcilers.swarm.engine import client_for
from reconcilers.swarm.observe import observe_engine, read_engine
from reconcilers.swarm.terms import swarm_terms

PLAYBOOK = str(Path(__file__).parent / "playbooks" / "apply.yml")
_OBJECT_TYPES = ("network", "secret", "config")


def image_checker(client: docker.DockerClient):
    """(found, why) for an image: on the engine, or known to its registry."""
    def exists(image: str) -> tuple[bool, str]:
        try:
            client.api.inspect_image(image)
            return True, "on the engine"
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            return True, f"not checked: {exc.explanation}"
        try:
            client.api.inspect_distribution(image)
            return True, "in the registry"
        except docker.errors.APIError as exc:
            text = str(exc.explanation or exc)
            if "no such host" in text or "dial tcp" in text or "timeout" in text:
                return False, "not on the engine, and no registry could be reached"
            return False, f"not on the engine, and the registry says: {text}"
    return exists


def _step_order(c: Change) -> tuple[int, str]:
    kind = c.resource.split("/", 1)[0]
    if c.action is Action.DELETE:
        return (2 if kind == "service" else 3, c.resource)
    return (0 if kind in _OBJECT_TYPES else 1, c.resource)


class SwarmReconciler(BaseReconciler):
    kind: ClassVar[str] = "swarm"
    title: ClassVar[str] = "Docker Swarm"
    settings_defaults: ClassVar[Mapping[str, Any]] = {"engine_timeout": 60}   # seconds an engine call may take
    sections: ClassVar[tuple[str, ...]] = ("services", "compose", "networks", "secrets", "configs")
    connection_type: ClassVar[str] = DOCKER.name
    connection_schema: ClassVar = DOCKER
    connection_key: ClassVar[str] = "swarm"
    local_connection: ClassVar[Mapping[str, Any] | None] = {"base_url": "unix:///var/run/docker.sock"}
    runbooks_dir: ClassVar[Path] = Path(__file__).resolve().parent / "runbooks"

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        environ = os.environ if self.context.environ is None else self.context.environ
        state, values = build_desired(manifest, scope, files, self.context.resolve_secret, environ)
        # values travel beside the specs, never in them: the controller seals them with the plan
        return replace(state, secrets={**state.secrets, **values})

    def read(self, connection: ConnectionInfo) -> dict[str, list[dict[str, Any]]]:
        """The whole swarm (services, tasks, nodes, networks, secrets, configs): one read per sync,
        shared by every manifest on this engine."""
        client = self.client(connection, client_for, timeout=int(self.settings["engine_timeout"]))
        try:
            return read_engine(client)
        except docker.errors.APIError as exc:   # not a manager, a daemon error: nothing can be compared
            raise TargetUnavailable(f"the docker engine of connection {connection.name!r} refused to list the swarm: "
                                    f"{exc.explanation or exc}") from exc
        except docker.errors.DockerException as exc:
            raise TargetUnavailable(f"the docker engine of connection {connection.name!r} stopped answering: {exc}") from exc
        finally:
            client.close()

    def observe_read(self, read: dict[str, list[dict[str, Any]]], connection: ConnectionInfo, scope: Scope,
                     desired: DesiredState) -> LiveState:
        # a changed image is looked up on the engine and its registry: a client only when one is
        opened: list[docker.DockerClient] = []   # needed, so a manifest without a new image reads nothing more

        def exists(image: str) -> tuple[bool, str]:
            if not opened:
                opened.append(self.client(connection, client_for, timeout=int(self.settings["engine_timeout"])))
            return image_checker(opened[0])(image)
        try:
            return observe_engine(read, scope, desired, image_exists=exists)
        finally:
            for client in opened:
                client.close()

    def summarise(self, live: LiveState) -> TargetSummary:
        services = dict(live.health.get("services") or {})
        with_errors = int(live.health.get("containers_with_errors") or 0)
        nodes = live.health.get("nodes") or {}
        down = sum(1 for n in nodes.values() if n.get("state") != "ready")
        problems = with_errors + down + len(live.errors)
        return TargetSummary(health="ok" if not problems else "degraded",
                             counts={"services": len(services), "containers with errors": with_errors,
                                     "nodes": len(nodes), "nodes down": down},
                             problems=problems, errors=tuple(live.errors), resources=services)

    def normalise(self, desired: DesiredState, live: LiveState) -> tuple[list[Resource], list[Resource]]:
        """Held objects (whose desired form failed) leave both sides; an image pinned to its tag's digest
        is the same image; equal pairs leave both sides before the (costly) field-level diff."""
        held = set(desired.options.get("held") or ()) | set(live.health.get("held") or {})
        want = [_pin_tolerant(r, live) for r in desired.resources if r.key not in held]
        have = [r for r in live.resources if r.key not in held]
        live_by_key = {r.key: r for r in have}
        same = {w.key for w in want if (h := live_by_key.get(w.key)) is not None and h.owned and h.spec == w.spec}
        return [w for w in want if w.key not in same], [h for h in have if h.key not in same]

    def order(self, changes: list[Change]) -> list[Change]:
        return sorted(changes, key=_step_order)

    def terms(self, resource: Resource) -> list[Term] | None:
        return swarm_terms(resource)

    def diff(self, desired: DesiredState, live: LiveState, *, target: str, prune: bool) -> list[Change]:
        changes = super().diff(desired, live, target=target, prune=prune)
        if prune:
            return changes
        # Old versions of a secret/config still declared are removed even without prune.
        held = set(desired.options.get("held") or ()) | set(live.health.get("held") or {})
        objects = {r.spec["Labels"].get(OBJECT_LABEL) for r in desired.resources if r.type in ("secret", "config")}
        desired_keys = {r.key for r in desired.resources}
        old = [r for r in live.resources if r.owned and r.key not in held and r.type in ("secret", "config")
               and r.key not in desired_keys and r.spec.get("Labels", {}).get(OBJECT_LABEL) in objects]
        return self.order(changes + diff_resources(target, [], old, prune=True, terms=self.terms))

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        out = []
        for c in sorted(plan.changes, key=_step_order):
            # the connection is not a step variable: the worker hands it to every step (step_connection)
            vars_: dict[str, Any] = {"change": c.to_dict()}
            kind = c.resource.split("/", 1)[0]
            if kind in ("secret", "config") and c.action is Action.CREATE:
                name = c.resource.split("/", 1)[1]
                if name not in plan.secrets:
                    raise TargetConflict(f"{c.resource}: its value is not in the plan; plan again")
                secrets = {"data_b64": base64.b64encode(plan.secrets[name]).decode()}
            else:
                secrets = {}
            # objects before the services that use them; a service removed before the objects it used
            out.append(Step(name=f"{c.action} {c.resource}", playbook=PLAYBOOK, vars=vars_, resource=c.resource,
                            secrets=secrets, wave=_step_order(c)[0]))
        return out

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        try:
            client = self.client(connection, client_for, timeout=10)
            try:
                info = client.info()
            finally:
                client.close()
        except Exception as exc:  # any failure to connect is the answer
            return ConnectionCheck(False, f"docker engine did not answer: {exc}")
        swarm = info.get("Swarm") or {}
        details = {"server_version": info.get("ServerVersion"), "nodes": swarm.get("Nodes"),
                   "node_id": swarm.get("NodeID")}
        if swarm.get("LocalNodeState") != "active":
            return ConnectionCheck(False, "docker engine answers but is not part of a swarm", details)
        if not swarm.get("ControlAvailable"):
            return ConnectionCheck(False, "docker engine answers but is not a swarm manager", details)
        return ConnectionCheck(True, f"swarm manager, docker {info.get('ServerVersion')}", details)


def _pin_tolerant(want: Resource, live: LiveState) -> Resource:
    """A live image pinned to the digest of the desired tag is the same image (the CLI pins on deploy)."""
    if want.type != "service":
        return want
    have = next((r for r in live.resources if r.key == want.key and r.owned), None)
    if have is None:
        return want
    wi = want.spec["TaskTemplate"]["ContainerSpec"]["Image"]
    hi = have.spec["TaskTemplate"]["ContainerSpec"]["Image"]
    if hi != wi and "@" not in wi and hi.startswith(wi + "@"):
        spec = {**want.spec, "TaskTemplate": {**want.spec["TaskTemplate"], "ContainerSpec": {
            **want.spec["TaskTemplate"]["ContainerSpec"], "Image": hi}}}
        return Resource(want.type, want.name, spec, want.owned, want.protected, want.ignore, want.id)
    return want
