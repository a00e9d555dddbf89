"""The image's Dockerfile, its healthcheck script, deploy/README.md's key commands and the CI workflow.

The Dockerfile is checked for what the stack relies on (the image itself is built, on a local
Debian base, and run by tests/deploy/test_stack.py); the healthcheck script runs against a real
`jarvis serve`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from controller.security.keyring import Keyring
from controller.settings import Settings
from tests.support import pg
from tests.support.jarvis_server import JarvisServer
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
README = (DEPLOY / "README.md").read_text()
HEALTHCHECK = DEPLOY / "healthcheck.py"


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    return [(m.group(1).upper(), m.group(2)) for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", joined, re.M)
            if not m.group(0).lstrip().startswith("#")]


def test_dockerfile_runs_jarvis_as_a_non_root_user_with_a_healthcheck():
    ins = _instructions(DOCKERFILE)
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim-bookworm") in ins
    users = [arg for op, arg in ins if op == "USER"]
    assert users and not users[-1].startswith(("root", "0")), users
    assert ("ENTRYPOINT", '["tini", "--", "jarvis"]') in ins
    assert ins[-1] == ("CMD", '["serve"]')
    assert any(op == "HEALTHCHECK" and "jarvis-healthcheck" in arg for op, arg in ins)
    assert any(op == "RUN" and "pip install" in arg for op, arg in ins)
    assert any(op == "RUN" and "openssh-client" in arg for op, arg in ins), "ansible needs ssh"


def test_dockerfile_copies_only_what_exists_and_is_not_ignored():
    ignored = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for op, arg in _instructions(DOCKERFILE):
        if op == "COPY" and "--from" not in arg:
            for src in arg.split()[:-1]:
                if src in ("pyproject.toml", "README.md"):
                    continue   # README.md is the lead's; pyproject.toml exists
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
                assert src.split("/")[0] not in ignored, f"COPY {src}: excluded by the dockerignore"
    assert (ROOT / "pyproject.toml").is_file()


def test_healthcheck_script_reports_a_live_jarvis_and_a_dead_port(tmp_path):
    db = pg.create_database("jarvis_deploy")
    server = JarvisServer(pg.sqlalchemy_url(db), tmp_path)
    try:
        server.start()
        env = {**server.env, "JARVIS_PORT": str(server.port)}
        alive = subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, timeout=30)
        assert alive.returncode == 0, alive.stderr
        ready = subprocess.run([sys.executable, str(HEALTHCHECK), "--path", "/readyz"], env=env,
                               capture_output=True, timeout=30)
        assert ready.returncode == 0, ready.stderr
        missing = subprocess.run([sys.executable, str(HEALTHCHECK), "--path", "/no-such-page"], env=env,
                                 capture_output=True, text=True, timeout=30)
        assert missing.returncode == 1
    finally:
        server.stop()
        pg.drop_database(db)
    dead = subprocess.run([sys.executable, str(HEALTHCHECK)], env={"JARVIS_PORT": str(free_port())},
                          capture_output=True, text=True, timeout=30)
    assert dead.returncode == 1 and "unhealthy" in dead.stderr


def _readme_command(start: str) -> str:
    for line in README.splitlines():
        if line.startswith(start):
            return line
    raise AssertionError(f"deploy/README.md has no line starting {start!r}")


def test_readme_secret_commands_make_keys_jarvis_accepts(tmp_path, monkeypatch):
    from controller.runtime import _jwt_key

    key_cmd = _readme_command("openssl rand -base64 48").replace("docker secret create jarvis_secret_key -",
                                                                  f"cat > {tmp_path}/secret.key")
    subprocess.run(["bash", "-c", key_cmd], check=True, timeout=30)
    idx = README.index("printf '{\"active\"")
    ring_cmd = README[idx:README.index("docker secret create jarvis_keyring -", idx)] + f"cat > {tmp_path}/keyring.json"
    subprocess.run(["bash", "-c", ring_cmd], check=True, timeout=30)

    settings = Settings(_env_file=None, embedded=False, secret_key_file=tmp_path / "secret.key",
                        keyring_file=tmp_path / "keyring.json", data_dir=tmp_path)
    assert len(_jwt_key(settings)) >= 32
    ring = Keyring(settings.keyring_path)
    key_id, blob = ring.encrypt(b"token", b"connections:1")
    assert ring.decrypt(key_id, blob, b"connections:1") == b"token"

    token_cmd = _readme_command("openssl rand -base64 32").replace("docker secret create jarvis_metrics_token -",
                                                                    f"cat > {tmp_path}/metrics_token")
    subprocess.run(["bash", "-c", token_cmd], check=True, timeout=30)
    token = Settings(_env_file=None, metrics_token_file=tmp_path / "metrics_token").metrics_bearer
    assert len(token) >= 40 and token == (tmp_path / "metrics_token").read_text()   # one line, no newline


def test_readme_deploys_with_the_stack_file_and_adds_a_user():
    assert "docker stack deploy -c deploy/stack.yml jarvis" in README
    assert "jarvis user add --email" in README


def test_ci_workflow_runs_the_project_test_command():
    wf = yaml.safe_load((DEPLOY / "ci" / "github-workflow.yml").read_text())
    steps = wf["jobs"]["test"]["steps"]
    assert wf["jobs"]["test"]["runs-on"].startswith("ubuntu")
    assert any(s.get("with", {}).get("python-version") == "3.11" for s in steps)
    assert [s["run"] for s in steps if "run" in s] == ["bash tests/run.sh"]


def test_ci_workflow_lints_tests_pushes_the_commit_image_and_deploys_it():
    wf = yaml.safe_load((DEPLOY / "ci" / "github-workflow.yml").read_text())
    jobs = wf["jobs"]
    assert jobs["test"]["needs"] == "lint" and jobs["image"]["needs"] == "test" and jobs["deploy"]["needs"] == "image"
    assert any("ruff check" in s.get("run", "") for s in jobs["lint"]["steps"])
    push = next(s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("docker/build-push-action"))
    assert push["with"]["file"] == "deploy/Dockerfile" and push["with"]["push"] is True
    name = next(s for s in jobs["image"]["steps"] if s.get("id") == "name")["run"]
    assert "ghcr.io/" in name and "${GITHUB_SHA}" in name
    assert jobs["image"]["permissions"]["packages"] == "write"
    deploy = next(s for s in jobs["deploy"]["steps"] if "docker stack deploy" in s.get("run", ""))
    assert deploy["env"]["DOCKER_HOST"].startswith("ssh://")
    assert deploy["env"]["JARVIS_IMAGE"] == "${{ needs.image.outputs.image }}"
    assert "-c deploy/stack.yml jarvis" in deploy["run"]


def test_actionlint_accepts_the_ci_workflow():
    actionlint = Path(sys.executable).with_name("actionlint")
    done = subprocess.run([str(actionlint), "-no-color", str(DEPLOY / "ci" / "github-workflow.yml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_workflow_runs_what_ci_run_runs():
    ci_run = ROOT / ".ci" / "run"
    assert ci_run.is_file(), ".ci/run is missing: it must run `bash tests/run.sh`, as the workflow does"
    assert "bash tests/run.sh" in ci_run.read_text()
