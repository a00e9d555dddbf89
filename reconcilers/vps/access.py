"""How Jarvis reaches one server over SSH: the pinned host key checked, a known_hosts file for the
run, and the hardening variables harden.yml reads. Shared by the drift check (observe) and the
apply step, so both reach a server the same way."""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import hostkeys


def wait_for_sshd(host: str, port: int = 22, deadline_s: float = 90) -> None:
    """Until sshd answers with its banner (a booting server refuses first)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                if s.recv(16).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        if time.monotonic() > end:
            raise hostkeys.HostKeyError(f"{host}:{port}: no sshd answered within {deadline_s:.0f}s (unreachable)")
        time.sleep(0.3)


def known_hosts(key: hostkeys.HostKey, directory: Path | None = None) -> Path:
    """A known_hosts file holding only the verified key (public data: no secret in it)."""
    folder = Path(directory or tempfile.mkdtemp(prefix="jarvis-vps-"))
    path = folder / "known_hosts"
    path.write_text(key.line + "\n")
    return path


def ssh_args(path: Path) -> str:
    return f"-o UserKnownHostsFile={path} -o StrictHostKeyChecking=yes -o ConnectTimeout=10"


def hardening_vars(hardening: Mapping[str, Any], public: str) -> dict[str, Any]:
    """harden.yml's `hardening` from a desired spec's: Jarvis's own key is always authorised."""
    return {"ssh": hardening.get("ssh", "strict"), "firewall": list(hardening.get("firewall") or [22]),
            "fail2ban": bool(hardening.get("fail2ban", True)), "upgrades": True,
            "authorized_keys": [public]}
