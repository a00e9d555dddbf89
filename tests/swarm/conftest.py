"""A real Docker Swarm for the Swarm reconciler tests; tests/infra/docker.sh starts one when needed."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import docker
import docker.errors
import pytest

from controller.contract import ConnectionInfo, Scope

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def _engine_ready() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0 and subprocess.run(
        ["docker", "image", "inspect", "jarvis-test/fail:1"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def swarm_engine():
    if not _engine_ready():
        subprocess.run(["sh", str(ROOT / "tests/infra/docker.sh")], check=True)
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture
def connection(swarm_engine) -> ConnectionInfo:
    return ConnectionInfo(name="local", type="docker", config={"base_url": "unix:///var/run/docker.sock"})


@pytest.fixture
def scope() -> Scope:
    """A fresh manifest per test; everything it owns is removed afterwards."""
    return Scope(source="test-src", manifest=f"t{uuid.uuid4().hex[:8]}")


@pytest.fixture(autouse=True)
def cleanup(request, swarm_engine):
    yield
    if "swarm_engine" not in request.fixturenames:
        return
    api = swarm_engine.api
    created = getattr(request.node, "jarvis_cleanup", [])
    prefixes = tuple(created)
    for svc in api.services():
        labels = svc["Spec"].get("Labels") or {}
        if labels.get("jarvis.source") == "test-src" or svc["Spec"]["Name"].startswith(prefixes or ("\0",)):
            _remove(api.remove_service, svc["ID"])
    _wait_gone(api)
    for kind in ("secrets", "configs"):
        for obj in getattr(api, kind)():
            labels = obj["Spec"].get("Labels") or {}
            if labels.get("jarvis.source") == "test-src" or obj["Spec"]["Name"].startswith(prefixes or ("\0",)):
                _remove(getattr(api, "remove_" + kind[:-1]), obj["ID"])
    for net in api.networks():
        labels = net.get("Labels") or {}
        if labels.get("jarvis.source") == "test-src" or net["Name"].startswith(prefixes or ("\0",)):
            _remove(api.remove_network, net["Id"])


def _wait_gone(api, tries: int = 100) -> None:
    import time
    for _ in range(tries):   # networks can only go once the service's tasks are gone
        if not any(t.get("Status", {}).get("State") in ("running", "starting", "preparing")
                   for t in api.tasks(filters={"desired-state": "shutdown"})):
            return
        time.sleep(0.2)


def _remove(fn, ident: str, tries: int = 50) -> None:
    """Remove, tolerating objects already gone and retrying objects still in use by exiting tasks."""
    import time
    for _ in range(tries):
        try:
            fn(ident)
            return
        except docker.errors.APIError as exc:
            text = str(exc)
            if exc.status_code == 404 or "not found" in text:
                return
            if "in use" not in text and "has active endpoints" not in text:
                raise
            time.sleep(0.2)
