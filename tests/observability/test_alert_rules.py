"""The alert rules in deploy/prometheus/rules: valid for Prometheus, each tested by `promtool test
rules`, and firing in a real Prometheus that scrapes a running Jarvis."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from controller.store.db import Database
from controller.store.models import Job, utcnow
from tests.deploy.fullstack import wait_for
from tests.observability.prometheus_server import RULES, Prometheus, promtool, without_for
from tests.support import pg
from tests.support.jarvis_server import JarvisServer
from tests.support.redis_server import RedisServer

UNIT_TESTS = Path(__file__).parent / "prometheus" / "jarvis_rules_test.yml"
TOKEN = "prometheus-scrape-" + "t" * 20


def test_the_rules_are_valid_for_prometheus():
    assert RULES, "no rule file in deploy/prometheus/rules"
    done = promtool("check", "rules", *map(str, RULES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_rule_fires_on_its_condition_and_stays_silent_otherwise():
    done = promtool("test", "rules", str(UNIT_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr
    tested = {line.split(":", 1)[1].strip() for line in UNIT_TESTS.read_text().splitlines()
              if line.strip().startswith("alertname:")}
    declared = {line.split(":", 1)[1].strip() for rules in RULES for line in rules.read_text().splitlines()
                if line.strip().startswith("- alert:")}
    assert declared == tested, f"rules without a promtool test: {declared - tested}"


@pytest.fixture
def jarvis(tmp_path):
    """`jarvis serve` with its own database and Redis (so no worker claims the jobs the test leaves pending)."""
    name = pg.create_database("jarvis_prom")
    redis = RedisServer().start()
    (tmp_path / "jarvis").mkdir()
    token = tmp_path / "metrics_token"
    token.write_text(TOKEN)
    server = JarvisServer(pg.sqlalchemy_url(name), tmp_path / "jarvis",
                          {"JARVIS_REDIS_URL": redis.url, "JARVIS_METRICS_TOKEN_FILE": str(token)})
    try:
        yield server.start()
    finally:
        server.stop()
        redis.stop()
        pg.drop_database(name)


def _prometheus(workdir: Path, jarvis: JarvisServer, token: str) -> Prometheus:
    """Prometheus scraping `jarvis` as the stack's does (bearer token from a file), with the deployed rules."""
    workdir.mkdir()
    (workdir / "token").write_text(token)
    scrape = [{"job_name": "jarvis-api", "authorization": {"credentials_file": str(workdir / "token")},
               "static_configs": [{"targets": [jarvis.url.removeprefix("http://")]}]}]
    return Prometheus(workdir, scrape, [without_for(r, workdir / r.name) for r in RULES]).start()


def test_prometheus_scrapes_jarvis_with_its_token_and_the_rules_fire(jarvis, tmp_path):
    db = Database(jarvis.env["JARVIS_DATABASE_URL"])
    with db.session() as s:    # a job nobody claims for an hour; no controller runs, so none leads
        s.add(Job(runbook="restart-service", status="pending", created_at=utcnow() - dt.timedelta(hours=1)))
    db.dispose()
    prom = _prometheus(tmp_path / "prom", jarvis, TOKEN)
    try:
        firing = wait_for(lambda: (f := prom.firing()) and {"JarvisQueueStuck", "JarvisNoLeader"} <= set(f) and f,
                          60, "JarvisQueueStuck and JarvisNoLeader firing")
        (target,) = prom.api("targets")["activeTargets"]
        assert target["health"] == "up", target["lastError"]
        assert float(firing["JarvisQueueStuck"][0]["value"]) >= 3600
        # the healthy conditions stay silent: the API answers, its database too, no source is late
        assert not {"JarvisApiDown", "JarvisDatabaseDown", "JarvisSourceNotReconciled"} & set(firing)
    finally:
        prom.stop()


def test_a_wrong_token_is_a_failed_scrape_and_fires_api_down(jarvis, tmp_path):
    prom = _prometheus(tmp_path / "prom", jarvis, "not-the-token")
    try:
        wait_for(lambda: "JarvisApiDown" in prom.firing(), 60, "JarvisApiDown firing")
        (target,) = prom.api("targets")["activeTargets"]
        assert "401" in target["lastError"]
    finally:
        prom.stop()
