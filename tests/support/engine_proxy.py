"""Ways to reach this machine's real Docker engine that are not its local socket, each recording the
Engine API requests that pass: a mutual-TLS proxy on 127.0.0.1 (a `tcp://` connection) and a relay
socket at another path (the `remote_socket` an `ssh://` connection forwards to). A request seen here
went through the connection's address; one that went to /var/run/docker.sock directly was not seen.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import socket
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import relay

ENGINE = "/var/run/docker.sock"
_REQUEST = re.compile(rb"(GET|POST|PUT|DELETE|HEAD) (/[^ ]*) HTTP/1\.[01]\r\n")
_VERSION = re.compile(r"^/v[0-9.]+")


class RequestLog:
    """Engine API requests seen, as "METHOD /path" without the API version prefix or the query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[str] = []

    def feed(self, data: bytes) -> None:
        found = [f"{m.decode()} {_VERSION.sub('', p.decode()).split('?', 1)[0]}" for m, p in _REQUEST.findall(data)]
        with self._lock:
            self._seen.extend(found)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    @property
    def requests(self) -> list[str]:
        with self._lock:
            return list(self._seen)

    def matching(self, pattern: str) -> list[str]:
        return [r for r in self.requests if re.fullmatch(pattern, r)]


def _to_engine(client: socket.socket, log: RequestLog) -> None:
    engine = socket.socket(socket.AF_UNIX)
    engine.connect(ENGINE)
    relay.join(client, engine, log.feed)


def _accept(listener: socket.socket, handle) -> None:
    """Hand every accepted connection to `handle` in a thread of its own, until `listener` closes."""
    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(client,), daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()


def cert(name: str, issuer=None, issuer_key=None, ca: bool = False, san=None):
    """(certificate, key, certificate PEM, key PEM), self-signed or signed by `issuer`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    signed = builder.sign(issuer_key or key, hashes.SHA256())
    pem = signed.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return signed, key, pem, key_pem


class TlsEngineProxy:
    """Mutual TLS on 127.0.0.1, bytes passed on to the engine's socket. `client_secrets` are what a
    docker connection's credentials hold to be let in (tls_ca, tls_cert, tls_key)."""

    def __init__(self) -> None:
        ca, ca_key, ca_pem, _ = cert("jarvis-test-ca", ca=True)
        _, _, srv_pem, srv_key = cert("127.0.0.1", ca.subject, ca_key,
                                      san=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        _, _, cli_pem, cli_key = cert("jarvis", ca.subject, ca_key)
        self.client_secrets = {"tls_ca": ca_pem, "tls_cert": cli_pem, "tls_key": cli_key}
        self.log = RequestLog()
        self.refused = 0
        with tempfile.TemporaryDirectory(prefix="jarvis-tls-proxy-") as d:
            for name, text in (("ca.pem", ca_pem), ("srv.pem", srv_pem), ("srv.key", srv_key)):
                Path(d, name).write_text(text)
            self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=os.path.join(d, "ca.pem"))
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_cert_chain(os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.base_url = f"tcp://127.0.0.1:{self.port}"
        _accept(self.sock, self._one)

    def _one(self, raw: socket.socket) -> None:
        try:
            conn = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            raw.close()
            return
        _to_engine(conn, self.log)

    def close(self) -> None:
        self.sock.close()


class UnixEngineRelay:
    """A socket at `path` relaying to the engine: an ssh connection's `remote_socket` set to it
    proves the requests crossed the ssh tunnel."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.log = RequestLog()
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(50)
        _accept(self.sock, lambda client: _to_engine(client, self.log))

    def close(self) -> None:
        self.sock.close()
        Path(self.path).unlink(missing_ok=True)
