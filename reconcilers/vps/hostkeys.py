"""Host keys pinned on first contact, recorded with the server as its `jarvis-hostkey` label.

The label holds the SHA-256 of the server's ed25519 host key in base32 (52 characters of
[A-Z2-7], inside Hetzner's 63-character label values). Before every SSH contact the key the
server offers is scanned and compared with the pin; only a matching key is written into the
run's known_hosts, and ssh then runs with StrictHostKeyChecking=yes, so the connection that
follows must present that very key. A server without a pin is pinned by its first contact.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
from dataclasses import dataclass

LABEL = "jarvis-hostkey"
PREFIX = "ed25519-"


class HostKeyError(Exception):
    """The server offered no host key, or one that differs from its pin."""


@dataclass(frozen=True)
class HostKey:
    line: str            # "<host> ssh-ed25519 AAAA…": one known_hosts line

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(base64.b64decode(self.line.split()[2])).digest()

    @property
    def pin(self) -> str:
        return PREFIX + base64.b32encode(self.digest).decode().rstrip("=")

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.pin)


def fingerprint_of(pin: str) -> str:
    """A pin as ssh-keygen -l prints it: `SHA256:…` (unpadded base64)."""
    raw = pin.removeprefix(PREFIX)
    digest = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def scan(host: str, port: int = 22, timeout: int = 5) -> HostKey:
    out = subprocess.run(["ssh-keyscan", "-T", str(timeout), "-t", "ed25519", "-p", str(port), host],
                         capture_output=True, text=True, timeout=timeout + 5)
    lines = [ln for ln in out.stdout.splitlines() if ln and not ln.startswith("#") and len(ln.split()) >= 3]
    if not lines:
        raise HostKeyError(f"{host}:{port} offered no ed25519 host key (unreachable or no sshd)")
    return HostKey(lines[0])


def verified(host: str, pin: str | None, port: int = 22) -> HostKey:
    """The key the server offers, refused when it differs from `pin` (None: first contact, nothing to compare)."""
    key = scan(host, port)
    if pin and key.pin != pin:
        raise HostKeyError(f"{host}: host key changed: the server offers {key.fingerprint}, pinned "
                           f"{fingerprint_of(pin)}; refused (re-pin only after checking the server)")
    return key
