"""The `cloudflare` connection type: an API token for Cloudflare's API v4."""

from __future__ import annotations

from controller.connection_types import ConnectionType, object_schema, secret

from .client import DEFAULT_BASE_URL

TOKEN_KEY = "api_token"

CLOUDFLARE = ConnectionType(
    name="cloudflare",
    title="Cloudflare DNS",
    description="The zones a manifest's `dns:` records are kept in (orch.yaml `connections.dns`), and the "
                "Cloudflare runbooks (purge the cache, toggle a record's proxy).",
    config=object_schema({
        "base_url": {"type": "string", "title": "API address", "format": "uri", "pattern": "^https?://", "default": DEFAULT_BASE_URL,
                     "description": "The API's address: only to go through a proxy or an emulator.",
                     "examples": [DEFAULT_BASE_URL]},
    }),
    credentials=object_schema({
        TOKEN_KEY: secret("API token", "An API token (not the global API key) with Zone: DNS: Edit and Zone: Read on the "
                          "zones, and Zone: Cache Purge for the purge runbook.", examples=["m5Jx…"]),
    }, required=[TOKEN_KEY]),
)
