"""`jarvis serve` as a real process on a loopback port: for tests and benchmarks that need what a
deployment runs (uvicorn, several worker processes, something Prometheus or Alertmanager can reach)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.redis_server import free_port


class JarvisServer:
    """`jarvis serve` in a subprocess on a free port, with its own data dir and database."""

    def __init__(self, database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None,
                 serve_args: tuple[str, ...] = ()) -> None:
        self.serve_args = serve_args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "serve.log"
        self.env = {**os.environ,
                    "JARVIS_DATABASE_URL": database_url, "JARVIS_DATA_DIR": str(data_dir),
                    "JARVIS_EMBEDDED": "true", "JARVIS_RUN_WORKER": "false", "JARVIS_RUN_CONTROLLER": "false",
                    "JARVIS_EXAMPLES_SOURCE": "false", "JARVIS_HOST": "127.0.0.1", "JARVIS_PORT": str(self.port),
                    "JARVIS_REQUESTS_PER_MINUTE": str(10**9), "JARVIS_ACCESS_TOKEN_MINUTES": "120",
                    **(extra_env or {})}
        self.proc: subprocess.Popen | None = None

    def jarvis(self, *args: str, stdin: str = "") -> str:
        done = subprocess.run([jarvis_bin(), *args], env=self.env, input=stdin, capture_output=True,
                              text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"jarvis {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, timeout: float = 60) -> JarvisServer:
        log = open(self.log_path, "wb")   # noqa: SIM115 (owned by the process until stop)
        self.proc = subprocess.Popen([jarvis_bin(), "serve", *self.serve_args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.env["JARVIS_DATA_DIR"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jarvis serve exited {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jarvis serve did not answer /healthz in {timeout}s: {self.log_tail()}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used: load-independent cost per request."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, n: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def jarvis_bin() -> str:
    return str(Path(sys.executable).with_name("jarvis"))
