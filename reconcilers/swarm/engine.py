"""A Docker client for a connection: unix socket, tcp with TLS, or ssh.

Secrets come from `ConnectionInfo.secrets` in the controller and from `JARVIS_SECRET_<KEY>`
environment variables inside a playbook's module (the worker sets them); both paths use this.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import docker
import docker.tls

DEFAULT_URL = "unix:///var/run/docker.sock"
TLS_KEYS = ("tls_ca", "tls_cert", "tls_key")


def secrets_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {k[len("JARVIS_SECRET_"):].lower(): v for k, v in environ.items() if k.startswith("JARVIS_SECRET_")}


def _pem_file(directory: str, name: str, text: str) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def client_for(config: Mapping[str, Any], secrets: Mapping[str, str], timeout: int = 60) -> docker.DockerClient:
    """Open a client; TLS material is written to a private temp dir only for the handshake setup."""
    url = str(config.get("base_url") or DEFAULT_URL)
    if url.startswith("ssh://"):
        return docker.DockerClient(base_url=url, use_ssh_client=True, timeout=timeout)
    tls = None
    if url.startswith(("tcp://", "https://")) and (config.get("tls", True) and any(k in secrets for k in TLS_KEYS)):
        d = tempfile.mkdtemp(prefix="jarvis-docker-tls-")
        ca = _pem_file(d, "ca.pem", secrets["tls_ca"]) if secrets.get("tls_ca") else None
        cert = None
        if secrets.get("tls_cert") and secrets.get("tls_key"):
            cert = (_pem_file(d, "cert.pem", secrets["tls_cert"]), _pem_file(d, "key.pem", secrets["tls_key"]))
        tls = docker.tls.TLSConfig(client_cert=cert, ca_cert=ca, verify=ca or True)
    return docker.DockerClient(base_url=url, tls=tls, timeout=timeout)
