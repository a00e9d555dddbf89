"""The production Portainer client against the emulator: both ways to authenticate, an expired JWT,
5xx answers, a slow server, and the Docker proxy reaching the real engine."""

from __future__ import annotations

import pytest

from reconcilers.portainer.client import PortainerClient, PortainerError
from tests.portainer.conftest import API_KEY, PASSWORD, USER


def test_access_token_and_docker_proxy(emulator):
    with PortainerClient(emulator.url, api_key=API_KEY) as c:
        (ep,) = c.endpoints()
        assert ep["Name"] == "prod" and ep["Snapshots"][0]["Swarm"] is True
        info = c.docker(ep["Id"], "GET", "/info").json()       # the real engine answers through the proxy
        assert info["Swarm"]["ControlAvailable"] is True
        assert c.swarm_id(ep["Id"]) == info["Swarm"]["Cluster"]["ID"]
    assert emulator.requests["POST /auth"] == 0


def test_expired_jwt_logs_in_again_once(emulator):
    with PortainerClient(emulator.url, username=USER, password=PASSWORD) as c:
        c.stacks()
        assert emulator.requests["POST /auth"] == 1
        c.stacks()
        assert emulator.requests["POST /auth"] == 1            # the JWT is reused while it is valid
        emulator.expire_jwts()
        assert c.stacks() == []
        assert emulator.requests["POST /auth"] == 2


def test_wrong_password_is_a_clear_error_without_the_password(emulator):
    with PortainerClient(emulator.url, username=USER, password="not-it") as c, \
            pytest.raises(PortainerError, match="HTTP 422") as err:
        c.stacks()
    assert "not-it" not in str(err.value)


def test_reads_retry_a_5xx_and_writes_do_not(emulator):
    with PortainerClient(emulator.url, api_key=API_KEY, backoff=0.01) as c:
        emulator.fail_next(2, 502)
        assert c.stacks() == []
        assert emulator.requests["GET /stacks"] == 3
        emulator.fail_next(1, 500)
        with pytest.raises(PortainerError, match="HTTP 500"):
            c.delete_stack(99, 1)
        assert emulator.requests["DELETE /stacks/{id}"] == 1


def test_slow_server_times_out_as_no_answer(emulator):
    emulator.delay = 1.0
    with PortainerClient(emulator.url, api_key=API_KEY, timeout=0.2, max_retries=0) as c, \
            pytest.raises(PortainerError, match="did not answer"):
        c.stacks()
    emulator.delay = 0


def test_missing_credentials_are_refused_up_front():
    with pytest.raises(PortainerError, match="needs an api_key, or a username and a password"):
        PortainerClient("http://127.0.0.1:9", username="only-a-user")
