"""The one shape a step receives its connection in: what the worker writes is what a playbook reads,
secrets only through the environment, and a docker connection without an address opens nothing."""

from __future__ import annotations

import json

import pytest

from controller.contract import ConnectionInfo
from controller.jobs import step_connection
from controller.jobs.step_connection import ConnectionShapeError
from reconcilers.swarm.engine import EngineUnreachable, client_for

CONN = ConnectionInfo(name="prod-swarm", type="docker", environment="production",
                      config={"base_url": "tcp://10.0.0.2:2376", "tls": True},
                      secrets={"tls_ca": "CA-PEM", "tls_key": "KEY-PEM"})


def test_what_the_worker_writes_the_playbook_reads_back():
    value, env = step_connection.to_vars(CONN), step_connection.to_env(CONN)
    assert "KEY-PEM" not in json.dumps(value)                       # a variable never holds a secret
    assert env == {"JARVIS_SECRET_TLS_CA": "CA-PEM", "JARVIS_SECRET_TLS_KEY": "KEY-PEM"}
    assert step_connection.read(value, env) == CONN
    assert step_connection.read(json.dumps(value), env) == CONN      # as a runbook's command line passes it


def test_unrelated_environment_is_not_taken_for_a_secret():
    env = {**step_connection.to_env(CONN), "JARVIS_SECRET_KEY_FILE": "/run/secrets/jarvis_secret_key"}
    assert step_connection.read(step_connection.to_vars(CONN), env).secrets == CONN.secrets


def test_a_missing_secret_or_another_shape_is_an_error_in_words():
    with pytest.raises(ConnectionShapeError, match="JARVIS_SECRET_TLS_KEY"):
        step_connection.read(step_connection.to_vars(CONN), {"JARVIS_SECRET_TLS_CA": "CA-PEM"})
    with pytest.raises(ConnectionShapeError, match="not a connection"):
        step_connection.read({"base_url": "tcp://10.0.0.2:2376"}, {})      # a bare config, the old defect
    with pytest.raises(ConnectionShapeError, match="no connection"):
        step_connection.read(None, {})


def test_a_docker_connection_without_an_address_opens_nothing():
    with pytest.raises(EngineUnreachable, match="base_url"):
        client_for(ConnectionInfo(name="nowhere", type="docker", config={}))
