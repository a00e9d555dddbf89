"""Debian's `prometheus-alertmanager` run for a test: a private server on a loopback port, with no
cluster peer, sending every group to one webhook receiver at once (1 s group wait and interval)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from tests.deploy.fullstack import wait_for
from tests.support.redis_server import free_port


class Alertmanager:
    def __init__(self, workdir: Path, webhook_url: str, token: str) -> None:
        self.workdir, self.port = workdir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "token").write_text(token)
        config = {
            "route": {"receiver": "jarvis", "group_by": ["alertname", "instance"], "group_wait": "1s",
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "jarvis", "webhook_configs": [{
                "url": webhook_url, "send_resolved": True, "max_alerts": 100,
                "http_config": {"authorization": {"credentials_file": str(workdir / "token")}}}]}],
        }
        self.config = workdir / "alertmanager.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.log = workdir / "alertmanager.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Alertmanager:
        binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        assert binary, "alertmanager is missing: tests/run.sh installs Debian's prometheus-alertmanager"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([binary, f"--config.file={self.config}",
                                          f"--storage.path={self.workdir / 'data'}",
                                          f"--web.listen-address=127.0.0.1:{self.port}",
                                          "--cluster.listen-address="],
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200, 60, "alertmanager ready")
        return self

    def post(self, labels: dict[str, str], annotations: dict[str, str] | None = None, *,
             resolved: bool = False) -> None:
        """An alert as Prometheus sends it; `resolved` ends it now (Alertmanager then sends it resolved)."""
        now = dt.datetime.now(dt.UTC)
        alert = {"labels": labels, "annotations": annotations or {}, "generatorURL": "http://prometheus.test/graph",
                 "startsAt": (now - dt.timedelta(minutes=5)).isoformat()}
        if resolved:
            alert["endsAt"] = (now - dt.timedelta(seconds=1)).isoformat()
        res = httpx.post(f"{self.url}/api/v2/alerts", json=[alert], timeout=5)
        assert res.status_code == 200, res.text

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
