"""The deployment files: the Swarm stack, the image, the log pipeline and the CI workflow.

What an operator relies on: `docker stack deploy` accepts the stack, every `JARVIS_*` variable it
sets is one Jarvis reads (a typo would be silently ignored at run time), every secret and config
it mounts is declared, the services update without downtime and roll back, and the commands in
deploy/README.md produce keys Jarvis accepts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from controller.settings import Settings
from tests.deploy import alloy

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STACK = DEPLOY / "stack.yml"
DEPLOY_ENV = {"JARVIS_DOMAIN": "jarvis.example.com", "ACME_EMAIL": "ops@example.com"}
JARVIS_SERVICES = {"api", "worker", "controller", "migrate"}
STATEFUL = {"postgres", "redis", "loki", "grafana", "traefik", "prometheus"}


@pytest.fixture(scope="module")
def stack() -> dict:
    return yaml.safe_load(STACK.read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _interpolate(value: str) -> str:
    return re.sub(r"\$\{(\w+)[^}]*\}", lambda m: DEPLOY_ENV.get(m.group(1), ""), value)


def test_stack_has_every_part_of_the_design(stack):
    assert set(stack["services"]) == {"traefik", "api", "worker", "controller", "migrate", "postgres", "redis",
                                      "loki", "alloy", "grafana", "prometheus"}


def test_docker_stack_config_accepts_the_stack():
    done = subprocess.run(["docker", "stack", "config", "-c", str(STACK)], capture_output=True, text=True,
                          env={**os.environ, **DEPLOY_ENV}, timeout=60)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert resolved["services"]["api"]["environment"]["JARVIS_PUBLIC_URL"] == "https://jarvis.example.com"
    # config files resolve next to the stack file, whatever directory deploy runs from
    for cfg in resolved["configs"].values():
        assert Path(cfg["file"]).is_file(), cfg


def test_deploy_without_the_domain_fails_naming_it():
    env = {k: v for k, v in os.environ.items() if k not in DEPLOY_ENV}
    done = subprocess.run(["docker", "stack", "config", "-c", str(STACK)], capture_output=True, text=True,
                          env={**env, "ACME_EMAIL": "ops@example.com"}, timeout=60)
    assert done.returncode != 0
    assert "JARVIS_DOMAIN" in done.stderr


def test_every_service_has_a_healthcheck_or_says_why_not(stack):
    for name, svc in stack["services"].items():
        hc = svc.get("healthcheck")
        assert hc, f"{name}: no healthcheck"
        if hc.get("disable"):
            assert svc.get("x-healthcheck-reason", "").strip(), f"{name}: healthcheck disabled without a reason"
        else:
            assert hc.get("test"), f"{name}: healthcheck without a test"


def test_every_jarvis_variable_is_a_setting_jarvis_reads(stack):
    fields = {f"JARVIS_{name.upper()}" for name in Settings.model_fields}
    for name in JARVIS_SERVICES:
        for key in _env(stack["services"][name]):
            if key.startswith("JARVIS_"):
                assert key in fields, f"{name}: {key} is not a Jarvis setting (typo?)"


def test_every_jarvis_service_environment_is_valid_settings(stack, monkeypatch):
    """The values parse too: list settings must be JSON, booleans booleans."""
    for name in JARVIS_SERVICES:
        for key in [k for k in os.environ if k.startswith("JARVIS_")]:
            monkeypatch.delenv(key)
        for key, value in _env(stack["services"][name]).items():
            monkeypatch.setenv(key, _interpolate(value))
        s = Settings(_env_file=None)
        assert s.embedded is False, name
        assert s.database_url.startswith("postgresql+psycopg://"), name
        assert s.redis_url.startswith("redis://"), name
        assert s.secret_key == "", f"{name}: the key must come from the secret file, not the environment"
        assert str(s.key_file) == "/run/secrets/jarvis_secret_key"
        assert str(s.keyring_path) == "/run/secrets/jarvis_keyring"


def test_api_runs_only_the_api_behind_the_edge_network_as_trusted_proxy(stack, monkeypatch):
    api = stack["services"]["api"]
    env = _env(api)
    assert env["JARVIS_RUN_WORKER"] == "false" and env["JARVIS_RUN_CONTROLLER"] == "false"
    assert api["deploy"]["replicas"] == 2
    monkeypatch.setenv("JARVIS_TRUSTED_PROXIES", env["JARVIS_TRUSTED_PROXIES"])
    edge_subnets = [c["subnet"] for c in stack["networks"]["edge"]["ipam"]["config"]]
    assert Settings(_env_file=None).trusted_proxies == edge_subnets
    assert "edge" in api["networks"] and "edge" in stack["services"]["traefik"]["networks"]


def test_commands_are_ones_the_jarvis_cli_accepts(stack):
    jarvis = str(Path(sys.executable).with_name("jarvis"))
    expected = {"api": ["serve"], "worker": ["worker", "--concurrency", "4"], "controller": ["controller"],
                "migrate": ["db", "upgrade"]}
    for name, command in expected.items():
        assert stack["services"][name]["command"] == command
        done = subprocess.run([jarvis, *command, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}: jarvis {' '.join(command)}: {done.stderr}"


def test_replicas_and_migration_run_once(stack):
    svcs = stack["services"]
    assert svcs["worker"]["deploy"]["replicas"] == 2
    assert svcs["controller"]["deploy"]["replicas"] == 2
    assert svcs["migrate"]["deploy"]["restart_policy"]["condition"] in ("none", "on-failure")
    assert svcs["alloy"]["deploy"]["mode"] == "global"


def test_secrets_and_configs_referenced_are_declared(stack):
    for name, svc in stack["services"].items():
        for ref in svc.get("secrets", []):
            source = ref if isinstance(ref, str) else ref["source"]
            assert source in stack["secrets"], f"{name}: secret {source} is not declared"
            if not isinstance(ref, str) and ref.get("uid"):
                assert ref["mode"] == 0o400, f"{name}: {source} readable by more than its owner"
        for ref in svc.get("configs", []):
            assert ref["source"] in stack["configs"], f"{name}: config {ref['source']} is not declared"
        for vol in svc.get("volumes", []):
            src = vol.split(":", 1)[0]
            assert src.startswith("/") or src in stack["volumes"], f"{name}: volume {src} is not declared"
    for cfg in stack["configs"].values():
        assert (DEPLOY / cfg["file"]).is_file(), cfg


def test_file_settings_point_at_mounted_secrets(stack):
    for name in JARVIS_SERVICES:
        svc = stack["services"][name]
        mounted = {f"/run/secrets/{r['target'] if isinstance(r, dict) else r}" for r in svc["secrets"]}
        env = _env(svc)
        for key in ("JARVIS_SECRET_KEY_FILE", "JARVIS_KEYRING_FILE", "PGPASSFILE"):
            assert env[key] in mounted, f"{name}: {key}={env[key]} is not a mounted secret"


def test_updates_roll_without_downtime_and_roll_back(stack):
    for name, svc in stack["services"].items():
        if name == "migrate":
            continue
        upd = svc["deploy"]["update_config"]
        assert upd["failure_action"] == "rollback", name
        # two copies of a stateful service on one volume (or one host port) must never overlap
        assert upd["order"] == ("stop-first" if name in STATEFUL or svc["deploy"].get("mode") == "global"
                                else "start-first"), name
        assert svc["deploy"]["resources"]["limits"], f"{name}: no resource limits"


def test_redis_keeps_the_queue_across_restarts(stack):
    cmd = stack["services"]["redis"]["command"]
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert stack["services"]["postgres"]["image"].startswith("postgres:16")
    assert stack["services"]["redis"]["image"].startswith("redis:7")


def test_grafana_provisions_loki_prometheus_and_the_jarvis_dashboard(stack):
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/datasources.yml").read_text())["datasources"]
    by_type = {d["type"]: d for d in ds}
    assert by_type["loki"]["url"] == f"http://loki:{_port(stack, 'loki', 3100)}"
    assert by_type["prometheus"]["url"] == f"http://prometheus:{_port(stack, 'prometheus', 9090)}"
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/dashboards.yml").read_text())["providers"]
    mounts = {c["source"]: c["target"] for c in stack["services"]["grafana"]["configs"]}
    dashboard_target = mounts["grafana_dashboard_jarvis"]
    assert dashboard_target.startswith(providers[0]["options"]["path"] + "/")
    dash = json.loads((DEPLOY / stack["configs"]["grafana_dashboard_jarvis"]["file"]).read_text())
    uids = {d["uid"] for d in ds}
    assert dash["panels"] and dash["uid"] == "jarvis-overview"
    for panel in dash["panels"]:
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def _port(stack: dict, service: str, default: int) -> int:
    """The port a service listens on, as its healthcheck reaches it (the stack publishes none)."""
    test = " ".join(stack["services"][service]["healthcheck"]["test"])
    m = re.search(r"127\.0\.0\.1:(\d+)", test)
    return int(m.group(1)) if m else default


def test_alloy_ships_this_stack_to_the_loki_grafana_reads(stack):
    config = alloy.parse((DEPLOY / "alloy" / "config.alloy").read_text())
    alloy.check_references(config)
    blocks = {(b.kind, b.label): b for b in config}
    docker_sd = blocks[("discovery.docker", "stack")]
    filters = [b.attrs for b in docker_sd.blocks if b.kind == "filter"]
    assert {"name": "label", "values": ["com.docker.stack.namespace=jarvis"]} in filters
    source = blocks[("loki.source.docker", "stack")]
    assert source.attrs["host"] == "unix:///var/run/docker.sock"
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in stack["services"]["alloy"]["volumes"]
    writes = [b for b in config if b.kind == "loki.write"]
    urls = [e.attrs["url"] for w in writes for e in w.blocks if e.kind == "endpoint"]
    assert urls == [f"http://loki:{_port(stack, 'loki', 3100)}/loki/api/v1/push"]
    # the stack mounts this file where the command reads it
    alloy_svc = stack["services"]["alloy"]
    target = next(c["target"] for c in alloy_svc["configs"] if c["source"] == "alloy_config")
    assert alloy_svc["command"][-1] == target and alloy_svc["command"][0] == "run"
    assert stack["configs"]["alloy_config"]["file"] == "./alloy/config.alloy"


def test_prometheus_scrapes_every_api_replica_and_reads_the_rules_folder(stack):
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    sd = jobs["jarvis-api"]["dns_sd_configs"][0]
    assert sd["names"] == ["tasks.api"] and sd["port"] == 8080 and sd["type"] == "A"
    assert prom["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    mounts = {c["source"]: c["target"] for c in stack["services"]["prometheus"]["configs"]}
    assert mounts["prometheus_config"] == "/etc/prometheus/prometheus.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in stack["services"]["prometheus"]["command"]
    # every rule file in deploy/ is mounted where rule_files looks
    rules = {f"/etc/prometheus/rules/{p.name}" for p in (DEPLOY / "prometheus" / "rules").glob("*.yml")}
    assert rules and rules <= set(mounts.values())


def test_prometheus_and_the_api_share_the_metrics_token(stack, monkeypatch):
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "jarvis-api")
    path = job["authorization"]["credentials_file"]
    secrets_of = {name: {(r["source"], f"/run/secrets/{r['target']}") for r in stack["services"][name]["secrets"]}
                  for name in ("api", "prometheus")}
    assert ("jarvis_metrics_token", path) in secrets_of["prometheus"]
    monkeypatch.setenv("JARVIS_METRICS_TOKEN_FILE", _env(stack["services"]["api"])["JARVIS_METRICS_TOKEN_FILE"])
    assert ("jarvis_metrics_token", str(Settings(_env_file=None).metrics_token_file)) in secrets_of["api"]
    assert "jarvis_metrics_token" not in str(stack["services"]["worker"].get("secrets"))   # only who needs it
