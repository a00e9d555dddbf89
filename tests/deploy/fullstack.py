"""The deployed stack the full-stack test shares: build, deploy, wait, reach replicas, remove.

Every wait polls a condition (a task state, a container's health, an HTTP answer) with a
deadline; nothing sleeps for a fixed time. Replicas are reached on their own host ports (the
override publishes the API port in host mode), found from their tasks as Traefik's Swarm
provider finds task addresses.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import httpx

ROOT = Path(__file__).resolve().parents[2]
STACK_FILE = ROOT / "deploy" / "stack.yml"
OVERRIDE = Path(__file__).with_name("stack.override.yml")
STACK = "jarvis"
IMAGE = "jarvis:e2e"
SECRETS = ("jarvis_secret_key", "jarvis_keyring", "jarvis_pgpass", "jarvis_postgres_password",
           "grafana_admin_password", "jarvis_metrics_token")
DATA_LABEL = "jarvis.data"
EMAIL, PASSWORD = "e2e-admin@example.com", "e2e-Password-4711-long"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:   # not there yet (a replica starting, a name not resolvable)
            last_exc = exc
        time.sleep(every)
    raise AssertionError(f"{what}: not reached within {timeout:.0f}s" + (f" (last error: {last_exc})" if last_exc else ""))


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def build_images() -> float:
    """`bash deploy/build-images.sh --test-services` as a user runs it; returns its duration."""
    started = time.monotonic()
    run("bash", str(ROOT / "deploy" / "build-images.sh"), "--test-services", cwd=ROOT, timeout=1800,
        env={**os.environ, "JARVIS_IMAGE": IMAGE})
    return time.monotonic() - started


@dataclass
class Replica:
    task_id: str
    container_id: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    """The running stack and what the tests learn about it."""

    workdir: Path
    client: docker.DockerClient = field(default_factory=docker.from_env)
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    # -- deploy and remove ------------------------------------------------------------------------
    def prepare(self) -> None:
        """Secrets (as deploy/README.md makes them), the data node label, the mounted test folder."""
        pgpw = secrets.token_hex(24)
        values = {"jarvis_secret_key": secrets.token_urlsafe(48),
                  "jarvis_keyring": json.dumps({"active": "k1", "keys": {"k1": _b64(secrets.token_bytes(32))}}),
                  "jarvis_pgpass": f"*:*:*:jarvis:{pgpw}\n", "jarvis_postgres_password": pgpw,
                  "grafana_admin_password": secrets.token_urlsafe(18), "jarvis_metrics_token": secrets.token_urlsafe(32)}
        for name in SECRETS:
            self._remove_secret(name)
            self.client.secrets.create(name=name, data=values[name].encode(), labels={"jarvis.e2e": "true"})
        node = self.client.nodes.list(filters={"role": "manager"})[0]
        spec = node.attrs["Spec"]
        if spec.get("Labels", {}).get(DATA_LABEL) != "true":
            spec.setdefault("Labels", {})[DATA_LABEL] = "true"
            node.update(spec)
            self.env["_added_label"] = node.id
        (self.workdir / "runbooks").mkdir(parents=True, exist_ok=True)
        run("cp", "-r", str(Path(__file__).with_name("runbooks")) + "/.", str(self.workdir / "runbooks"))
        self.workdir.chmod(0o755)
        self.env.update(JARVIS_DOMAIN="jarvis.e2e.test", ACME_EMAIL="ops@example.com", JARVIS_IMAGE=IMAGE,
                        JARVIS_E2E_DIR=str(self.workdir), DOCKER_GID=str(os.stat("/var/run/docker.sock").st_gid))

    def deploy(self) -> str:
        env = {**os.environ, **{k: v for k, v in self.env.items() if not k.startswith("_")}}
        return run("docker", "stack", "deploy", "--resolve-image", "never", "--prune", "-c", str(STACK_FILE),
                   "-c", str(OVERRIDE), STACK, env=env, cwd=ROOT).stdout

    def remove(self) -> None:
        subprocess.run(["docker", "stack", "rm", STACK], capture_output=True, timeout=120)
        wait_for(lambda: not self.client.containers.list(all=True, filters={"label": f"com.docker.stack.namespace={STACK}"}),
                 120, "stack containers gone")
        wait_for(lambda: not self.client.networks.list(filters={"label": f"com.docker.stack.namespace={STACK}"}),
                 60, "stack networks gone")
        for vol in self.client.volumes.list(filters={"label": f"com.docker.stack.namespace={STACK}"}):
            vol.remove(force=True)
        for name in SECRETS:
            self._remove_secret(name)
        if self.env.get("_added_label"):
            node = self.client.nodes.get(self.env["_added_label"])
            spec = node.attrs["Spec"]
            spec.get("Labels", {}).pop(DATA_LABEL, None)
            node.update(spec)

    def _remove_secret(self, name: str) -> None:
        for s in self.client.secrets.list(filters={"name": name}):
            if s.name == name:
                s.remove()

    # -- state of services and tasks --------------------------------------------------------------
    def service(self, name: str):
        return self.client.services.get(f"{STACK}_{name}")

    def services(self) -> list:
        return self.client.services.list(filters={"label": f"com.docker.stack.namespace={STACK}"})

    def running_tasks(self, name: str) -> list[dict]:
        return [t for t in self.service(name).tasks(filters={"desired-state": "running"})
                if t["Status"]["State"] == "running"]

    def health(self, container_id: str) -> str:
        state = self.client.api.inspect_container(container_id)["State"]
        return (state.get("Health") or {}).get("Status", "none")

    def service_ready(self, svc) -> bool:
        spec = svc.attrs["Spec"]
        name = spec["Name"][len(STACK) + 1:]
        if name == "migrate":
            return any(t["Status"]["State"] == "complete" for t in svc.tasks())
        want = spec["Mode"].get("Replicated", {}).get("Replicas", 1)
        tasks = self.running_tasks(name)
        return len(tasks) == want and all(
            self.health(t["Status"]["ContainerStatus"]["ContainerID"]) in ("healthy", "none") for t in tasks)

    def wait_healthy(self, timeout: float = 300) -> float:
        started = time.monotonic()
        wait_for(lambda: all(self.service_ready(s) for s in self.services()), timeout, "every service healthy",
                 every=1)
        return time.monotonic() - started

    def container(self, task: dict) -> str:
        return task["Status"]["ContainerStatus"]["ContainerID"]

    # -- the API replicas -------------------------------------------------------------------------
    def api_replicas(self, healthy_only: bool = True) -> list[Replica]:
        out = []
        for t in self.running_tasks("api"):
            cid = self.container(t)
            if healthy_only and self.health(cid) != "healthy":
                continue
            ports = self.client.api.inspect_container(cid)["NetworkSettings"]["Ports"].get("8080/tcp") or []
            if ports:
                out.append(Replica(t["ID"], cid, int(ports[0]["HostPort"])))
        return out

    def http(self, replica: Replica, timeout: float = 10) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=replica.url, headers=headers, timeout=timeout)

    def exec(self, container_id: str, *cmd: str, stdin: str | None = None) -> str:
        return run("docker", "exec", "-i", container_id, *cmd, input=stdin).stdout

    def logs(self, name: str) -> str:
        """Every task's log lines (Jarvis logs to stderr, `print` goes to stdout)."""
        done = run("docker", "service", "logs", "--raw", f"{STACK}_{name}")
        return done.stdout + done.stderr


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def make_repo(path: Path) -> None:
    """A git repository as a team would have it: Jarvis's own deploy/ and examples/jarvis-self."""
    path.mkdir(parents=True)
    run("cp", "-r", str(ROOT / "deploy"), str(path / "deploy"))
    (path / "examples").mkdir()
    run("cp", "-r", str(ROOT / "examples" / "jarvis-self"), str(path / "examples" / "jarvis-self"))
    git = ["git", "-C", str(path), "-c", "user.name=e2e", "-c", "user.email=e2e@example.com"]
    run(*git, "init", "-q", "-b", "main")
    run(*git, "add", "-A")
    run(*git, "commit", "-q", "-m", "Jarvis under Jarvis")
    run("chmod", "-R", "a+rX", str(path))


def psql(stack: Stack, sql: str) -> str:
    task = stack.running_tasks("postgres")[0]
    return stack.exec(stack.container(task), "psql", "-U", "jarvis", "-d", "jarvis", "-tAc", sql).strip()
