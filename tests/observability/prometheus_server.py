"""Debian's `prometheus` (and `promtool`) run for a test: a private server on a loopback port with its
own storage, scraping what the test names and evaluating the rule files it is given."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from tests.deploy.fullstack import wait_for
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: tests/run.sh installs Debian's prometheus package"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


def without_for(rules: Path, out: Path) -> Path:
    """The rules as deployed, with every `for:` dropped, so a test sees them fire in seconds."""
    doc = yaml.safe_load(rules.read_text())
    for group in doc["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            rule.pop("for", None)
    out.write_text(yaml.safe_dump(doc))
    return out


class Prometheus:
    def __init__(self, workdir: Path, scrape: list[dict], rule_files: list[Path], alertmanager: str = "") -> None:
        self.workdir, self.port = workdir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "rule_files": [str(p) for p in rule_files], "scrape_configs": scrape}
        if alertmanager:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump(config))
        self.log = workdir / "prometheus.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Prometheus:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is missing: tests/run.sh installs Debian's prometheus package"
        check = promtool("check", "config", str(self.config))
        assert check.returncode == 0, check.stdout + check.stderr
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([binary, f"--config.file={self.config}",
                                          f"--storage.tsdb.path={self.workdir / 'data'}",
                                          f"--web.listen-address=127.0.0.1:{self.port}"],
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200, 60, "prometheus ready")
        return self

    def api(self, path: str) -> dict:
        res = httpx.get(f"{self.url}/api/v1/{path}", timeout=5)
        res.raise_for_status()
        return res.json()["data"]

    def firing(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for alert in self.api("alerts")["alerts"]:
            if alert["state"] == "firing":
                out.setdefault(alert["labels"]["alertname"], []).append(alert)
        return out

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
