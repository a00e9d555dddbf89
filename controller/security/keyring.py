"""AES-256-GCM encryption under named keys, so keys can rotate while the service runs.

The keyring is a JSON file (mode 0600): {"active": "k2", "keys": {"k1": "<base64>", "k2": ...}}.
A reader that meets a key id it does not know reloads the file once: after `jarvis keys rotate`
the running service decrypts rows re-encrypted under the new key without a restart.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12


class KeyringError(Exception):
    """The keyring is missing, unreadable, or lacks a key a stored value needs."""


class Keyring:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}
        self.active = ""
        self.load()

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
            keys = {k: base64.b64decode(v) for k, v in data["keys"].items()}
            active = data["active"]
        except FileNotFoundError:
            raise KeyringError(f"keyring {self.path} does not exist") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"keyring {self.path} is unreadable: {exc.__class__.__name__}") from None
        if active not in keys or any(len(k) != 32 for k in keys.values()):
            raise KeyringError(f"keyring {self.path} is invalid: active key missing or not 256-bit")
        with self._lock:
            self._keys, self.active = keys, active

    @classmethod
    def create(cls, path: Path) -> Keyring:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, {"active": "k1", "keys": {"k1": _new_key()}})
        return cls(path)

    def rotate(self) -> str:
        """Add a new key and make it active (old keys stay to decrypt until rows are re-encrypted)."""
        with self._lock:
            data = json.loads(self.path.read_text())
            new_id = f"k{int(time.time())}{secrets.token_hex(2)}"
            data["keys"][new_id] = _new_key()
            data["active"] = new_id
            _write_private(self.path, data)
        self.load()
        return new_id

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> tuple[str, bytes]:
        with self._lock:
            key_id, key = self.active, self._keys[self.active]
        nonce = os.urandom(NONCE)
        return key_id, nonce + AESGCM(key).encrypt(nonce, plaintext, aad or None)

    def decrypt(self, key_id: str, blob: bytes, aad: bytes = b"") -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            self.load()
            key = self._keys.get(key_id)
            if key is None:
                raise KeyringError(f"no key {key_id!r} in the keyring")
        return AESGCM(key).decrypt(blob[:NONCE], blob[NONCE:], aad or None)


def _new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _write_private(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)   # atomic: a concurrent reader sees the old or the new file, never half
