"""A Docker client for a docker connection: unix socket, tcp with TLS, or ssh.

The controller (observe, check) and a playbook (an apply step, a runbook, which get their
`ConnectionInfo` from `controller.jobs.step_connection.read`) open it the same way. There is no
default address: a connection states its engine's `base_url`, and this host's engine is used only
when it says `unix:///var/run/docker.sock`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import docker
import docker.errors
import docker.tls

from controller.contract import ConnectionInfo, TargetUnavailable

TLS_KEYS = ("tls_ca", "tls_cert", "tls_key")


class EngineUnreachable(TargetUnavailable, ConnectionError):
    """The connection's engine could not be reached (or states no address); the message names it."""


def _pem_file(directory: str, name: str, text: str) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def client_for(connection: ConnectionInfo, timeout: int = 60) -> docker.DockerClient:
    """Open a client for `connection`'s engine. Key material written for it (TLS files, an SSH key)
    lives in a private temp dir that `client.close()` removes."""
    url = str(connection.config.get("base_url") or "")
    if not url:
        raise EngineUnreachable(f"connection {connection.name!r} states no engine address: set config.base_url "
                                "(unix:///var/run/docker.sock for this host's engine, tcp://HOST:2376 or ssh://USER@HOST)")
    try:
        return _open(url, connection.config, connection.secrets, timeout)
    except (docker.errors.DockerException, OSError, ValueError) as exc:
        raise EngineUnreachable(f"cannot reach the docker engine at {url} (connection {connection.name!r}): "
                                f"{_why(exc)}") from exc


def _why(exc: Exception) -> str:
    """The innermost reason (requests wraps a refused socket three times over)."""
    text = str(exc)
    return text.removeprefix("Error while fetching server API version: ")


def _open(url: str, config: Mapping[str, Any], secrets: Mapping[str, str], timeout: int) -> docker.DockerClient:
    if url.startswith("ssh://"):
        key = secrets.get("ssh_key")
        if not key:   # no key in the connection: the ssh client's own agent and config decide
            return docker.DockerClient(base_url=url, use_ssh_client=True, timeout=timeout)
        tunnel = SshTunnel(url, key, config)
        try:
            client = docker.DockerClient(base_url=f"unix://{tunnel.socket}", timeout=timeout)
        except Exception:
            tunnel.close()
            raise
        return _closing(client, tunnel.close)
    tls, tls_dir = None, None
    if url.startswith(("tcp://", "https://")) and (config.get("tls", True) and any(k in secrets for k in TLS_KEYS)):
        tls_dir = tempfile.mkdtemp(prefix="jarvis-docker-tls-")
        ca = _pem_file(tls_dir, "ca.pem", secrets["tls_ca"]) if secrets.get("tls_ca") else None
        cert = None
        if secrets.get("tls_cert") and secrets.get("tls_key"):
            cert = (_pem_file(tls_dir, "cert.pem", secrets["tls_cert"]), _pem_file(tls_dir, "key.pem", secrets["tls_key"]))
        tls = docker.tls.TLSConfig(client_cert=cert, ca_cert=ca, verify=ca or True)
    if tls is not None and secrets.get("tls_ca"):
        client = docker.DockerClient.__new__(docker.DockerClient)
        client.api = _OwnCAClient(base_url=url, tls=tls, timeout=timeout)
    else:
        client = docker.DockerClient(base_url=url, tls=tls, timeout=timeout)
    return _closing(client, lambda: shutil.rmtree(tls_dir, ignore_errors=True)) if tls_dir else client


class _OwnCAClient(docker.APIClient):
    """Trusts the connection's CA only: requests would otherwise let REQUESTS_CA_BUNDLE (set in many
    images) replace it, and the engine's certificate would be checked against the wrong CAs."""

    def _retrieve_server_version(self):   # the first request, made by the constructor
        self.trust_env = False
        return super()._retrieve_server_version()


def _closing(client: docker.DockerClient, cleanup) -> docker.DockerClient:
    close = client.close

    def close_and_clean() -> None:
        try:
            close()
        finally:
            cleanup()

    client.close = close_and_clean
    return client


class SshTunnel:
    """The remote engine's socket forwarded to a local one over `ssh -L`, with the connection's key.

    Host keys are checked: `known_hosts` in the connection's config pins them; without it the
    system's known_hosts applies, unless the config sets `host_key_checking: false`.
    """

    def __init__(self, url: str, key: str, config: Mapping[str, Any], wait_s: float = 20) -> None:
        u = urlparse(url)
        if not u.hostname:
            raise ValueError(f"{url}: no host in the ssh URL")
        self.dir = tempfile.mkdtemp(prefix="jarvis-docker-ssh-")
        self.socket = os.path.join(self.dir, "docker.sock")
        key_file = _pem_file(self.dir, "id", key.strip() + "\n")
        args = ["ssh", "-N", "-i", key_file, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "ExitOnForwardFailure=yes", "-o", "ConnectTimeout=10", "-p", str(u.port or 22),
                "-L", f"{self.socket}:{config.get('remote_socket', '/var/run/docker.sock')}"]
        if config.get("known_hosts"):
            hosts = _pem_file(self.dir, "known_hosts", str(config["known_hosts"]).strip() + "\n")
            args += ["-o", f"UserKnownHostsFile={hosts}", "-o", "StrictHostKeyChecking=yes"]
        elif config.get("host_key_checking") is False:
            args += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
        args.append(f"{u.username or 'root'}@{u.hostname}")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + wait_s
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = (self.proc.stderr.read() if self.proc.poll() is not None else "timed out").strip()
                self.close()
                raise ConnectionError(f"ssh to {u.hostname}:{u.port or 22} failed: {err.splitlines()[-1] if err else 'no answer'}")
            time.sleep(0.05)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
