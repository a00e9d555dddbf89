"""A test reconciler for the GitOps core: `stacks:` entries become JSON files in a directory.

It is a real target (files on disk, changed by real ansible-runner playbooks), small enough that
the loop, plans, policies and safety limits can be tested without Docker or a SaaS emulator.
A file is owned when its `owner` field names this source and manifest; others are foreign.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from reconcilers.base import (
    BaseReconciler,
    ConnectionCheck,
    ConnectionInfo,
    ConnectionType,
    DesiredState,
    LiveState,
    Plan,
    Resource,
    Scope,
    Step,
    object_schema,
)

PLAYBOOK = Path(__file__).parent / "apply.yml"
FILESTORE = ConnectionType(
    name="filestore", title="File store (tests)", description="A directory whose JSON files are the stacks.",
    config=object_schema({"root": {"type": "string", "title": "Directory", "minLength": 1,
                                    "description": "The directory."}},
                         required=["root"]))


class FileStoreReconciler(BaseReconciler):
    kind: ClassVar[str] = "filestore"
    sections: ClassVar[tuple[str, ...]] = ("stacks",)
    connection_type: ClassVar[str] = FILESTORE.name
    connection_schema: ClassVar = FILESTORE
    connection_key: ClassVar[str] = "stacks"

    def desired(self, manifest: Any, scope: Scope, files) -> DesiredState:
        data = manifest.model_dump(mode="json", exclude_none=True)
        owner = f"{scope.source}/{scope.manifest}"
        resources = []
        for st in data.get("stacks", []):
            spec = {"endpoint": st.get("endpoint", ""), "compose": st.get("compose", ""), "env": st.get("env", {}),
                    "owner": owner}
            resources.append(Resource(type="stack", name=st["name"], spec=spec))
        return DesiredState(resources=tuple(resources), options={"owner": owner})

    def observe(self, connection: ConnectionInfo, scope: Scope, desired: DesiredState) -> LiveState:
        root = Path(connection.config["root"])
        owner = f"{scope.source}/{scope.manifest}"
        out = []
        for f in sorted(root.glob("*.json")):
            spec = json.loads(f.read_text())
            out.append(Resource(type="stack", name=f.stem, spec=spec, owned=spec.get("owner") == owner, id=str(f)))
        return LiveState(resources=tuple(out), health={"files": len(out)})

    def steps(self, plan: Plan, connection: ConnectionInfo) -> list[Step]:
        root = connection.config["root"]
        return [Step(name=f"{c.action.value} {c.resource}", playbook=str(PLAYBOOK), resource=c.resource,
                     vars={"root": root, "name": c.resource.split("/", 1)[1], "action": c.action.value,
                           "spec": dict(c.desired or {})}) for c in plan.changes]

    def check(self, connection: ConnectionInfo) -> ConnectionCheck:
        ok = Path(connection.config.get("root", "")).is_dir()
        return ConnectionCheck(ok, "directory exists" if ok else "no such directory")
