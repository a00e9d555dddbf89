"""The `docker` connection type: a Docker engine that is a Swarm manager, and how to reach it."""

from __future__ import annotations

from controller.connection_types import ConnectionType, object_schema, secret

SSH_ONLY = "ssh:// only: "
TCP_ONLY = "tcp:// only: "

DOCKER = ConnectionType(
    name="docker",
    title="Docker engine (a Swarm manager)",
    description="The engine `services:`, `compose:`, `networks:`, `secrets:` and `configs:` are deployed to "
                "(orch.yaml `connections.swarm`), and the Swarm runbooks act on. It must be a Swarm manager.",
    config=object_schema({
        "base_url": {"type": "string", "title": "Engine address", "pattern": "^(unix|tcp|ssh)://.+",
                     "description": "The engine's address; there is no default. unix:///var/run/docker.sock is "
                                    "this host's engine, tcp://HOST:2376 an engine listening with TLS, "
                                    "ssh://USER@HOST[:PORT] an engine reached through ssh.",
                     "examples": ["unix:///var/run/docker.sock", "tcp://10.0.0.2:2376", "ssh://deploy@10.0.0.2"]},
        "tls": {"type": "boolean", "title": "Use TLS", "default": True,
                "description": TCP_ONLY + "false talks plain tcp even when TLS credentials are set."},
        "known_hosts": {"type": "string", "title": "Host keys", "contentMediaType": "text/plain",
                        "description": SSH_ONLY + "the server's host key lines (`ssh-keyscan -p PORT HOST`), "
                                                  "pinned. Without them the system's known_hosts decides.",
                        "examples": ["[10.0.0.2]:22 ssh-ed25519 AAAAC3Nza…"]},
        "host_key_checking": {"type": "boolean", "title": "Check host keys", "default": True,
                              "description": SSH_ONLY + "false accepts any host key (throwaway test servers)."},
        "remote_socket": {"type": "string", "title": "Engine socket on the server", "default": "/var/run/docker.sock", "minLength": 1,
                          "description": SSH_ONLY + "the engine's socket on the server."},
    }, required=["base_url"]),
    credentials=object_schema({
        "tls_ca": secret("CA certificate", TCP_ONLY + "the CA certificate (PEM) the engine's certificate is checked against; "
                         "only this CA is trusted.", multiline=True, examples=["-----BEGIN CERTIFICATE-----…"]),
        "tls_cert": secret("Client certificate", TCP_ONLY + "the client certificate (PEM) the engine lets in.", multiline=True),
        "tls_key": secret("Client key", TCP_ONLY + "the client certificate's private key (PEM).", multiline=True),
        "ssh_key": secret("SSH private key", SSH_ONLY + "the private key (OpenSSH or PEM, no passphrase). Without it the ssh "
                          "client's own agent and config decide.", multiline=True),
    }, dependentRequired={"tls_cert": ["tls_key"], "tls_key": ["tls_cert"]}),
)
