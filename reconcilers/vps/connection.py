"""The `hetzner` connection type: an API token for Hetzner Cloud and the SSH key Jarvis reaches its servers with."""

from __future__ import annotations

from controller.connection_types import ConnectionType, object_schema, secret

DEFAULT_BASE_URL = "https://api.hetzner.cloud/v1"
TOKEN_KEY = "api_token"
# the worker loads a connection's `private_key` into the run's ssh-agent (controller.jobs.worker)
PRIVATE_KEY = "private_key"

HETZNER = ConnectionType(
    name="hetzner",
    title="Hetzner Cloud",
    description="The project a manifest's `servers:` are created in (orch.yaml `connections.servers`), and the SSH "
                "key Jarvis hardens them with (its public half is uploaded through /ssh_keys).",
    config=object_schema({
        "base_url": {"type": "string", "title": "API address", "format": "uri", "pattern": "^https?://",
                     "default": DEFAULT_BASE_URL, "description": "The API's address: only to go through a proxy "
                     "or an emulator.", "examples": [DEFAULT_BASE_URL]},
    }),
    credentials=object_schema({
        TOKEN_KEY: secret("API token", "A Read & Write API token of the Hetzner Cloud project.", examples=["hcl…"]),
        PRIVATE_KEY: secret("SSH private key", "An OpenSSH private key without a passphrase (ed25519): Jarvis "
                            "creates servers with its public half and hardens them over SSH with it.",
                            multiline=True, examples=["-----BEGIN OPENSSH PRIVATE KEY-----…"]),
    }, required=[TOKEN_KEY, PRIVATE_KEY]),
)
