"""A docker connection over tcp:// with TLS: the client's CA, certificate and key from the
connection's secrets, against a mutual-TLS proxy in front of this machine's real engine."""

from __future__ import annotations

import glob

import pytest

from controller.contract import ConnectionInfo
from reconcilers.swarm import SwarmReconciler
from tests.support.engine_proxy import TlsEngineProxy
from tests.support.waiting import wait_for


@pytest.fixture
def proxy():
    p = TlsEngineProxy()
    yield p
    p.close()


def test_check_over_mutual_tls(proxy, swarm_engine):
    before = set(glob.glob("/tmp/jarvis-docker-tls-*"))
    conn = ConnectionInfo(name="tls", type="docker", config={"base_url": proxy.base_url},
                          secrets=proxy.client_secrets)
    result = SwarmReconciler().check(conn)
    assert result.ok, result.message
    assert proxy.log.matching("GET /info")                            # it went through the proxy
    assert set(glob.glob("/tmp/jarvis-docker-tls-*")) == before      # key material removed on close


def test_without_a_client_certificate_the_engine_refuses(proxy, swarm_engine):
    conn = ConnectionInfo(name="tls", type="docker", config={"base_url": proxy.base_url},
                          secrets={"tls_ca": proxy.client_secrets["tls_ca"]})
    result = SwarmReconciler().check(conn)
    assert not result.ok and proxy.base_url in result.message, result.message
    # the engine's side refused the handshake for want of a certificate (TLS 1.3 tells the client only
    # after its handshake, so its words vary: "certificate required", or an EOF); the proxy's thread may
    # count the refusal just after the client gave up
    wait_for(lambda: proxy.refused >= 1, "the proxy's refusal of the handshake", timeout=10, every=0.05)
