"""`PortainerReconciler`: the `stacks:` section of orch.yaml as Portainer Swarm stacks.

desired  each entry's compose file from the repository, parsed and normalised (compose.normalise),
         and its env; a stack that cannot be read becomes an error naming it and is left alone
observe  the environments, then every stack Portainer lists; a stack is owned when its env carries
         `JARVIS_OWNER=<source>/<manifest>` (the deployed file also labels every service), and only
         owned stacks (or one named with `adopt: true`) have their file read. A name held by a stack
         Jarvis does not own, a missing environment or image, a stack stopped in Portainer: an error
         per stack, never a change
diff     the generic diff over {endpoint, compose, env}, skipping the stacks in error (so a stack whose
         file broke is neither updated nor pruned)
steps    one playbook run per stack: `playbooks/apply.yml` with the module in `playbooks/library`
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from controller.contract import (
    BaseReconciler,
    ConnectionCheck,
    ConnectionInfo,
    DesiredState,
    LiveState,
    Scope,
    Step,
)
from controller.plans import Change, Plan, Resource, diff_resources

from . import compose
from .client import PortainerClient, PortainerError, env_dict
from .connection import API_KEY, PASSWORD, PORTAINER, USERNAME

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
STACK = "stack"
ACTIVE = 1


def stacks_section(manifest: Any) -> list[dict[str, Any]]:
    data = manifest.model_dump(mode="json", exclude_none=True) if hasattr(manifest, "model_dump") else manifest
    return list((data or {}).get("stacks") or [])


def client_for(connection: ConnectionInfo, **kwargs: Any) -> PortainerClient:
    return PortainerClient(str(connection.config.get("base_url") or ""),
                           api_key=connection.secrets.get(API_KEY, ""),
                           username=connection.secrets.get(USERNAME, ""),
                           password=connection.secrets.get(PASSWORD, ""),
                           verify=bool(connection.config.get("verify_tls", True)), **kwargs)


def endpoint_index(endpoints: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Environments by name and by id (a manifest may name either)."""
    out: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        out[str(ep["Id"])] = ep
    for ep in endpoints:
        out[str(ep["Name"])] = ep
    return out


def live_spec(stack: Mapping[str, Any], endpoint: str, text: str | None) -> dict[str, Any]:
    env = {k: v for k, v in env_dict(stack.get("Env")).items() if k != compose.OWNER_ENV}
    spec: dict[str, Any] = {"endpoint": endpoint, "env": env}
    if text is not None:
        try:
            spec["compose"] = compose.normalise(compose.parse(text, f"stack {stack['Name']}"))
        except compose.ComposeError:
            spec["compose"] = {"unparsable": text}   # compared verbatim: shows as drift, is healed
    return spec


