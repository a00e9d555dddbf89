"""The full stack, deployed once per session for tests/deploy/test_stack.py (see fullstack.py)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.deploy import fullstack as fs


@pytest.fixture(scope="session")
def stack():
    st = fs.Stack(Path(tempfile.mkdtemp(prefix="jarvis-e2e-")))
    try:
        st.figures["build_s"] = round(fs.build_images(), 1)
        st.prepare()
        fs.make_repo(st.workdir / "repo")
        st.deploy()
        st.figures["deploy_to_healthy_s"] = round(st.wait_healthy(), 1)
        api = st.api_replicas()[0]
        # the first user, as deploy/README.md adds it
        st.exec(api.container_id, "jarvis", "user", "add", "--email", fs.EMAIL, "--role", "admin",
                "--password-stdin", stdin=fs.PASSWORD + "\n")
        res = httpx.post(f"{api.url}/api/auth/login", json={"email": fs.EMAIL, "password": fs.PASSWORD}, timeout=30)
        assert res.status_code == 200, res.text
        st.token = res.json()["access_token"]
        yield st
    finally:
        out = Path(os.environ.get("JARVIS_E2E_FIGURES", "/tmp/jarvis-e2e-figures.json"))
        out.write_text(json.dumps(st.figures, indent=2))
        st.remove()
        fs.run("rm", "-rf", str(st.workdir))
        # jarvis:e2e stays: its layers are the next run's build cache; the rolled tag is one label
        subprocess.run(["docker", "rmi", f"{fs.IMAGE}-rolled"], capture_output=True, timeout=60)
