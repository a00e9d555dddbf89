"""Alembic, driven from code: `jarvis db upgrade` and the first start both call `upgrade`."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade_locked(db) -> tuple[str | None, str | None]:
    """Upgrade to head; on PostgreSQL under an advisory lock so replicas starting together don't race.

    Returns the revisions (before, after); only the process that changed the schema logs
    `db.migrated`, so a deployment shows exactly one, whichever replica or one-shot got the lock.
    """
    if db.is_sqlite:
        before = current(db.url)
        upgrade(db.url)
        return _migrated(before, current(db.url))
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import text

    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(7242001)"))
        try:
            before = MigrationContext.configure(conn).get_current_revision()
            cfg = alembic_config(db.url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
            after = MigrationContext.configure(conn).get_current_revision()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(7242001)"))
            conn.commit()
    return _migrated(before, after)


def _migrated(before: str | None, after: str | None) -> tuple[str | None, str | None]:
    if before != after:
        log.info("database migrated from %s to %s", before or "empty", after,
                 extra={"event": "db.migrated", "from_revision": before, "to_revision": after})
    return before, after
