"""The secret store: how credentials are sealed at rest, behind one interface.

Today credentials are sealed with the keyring (AES-256-GCM) into the owning row. A Vault backend
fits behind the same two calls: `seal` would write to Vault and return a reference as the blob.
"""

from __future__ import annotations

import json
from typing import Protocol

from controller.security.keyring import Keyring


class SecretBackend(Protocol):
    def seal(self, values: dict[str, str], context: str) -> tuple[str, bytes]:
        """Store `values`; return (key id, blob) to keep in the owning row."""

    def open(self, key_id: str, blob: bytes, context: str) -> dict[str, str]:
        """The values sealed as (key id, blob) for this context."""

    def active_key(self) -> str: ...


class KeyringBackend:
    """Values encrypted into the row; `context` (e.g. "connections:7") is bound as associated data,
    so a ciphertext copied onto another row does not decrypt."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(self, values: dict[str, str], context: str) -> tuple[str, bytes]:
        return self.keyring.encrypt(json.dumps(values).encode(), context.encode())

    def open(self, key_id: str, blob: bytes, context: str) -> dict[str, str]:
        return json.loads(self.keyring.decrypt(key_id, blob, context.encode()))

    def active_key(self) -> str:
        return self.keyring.active


def hint(value: str) -> str:
    """A masked hint: never enough of a secret to matter."""
    return "••••" + value[-2:] if len(value) >= 16 else "••••"