class PortainerReconciler(BaseReconciler):
    kind: ClassVar[str] = "portainer"
    sections: ClassVar[tuple[str, ...]] = ("stacks",)
    connection_type: ClassVar[str] = PORTAINER.name
    connection_schema: ClassVar = PORTAINER
    connection_key: ClassVar[str] = "stacks"
    runbooks_dir: ClassVar[Path] = Path(__file__).resolve().parent / "runbooks"   # container restart and logs

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        resources: list[Resource] = []
        errors: list[str] = []
        skip: list[str] = []
        adopt: list[str] = []
        for i, entry in enumerate(stacks_section(manifest)):
            name, path = str(entry.get("name") or ""), str(entry.get("compose") or "")
            where = f"stacks[{i}] ({name})"
            if path not in files:
                errors.append(f"{where}: compose file {path} is not in the repository")
                skip.append(name)
                continue
            try:
                doc = compose.parse(bytes(files[path]).decode(), path)
            except (compose.ComposeError, UnicodeDecodeError) as exc:
                errors.append(f"{where}: {exc}")
                skip.append(name)
                continue
            spec = {"endpoint": str(entry["endpoint"]), "compose": compose.normalise(doc),
                    "env": dict(sorted((entry.get("env") or {}).items()))}
            if compose.OWNER_ENV in spec["env"]:
                errors.append(f"{where}: env.{compose.OWNER_ENV} is Jarvis's ownership mark; use another name")
                skip.append(name)
                continue
            resources.append(Resource(type=STACK, name=name, spec=spec, protected=bool(entry.get("protected"))))
            if entry.get("adopt"):
                adopt.append(name)
        return DesiredState(resources=tuple(resources), errors=tuple(errors),
                            options={"skip": skip, "adopt": adopt, "owner": compose.owner(scope)})

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        me = compose.owner(scope)
        wanted = {r.name: r for r in desired.resources}
        adopt = set(desired.options.get("adopt", ()))
        resources: list[Resource] = []
        errors: list[str] = []
        skip: list[str] = []
        health: dict[str, Any] = {"stacks": {}}
        try:
            client = client_for(connection)
        except PortainerError as exc:
            return LiveState(errors=(f"connection {connection.name}: {exc}",), health={"skip": list(wanted)})
        with client:
            try:
                endpoints = client.endpoints()
                stacks = client.stacks()
            except PortainerError as exc:
                return LiveState(errors=(f"Portainer ({connection.name}): {exc}",),
                                 health={"skip": list(wanted), "unreachable": True})
            index = endpoint_index(endpoints)
            names = {ep["Id"]: str(ep["Name"]) for ep in endpoints}
            health["endpoints"] = {str(ep["Name"]): {"id": ep["Id"], "status": ep.get("Status")} for ep in endpoints}
            for name, res in wanted.items():
                ep = index.get(res.spec["endpoint"])
                if ep is None:
                    errors.append(f"stack {name}: endpoint {res.spec['endpoint']!r} is not an environment of "
                                  f"{connection.name} (it has: {', '.join(sorted(map(str, names.values()))) or 'none'})")
                    skip.append(name)
                    continue
                missing = self._missing_images(client, ep["Id"], compose.images(res.spec["compose"]))
                if missing:
                    errors.append(f"stack {name}: image {', '.join(missing)} is not on environment {ep['Name']}")
                    skip.append(name)
            by_name: dict[str, list[dict[str, Any]]] = {}
            for st in stacks:
                by_name.setdefault(str(st["Name"]), []).append(st)
            for name, group in sorted(by_name.items()):
                mine = [s for s in group if env_dict(s.get("Env")).get(compose.OWNER_ENV) == me]
                if mine:
                    st, owned = mine[0], True
                elif name in wanted:
                    st, owned = group[0], name in adopt
                    if not owned:
                        errors.append(f"stack {name}: the name is taken by Portainer stack {st['Id']} that Jarvis "
                                      "does not own; rename it, or set `adopt: true` to take it over")
                        skip.append(name)
                else:
                    continue           # someone else's stack: never read, never touched
                endpoint = names.get(st.get("EndpointId"), str(st.get("EndpointId")))
                if name in wanted and wanted[name].spec["endpoint"] == str(st.get("EndpointId")):
                    endpoint = wanted[name].spec["endpoint"]     # the manifest named it by id
                text = None
                if owned:
                    try:
                        text = client.stack_file(int(st["Id"]))
                    except PortainerError as exc:
                        errors.append(f"stack {name}: its file could not be read: {exc}")
                        skip.append(name)
                        continue
                health["stacks"][name] = {"id": st["Id"], "endpoint_id": st.get("EndpointId"),
                                          "status": "active" if st.get("Status") == ACTIVE else "stopped"}
                if owned and st.get("Status") != ACTIVE:
                    errors.append(f"stack {name}: stopped in Portainer; Jarvis reports it and does not start it")
                    skip.append(name)
                resources.append(Resource(type=STACK, name=name, spec=live_spec(st, endpoint, text), owned=owned,
                                          id=f"{st['Id']}:{st.get('EndpointId')}"))
            health["calls"] = client.calls
        health["skip"] = sorted(set(skip))
        return LiveState(resources=tuple(resources), errors=tuple(errors), health=health)

    @staticmethod
    def _missing_images(client: PortainerClient, endpoint_id: int, images: list[str]) -> list[str]:
        out = []
        for image in images:
            try:
                client.docker(endpoint_id, "GET", f"/images/{image}/json")
            except PortainerError as exc:
                if exc.status == 404:
                    out.append(image)
                else:
                    raise
        return out

    def diff(self, desired: DesiredState, live: LiveState, *, target: str, prune: bool) -> list[Change]:
        skip = set(desired.options.get("skip", ())) | set(live.health.get("skip", ()))
        if live.health.get("unreachable"):
            return []            # nothing is known about the live side: nothing is planned, nothing deleted
        want = [r for r in desired.resources if r.name not in skip]
        have = [r for r in live.resources if r.name not in skip]
        return diff_resources(target, want, have, prune=prune)

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        """One playbook run per stack, so one failing stack does not hold back the others."""
        out = []
        for ch in plan.changes:
            name = ch.resource.split("/", 1)[1]
            change: dict[str, Any] = {"action": str(ch.action), "name": name, "live_id": ch.live_id}
            if ch.desired is not None:
                change.update(endpoint=ch.desired["endpoint"], env=dict(ch.desired["env"]),
                              content=compose.marked(ch.desired["compose"], plan.source, plan.manifest))
            out.append(Step(name=f"portainer: {ch.action} stack {name}", playbook=str(PLAYBOOKS / "apply.yml"),
                            vars={"change": change, "owner": f"{plan.source}/{plan.manifest}"},
                            resource=ch.resource))
        return out

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        try:
            with client_for(connection, max_retries=1) as client:
                version = client.status().get("Version", "")
                endpoints = client.endpoints()
        except PortainerError as exc:
            return ConnectionCheck(ok=False, message=f"Portainer: {exc}")
        envs = [{"id": ep["Id"], "name": ep["Name"],
                 "type": "swarm" if any(s.get("Swarm") for s in ep.get("Snapshots") or []) else "standalone",
                 "status": "up" if ep.get("Status") == 1 else "down"} for ep in endpoints]
        listed = ", ".join(f"{e['name']} ({e['type']}, {e['status']})" for e in envs) or "none"
        return ConnectionCheck(ok=True, message=f"Portainer {version}: {len(envs)} environment(s): {listed}",
                               details={"version": version, "environments": envs})
