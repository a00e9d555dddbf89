"""A docker connection over tcp:// with TLS: the client's CA, certificate and key from the
connection's secrets, against a mutual-TLS proxy in front of this machine's real engine."""

from __future__ import annotations

import datetime as dt
import glob
import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from controller.contract import ConnectionInfo
from reconcilers.swarm import SwarmReconciler
from tests.support import relay


def _cert(name: str, issuer=None, issuer_key=None, ca=False, san=None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert, key, pem, key_pem


class TlsEngineProxy:
    """Mutual TLS on 127.0.0.1, bytes passed on to /var/run/docker.sock."""

    def __init__(self, tmp, ca_pem, server_pem, server_key_pem):
        (tmp / "ca.pem").write_text(ca_pem)
        (tmp / "srv.pem").write_text(server_pem)
        (tmp / "srv.key").write_text(server_key_pem)
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tmp / "ca.pem"))
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.ctx.load_cert_chain(str(tmp / "srv.pem"), str(tmp / "srv.key"))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        self.refused = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(raw,), daemon=True).start()

    def _one(self, raw):
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            raw.close()
            return
        engine = socket.socket(socket.AF_UNIX)
        engine.connect("/var/run/docker.sock")
        relay.join(conn, engine)

    def close(self):
        self.sock.close()


@pytest.fixture
def pki(tmp_path):
    import ipaddress

    ca, ca_key, ca_pem, _ = _cert("jarvis-test-ca", ca=True)
    _, _, srv_pem, srv_key = _cert("127.0.0.1", ca.subject, ca_key,
                                   san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    _, _, cli_pem, cli_key = _cert("jarvis", ca.subject, ca_key)
    proxy = TlsEngineProxy(tmp_path, ca_pem, srv_pem, srv_key)
    yield proxy, {"tls_ca": ca_pem, "tls_cert": cli_pem, "tls_key": cli_key}
    proxy.close()


def test_check_over_mutual_tls(pki, swarm_engine):
    proxy, secrets = pki
    before = set(glob.glob("/tmp/jarvis-docker-tls-*"))
    conn = ConnectionInfo(name="tls", type="docker", config={"base_url": f"tcp://127.0.0.1:{proxy.port}"},
                          secrets=secrets)
    result = SwarmReconciler().check(conn)
    assert result.ok, result.message
    assert set(glob.glob("/tmp/jarvis-docker-tls-*")) == before      # key material removed on close


def test_without_a_client_certificate_the_engine_refuses(pki, swarm_engine):
    proxy, secrets = pki
    conn = ConnectionInfo(name="tls", type="docker", config={"base_url": f"tcp://127.0.0.1:{proxy.port}"},
                          secrets={"tls_ca": secrets["tls_ca"]})
    result = SwarmReconciler().check(conn)
    # TLS 1.3 tells the client after the handshake; the client's error names the missing certificate
    message = result.message.lower().replace("_", " ")
    assert not result.ok
    assert "certificate required" in message or "handshake" in message or proxy.refused >= 1, result.message
