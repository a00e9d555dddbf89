"""Connections: named credentials for targets. Credentials are write-only and sealed at rest.

A connection's `config` and `credentials` are checked against its type's schemas
(`controller.connection_types`) whenever either is written, whoever writes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controller import connection_types
from controller.contract import ConnectionInfo
from controller.errors import Conflict, Invalid, NotFound
from controller.secrets import SecretBackend, hint
from controller.store.db import Database
from controller.store.models import Connection

log = logging.getLogger(__name__)


def check(type: str, config: dict[str, Any], credentials: dict[str, Any]) -> None:
    """Invalid (422) naming every key that is missing, unknown, misplaced or not valid for `type`."""
    types = connection_types.installed()
    declared = types.get(type)
    if declared is None:
        message = f"unknown connection type {type!r}; the installed types are {', '.join(types)}"
        raise Invalid(message, errors=[{"field": "type", "message": message}])
    problems = declared.problems(config, credentials)
    if problems:
        raise Invalid(f"{type} connection: " + "; ".join(p["message"] for p in problems), errors=problems)


def _context(conn: Connection) -> str:
    return f"connections:{conn.id}"


def create(db: Session, store: SecretBackend, *, name: str, type: str, environment: str,
           config: dict[str, Any], credentials: dict[str, str], created_by: str) -> Connection:
    check(type, config, credentials)
    if db.scalar(select(Connection.id).where(Connection.name == name)) is not None:
        raise Conflict(f"a connection named {name!r} already exists")
    conn = Connection(name=name, type=type, environment=environment, config=config, created_by=created_by)
    db.add(conn)
    try:
        db.flush()   # the id is part of the ciphertext's associated data
    except IntegrityError:
        db.rollback()
        raise Conflict(f"a connection named {name!r} already exists") from None
    _seal(conn, store, credentials)
    return conn


def update(db: Session, store: SecretBackend, conn: Connection, *, name: str | None = None,
           environment: str | None = None, config: dict[str, Any] | None = None,
           credentials: dict[str, str | None] | None = None) -> Connection:
    """`credentials` merges: a key set to None is removed, absent keys are kept."""
    if name is not None and name != conn.name:
        if db.scalar(select(Connection.id).where(Connection.name == name)) is not None:
            raise Conflict(f"a connection named {name!r} already exists")
        conn.name = name
    if environment is not None:
        conn.environment = environment
    if config is None and credentials is None:
        return conn
    merged = open_credentials(store, conn)
    for k, v in (credentials or {}).items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    check(conn.type, conn.config if config is None else config, merged)
    if config is not None:
        conn.config = config
    if credentials is not None:
        _seal(conn, store, merged)
    return conn


def _seal(conn: Connection, store: SecretBackend, credentials: dict[str, str]) -> None:
    conn.key_id, conn.credentials = store.seal(credentials, _context(conn))
    conn.credential_hints = {k: hint(v) for k, v in credentials.items()}


def open_credentials(store: SecretBackend, conn: Connection) -> dict[str, str]:
    if not conn.credentials or not conn.key_id:
        return {}
    return store.open(conn.key_id, conn.credentials, _context(conn))


def get(db: Session, conn_id: int) -> Connection:
    conn = db.get(Connection, conn_id)
    if conn is None:
        raise NotFound(f"connection {conn_id} not found")
    return conn


def by_name(db: Session, name: str) -> Connection:
    conn = db.scalar(select(Connection).where(Connection.name == name))
    if conn is None:
        raise NotFound(f"connection {name!r} not found")
    return conn


def info(store: SecretBackend, conn: Connection) -> ConnectionInfo:
    return ConnectionInfo(name=conn.name, type=conn.type, environment=conn.environment,
                          config=dict(conn.config or {}), secrets=open_credentials(store, conn))


def names(db: Session) -> set[str]:
    return set(db.scalars(select(Connection.name)))


def credential_keys(db: Session) -> dict[str, frozenset[str]]:
    """Each connection's credential keys (from the hints: nothing is decrypted), by name.

    Manifests are checked against it, so `from: connection:NAME/KEY` naming an unknown connection or key
    is an error at its line and column when the manifest is read."""
    return {name: frozenset(hints or {}) for name, hints in db.execute(select(Connection.name, Connection.credential_hints))}


def secret_resolver(database: Database, store: SecretBackend) -> Callable[[str, str], str]:
    """`connection:NAME/KEY` → the decrypted credential, each connection opened once per resolver.

    A LookupError says which name or key is unknown (and which keys there are), never a value."""
    opened: dict[str, dict[str, str]] = {}

    def resolve(name: str, key: str) -> str:
        if name not in opened:
            with database.session() as db:
                conn = db.scalar(select(Connection).where(Connection.name == name))
                if conn is None:
                    raise LookupError(f"no connection named {name!r}")
                opened[name] = open_credentials(store, conn)
        values = opened[name]
        if key not in values:
            has = f"it has {', '.join(sorted(values))}" if values else "it has no credentials"
            raise LookupError(f"connection {name!r} has no credential {key!r} ({has})")
        return values[key]

    return resolve


def names_of_type(db: Session, type: str) -> list[str]:
    return list(db.scalars(select(Connection.name).where(Connection.type == type).order_by(Connection.name)))


def reencrypt_all(database: Database, store: SecretBackend) -> tuple[int, list[str]]:
    """Re-seal every row under the active key, one row per transaction, while the service runs.

    The row is locked while it is re-sealed, so a concurrent update by the API (which seals under
    the new key anyway) is never overwritten with stale credentials. A row that cannot be opened
    (its key is gone, or it was tampered with) is reported and left as it is; the others go on.
    """
    active = store.active_key()
    done, failed = 0, []
    with database.session() as db:
        ids = list(db.scalars(select(Connection.id).where(Connection.key_id != active)))
    for conn_id in ids:
        with database.session() as db:
            conn = db.get(Connection, conn_id, with_for_update=not database.is_sqlite)
            if conn is None or conn.key_id == active or not conn.credentials:
                continue
            try:
                values = open_credentials(store, conn)
            except Exception as exc:
                failed.append(f"{conn.name}: cannot be decrypted ({type(exc).__name__}); left unchanged")
                continue
            _seal(conn, store, values)
            done += 1
    log.info("credentials re-encrypted", extra={"event": "keys.reencrypted", "rows": done, "failed": len(failed),
                                                "key_id": active})
    return done, failed
