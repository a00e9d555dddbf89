"""The file-store test kind: `filestore:` entries (stacks) become JSON files in a directory.

A real target (files on disk, changed by real ansible-runner playbooks), small enough that the loop,
plans, policies and safety limits are tested without Docker or a SaaS emulator. It is built on nothing
but the public contract (`reconcilers.base`) and reaches Jarvis through its distribution's entry point,
as any new kind does, and brings its own orch.yaml section (`filestore:`, through `connections.filestore`)
the way a kind packaged on its own must. A file is owned when its `owner` field names this source and manifest.
A stack's `compose` file, when the repository holds it, is part of the stack (its sha256), so a push changing
it re-plans the manifest. The directory is read once per sync (`read`), shared by every manifest on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from reconcilers.base import (
    BaseReconciler,
    ConnectionCheck,
    ConnectionInfo,
    ConnectionType,
    DesiredState,
    InvalidDesiredState,
    LiveState,
    Plan,
    Resource,
    Scope,
    Step,
    TargetSummary,
    TargetUnavailable,
    object_schema,
)

PLAYBOOK = Path(__file__).parent / "apply.yml"
FILESTORE = ConnectionType(
    name="filestore", title="File store (tests)", description="A directory whose JSON files are the stacks.",
    config=object_schema({"root": {"type": "string", "title": "Directory", "minLength": 1,
                                    "description": "The directory."}},
                         required=["root"]))


class FileStack(BaseModel):
    """One `filestore:` entry: a stack kept as a JSON file (unknown keys are errors, as everywhere)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    endpoint: str = Field(min_length=1)
    compose: str = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)


class FileStoreReconciler(BaseReconciler):
    kind: ClassVar[str] = "filestore"
    title: ClassVar[str] = "File store"
    sections: ClassVar[tuple[str, ...]] = ("filestore",)
    manifest_sections: ClassVar[Mapping[str, Any]] = {"filestore": list[FileStack]}
    connection_type: ClassVar[str] = FILESTORE.name
    connection_schema: ClassVar = FILESTORE
    connection_key: ClassVar[str] = "filestore"
    # JARVIS_RECONCILERS='{"filestore": {"suffix": ".json"}}': which files in the directory are stacks
    settings_defaults: ClassVar[Mapping[str, Any]] = {"suffix": ".json"}

    def desired(self, manifest: Any, scope: Scope, files: Mapping[str, bytes]) -> DesiredState:
        data = manifest.model_dump(mode="json", exclude_none=True)
        owner = f"{scope.source}/{scope.manifest}"
        resources = []
        for st in data.get("filestore", []):
            spec = {"endpoint": st.get("endpoint", ""), "compose": st.get("compose", ""), "env": st.get("env", {}),
                    "owner": owner}
            compose = files.get(st.get("compose", "")) if st.get("compose") else None
            if compose is not None:   # a compose file in the repository: its content is part of the stack
                spec["compose_sha256"] = hashlib.sha256(compose).hexdigest()
            resources.append(Resource(type="stack", name=st["name"], spec=spec))
        return DesiredState(resources=tuple(resources), options={"owner": owner})

    def read(self, connection: ConnectionInfo) -> list[tuple[str, str, Any]]:
        """Every stack file of the directory, whoever owns it: (name, path, spec or the JSON error)."""
        root = Path(connection.config["root"])
        if not root.is_dir():
            raise TargetUnavailable(f"connection {connection.name!r}: directory {root} does not exist")
        out = []
        for f in sorted(root.glob("*" + self.settings["suffix"])):
            try:
                out.append((f.name, str(f), json.loads(f.read_text())))
            except ValueError as exc:   # a file someone broke: reported, never overwritten or pruned
                out.append((f.name, str(f), exc))
        return out

    def observe_read(self, read: list[tuple[str, str, Any]], connection: ConnectionInfo, scope: Scope,
                     desired: DesiredState) -> LiveState:
        owner = f"{scope.source}/{scope.manifest}"
        out, errors = [], []
        for name, path, spec in read:
            if isinstance(spec, Exception):
                errors.append(f"{name}: not JSON ({spec})")
                continue
            out.append(Resource(type="stack", name=name.removesuffix(self.settings["suffix"]), spec=spec,
                                owned=spec.get("owner") == owner, id=path))
        return LiveState(resources=tuple(out), errors=tuple(errors), health={"files": len(out)})

    def summarise(self, live: LiveState) -> TargetSummary:
        owned = sum(1 for r in live.resources if r.owned)
        return TargetSummary(health="degraded" if live.errors else "ok",
                             counts={"files": int(live.health.get("files", 0)), "managed": owned},
                             problems=len(live.errors), errors=tuple(live.errors))

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        root = connection.config["root"]
        if not Path(root).is_dir():   # an apply job that could only fail is not queued
            raise TargetUnavailable(f"connection {connection.name!r}: directory {root} does not exist")
        out = []
        for c in plan.changes:
            name = c.resource.split("/", 1)[1]
            if "/" in name or name.startswith("."):
                raise InvalidDesiredState(f"{c.resource}: a stack name cannot be a path")
            out.append(Step(name=f"{c.action.value} {c.resource}", playbook=str(PLAYBOOK), resource=c.resource,
                            vars={"root": root, "name": name, "suffix": self.settings["suffix"],
                                  "action": c.action.value, "spec": dict(c.desired or {})}))
        return out

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        ok = Path(connection.config.get("root", "")).is_dir()
        return ConnectionCheck(ok, "directory exists" if ok else "no such directory")
