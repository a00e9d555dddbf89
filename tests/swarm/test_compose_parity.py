"""Compose conversion parity: `docker stack deploy` is the reference for every compose file."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from swarm_steps import apply_plan, plan_for

from controller.contract import Scope
from reconcilers.swarm import SwarmReconciler
from reconcilers.swarm.normalize import normalize_service

COMPOSE_FILES = sorted(p for p in (ROOT / "examples").rglob("*.y*ml")
                       if "services:" in p.read_text() and p.name not in ("orch.yaml", "orch.yml")
                       ) + [FIXTURES / "app.yml"]


def _comparable(spec: dict, stack: str, refs: dict) -> dict:
    """A normalised spec with the stack name and the secret/config version suffixes taken out."""
    s = normalize_service(spec, refs)
    s["Labels"] = {k: v for k, v in s["Labels"].items() if not k.startswith("jarvis.")}
    text = re.sub(rf"\b{stack}_", "STACK_", json.dumps(s, sort_keys=True))
    return json.loads(re.sub(r'(STACK_\w+?)_[0-9a-f]{8}"', r'\1"', text).replace(f'"{stack}"', '"STACK"'))


def _live_specs(client, stack: str) -> tuple[dict, dict]:
    api = client.api
    refs = {"networks": {n["Id"]: n["Name"] for n in api.networks()},
            "secrets": {o["ID"]: o["Spec"]["Name"] for o in api.secrets()},
            "configs": {o["ID"]: o["Spec"]["Name"] for o in api.configs()}}
    specs = {s["Spec"]["Name"][len(stack) + 1:]: s["Spec"] for s in api.services(
        filters={"label": f"com.docker.stack.namespace={stack}"})}
    return specs, refs


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_jarvis_deploys_compose_like_docker_stack_deploy(path: Path, connection, swarm_engine, request):
    stack_a, stack_b = f"pa{uuid.uuid4().hex[:6]}", f"pb{uuid.uuid4().hex[:6]}"
    request.node.jarvis_cleanup = [stack_a + "_"]
    try:
        subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", str(path), stack_a],
                       check=True, capture_output=True, cwd=path.parent)
        base = path.parent
        files = {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()}
        rec = SwarmReconciler()
        scope = Scope("test-src", stack_b)
        manifest = {"name": stack_b, "compose": path.name}
        desired, plan = plan_for(rec, manifest, scope, connection, files)
        assert not desired.errors, desired.errors
        # ports published by stack A would clash: compare specs, deploy B only when nothing clashes
        a_specs, refs = _live_specs(swarm_engine, stack_a)
        b_specs = {r.name[len(stack_b) + 1:]: r.spec for r in desired.resources if r.type == "service"}
        assert set(a_specs) == set(b_specs)
        for name in a_specs:
            assert _comparable(b_specs[name], stack_b, refs) == _comparable(a_specs[name], stack_a, refs), name
        out = subprocess.run(["docker", "stack", "ls"], capture_output=True, text=True, check=True).stdout
        assert stack_a in out
    finally:
        subprocess.run(["docker", "stack", "rm", stack_a], capture_output=True)
        time.sleep(1)


def test_jarvis_stack_shows_in_docker_stack_ls(connection, scope, swarm_engine):
    files = {"stack.yml": b"services:\n  app:\n    image: jarvis-test/sleep:1\n"}
    rec = SwarmReconciler()
    _, plan = plan_for(rec, {"name": scope.manifest, "compose": "stack.yml"}, scope, connection, files)
    results = apply_plan(rec, plan, connection)
    assert all(r["status"] == "successful" for r in results), results
    ls = subprocess.run(["docker", "stack", "ls"], capture_output=True, text=True, check=True).stdout
    assert scope.manifest in ls
    ps = subprocess.run(["docker", "stack", "ps", scope.manifest], capture_output=True, text=True, check=True).stdout
    assert f"{scope.manifest}_app.1" in ps
    _, again = plan_for(rec, {"name": scope.manifest, "compose": "stack.yml"}, scope, connection, files)
    assert again.changes == ()
