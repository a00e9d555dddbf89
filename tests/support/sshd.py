"""A real OpenSSH server for tests: 127.0.0.1, a free port, temp host key and a client keypair.

    with running_sshd() as server:          # or the `sshd_server` fixture in a conftest
        server.host, server.port, server.user, server.private_key

Runs `/usr/sbin/sshd -D -f <config> -e` as root (sshd needs root to switch users); installs
openssh-server with apt-get when it is missing, so a fresh CI machine gets it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class SSHServer:
    host: str
    port: int
    user: str
    private_key: str          # OpenSSH private key text, authorized for `user`
    host_public_key: str      # "ssh-ed25519 AAAA..." for a known_hosts line

    @property
    def known_hosts_line(self) -> str:
        return f"[{self.host}]:{self.port} {self.host_public_key}"


def ensure_sshd() -> Path:
    if SSHD.exists():
        return SSHD
    if os.geteuid() != 0:
        raise RuntimeError("/usr/sbin/sshd is missing and installing openssh-server needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "openssh-server"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        subprocess.run(install, env=env, capture_output=True, check=True)
    if not SSHD.exists():
        raise RuntimeError("openssh-server installed but /usr/sbin/sshd is still missing")
    return SSHD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)


def _wait_for_banner(port: int, proc: subprocess.Popen, log: Path, deadline_s: float = 15) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if s.recv(4).startswith(b"SSH-"):
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on port {port}: {log.read_text(errors='replace')}")


@contextlib.contextmanager
def running_sshd(user: str = "root") -> Iterator[SSHServer]:
    if os.geteuid() != 0:
        raise RuntimeError("the test sshd runs as root")
    sshd = ensure_sshd()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)     # privilege separation directory
    tmp = Path(tempfile.mkdtemp(prefix="jarvis-sshd-"))
    proc = None
    try:
        _keygen(tmp / "host_key", "jarvis-test-host")
        _keygen(tmp / "client_key", "jarvis-test-client")
        authorized = tmp / "authorized_keys"
        authorized.write_text((tmp / "client_key.pub").read_text())
        authorized.chmod(0o600)
        port = _free_port()
        config = tmp / "sshd_config"
        config.write_text("\n".join([
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {tmp / 'host_key'}",
            f"PidFile {tmp / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized}",
            f"AllowUsers {user}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "Subsystem sftp internal-sftp",
            "LogLevel ERROR",
            "",
        ]))
        log = tmp / "sshd.log"
        with log.open("wb") as log_fh:
            proc = subprocess.Popen([str(sshd), "-D", "-f", str(config), "-e"],
                                    stdout=log_fh, stderr=subprocess.STDOUT)
        _wait_for_banner(port, proc, log)
        host_pub = " ".join((tmp / "host_key.pub").read_text().split()[:2])
        yield SSHServer(host="127.0.0.1", port=port, user=user,
                        private_key=(tmp / "client_key").read_text(), host_public_key=host_pub)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
