"""The `portainer` connection type: a Portainer CE server, reached with an access token or a login."""

from __future__ import annotations

from controller.connection_types import ConnectionType, object_schema, secret

API_KEY, USERNAME, PASSWORD = "api_key", "username", "password"

PORTAINER = ConnectionType(
    name="portainer",
    title="Portainer",
    description="A Portainer server whose environments (endpoints) a manifest's `stacks:` are deployed to "
                "(orch.yaml `connections.stacks`), as Portainer's own stacks. Credentials: an access token, or "
                "a username and password (a JWT from `POST /api/auth`, renewed before it expires).",
    config=object_schema({
        "base_url": {"type": "string", "title": "Portainer address", "format": "uri", "pattern": "^https?://",
                     "description": "Portainer's address, without `/api`.",
                     "examples": ["https://portainer.example.com:9443"]},
        "verify_tls": {"type": "boolean", "title": "Check the TLS certificate", "default": True,
                       "description": "False accepts any certificate (Portainer's self-signed default)."},
    }, required=["base_url"]),
    credentials=object_schema({
        API_KEY: secret("Access token", "An access token (My account → Access tokens), sent as `X-API-Key`.",
                        examples=["ptr_XXXXXXXX…"]),
        USERNAME: secret("Username", "A Portainer user, when no access token is given."),
        PASSWORD: secret("Password", "That user's password."),
    }, dependentRequired={USERNAME: [PASSWORD], PASSWORD: [USERNAME]},
        anyOf=[{"required": [API_KEY]}, {"required": [USERNAME, PASSWORD]}]),
)
