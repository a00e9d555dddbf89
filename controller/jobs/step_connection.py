"""How a step or a runbook receives its connection: one shape, written here by the worker and read
here, by `read`, inside the playbook's process (an ansible module, a runbook's helper).

    extra var `jarvis_connection`:
        {"name": "prod-swarm", "type": "docker", "environment": "production",
         "config": {"base_url": "tcp://10.0.0.2:2376"},        # the connection's non-secret config
         "secrets": ["tls_ca", "tls_cert", "tls_key"]}         # names only
    environment: JARVIS_SECRET_TLS_CA, JARVIS_SECRET_TLS_CERT, ...  one per listed name

A runbook that needs further connections (`connections:` in runbook.yaml, a backup's repository)
gets them as `jarvis_connections: {<input key>: <the same shape>}`, each with its own `env_prefix`
(JARVIS_SECRET_<KEY>__) so two connections' credentials never share a variable.

A playbook passes the variable on unchanged (`connection: "{{ jarvis_connection }}"`, or
`{{ jarvis_connection | to_json }}` on a command line); the reader gives back the `ConnectionInfo`
the reconciler's own `observe` and `check` received, so a step opens its client with the same
function. Secrets never travel as variables: those are stored with the job and shown in its
events; the environment is not, and every value in it is masked in the job's output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, TypedDict

from controller.contract import ConnectionInfo

VAR = "jarvis_connection"
EXTRA_VAR = "jarvis_connections"
ENV_PREFIX = "JARVIS_SECRET_"


class StepConnection(TypedDict):
    """The value of `jarvis_connection`."""

    name: str
    type: str
    environment: str
    config: dict[str, Any]      # the connection's config, as its type's schema declares it
    secrets: list[str]          # the credentials' names; each value is in env JARVIS_SECRET_<NAME>
    env_prefix: str             # where those values are: ENV_PREFIX, or a further connection's own prefix


_FIELDS = tuple(StepConnection.__annotations__)


class ConnectionShapeError(ValueError):
    """What a step received is not a connection in the one shape (a playbook bug, or no connection)."""


def env_name(key: str, prefix: str = ENV_PREFIX) -> str:
    return prefix + key.upper()


def extra_prefix(role: str) -> str:
    """The env prefix of a further connection given under input key `role`."""
    return f"{ENV_PREFIX}{role.upper()}__"


def to_vars(conn: ConnectionInfo, prefix: str = ENV_PREFIX) -> StepConnection:
    """The value of `jarvis_connection`: everything about `conn` except its secret values."""
    return StepConnection(name=conn.name, type=conn.type, environment=conn.environment, config=dict(conn.config),
                          secrets=sorted(conn.secrets), env_prefix=prefix)


def to_env(conn: ConnectionInfo, prefix: str = ENV_PREFIX) -> dict[str, str]:
    """The environment that carries `conn`'s secrets to the step."""
    return {env_name(k, prefix): str(v) for k, v in conn.secrets.items()}


def read(value: Mapping[str, Any] | str | None, environ: Mapping[str, str] | None = None) -> ConnectionInfo:
    """The connection a step was given: `value` is `jarvis_connection` (a mapping, or its JSON text),
    and each listed secret is read from `environ` (default: this process's environment)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else None
        except json.JSONDecodeError as exc:
            raise ConnectionShapeError(f"{VAR} is not JSON: {exc}") from None
    if not value:
        raise ConnectionShapeError(f"this step was given no connection ({VAR} is empty)")
    if not isinstance(value, Mapping) or not isinstance(value.get("config"), Mapping) or not value.get("type"):
        keys = sorted(value) if isinstance(value, Mapping) else type(value).__name__
        raise ConnectionShapeError(f"{VAR} is not a connection: it needs {', '.join(_FIELDS)}; got {keys}")
    environ = os.environ if environ is None else environ
    names = list(value.get("secrets") or ())
    prefix = str(value.get("env_prefix") or ENV_PREFIX)
    if not prefix.startswith(ENV_PREFIX):
        raise ConnectionShapeError(f"{VAR}: env_prefix must start with {ENV_PREFIX}")
    missing = [env_name(k, prefix) for k in names if env_name(k, prefix) not in environ]
    if missing:
        raise ConnectionShapeError(f"connection {value.get('name', '')}: its secrets are not in this step's "
                                   f"environment ({', '.join(missing)})")
    return ConnectionInfo(name=str(value.get("name") or ""), type=str(value["type"]),
                          environment=str(value.get("environment") or ""), config=dict(value["config"]),
                          secrets={k: environ[env_name(k, prefix)] for k in names})
