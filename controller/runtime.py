"""Everything one Jarvis process shares, built once from the settings: the process's context.

`Runtime.start` prepares the data directory, the JWT key, the credential keyring, the database
schema and (embedded) the first admin. Missing keys in a deployment stop the process with a
one-line reason rather than silently making new ones.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.accounts import mfa, users
from controller.errors import ConfigurationError
from controller.ratelimit import Limiter, MemoryLimiter, RedisLimiter
from controller.secrets import KeyringBackend, SecretBackend
from controller.security.keyring import Keyring, KeyringError
from controller.settings import Settings
from controller.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    jwt_key: str
    keyring: Keyring
    secrets: SecretBackend
    limiter: Limiter
    redis: Any = None
    services: dict[str, Any] = field(default_factory=dict)   # queue, bus, catalog... added by their modules

    @classmethod
    def start(cls, settings: Settings, *, migrate: bool = True, first_admin: bool = True) -> Runtime:
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        os.chmod(data, 0o700)
        jwt_key = _jwt_key(settings)
        keyring = _keyring(settings)
        db = Database(settings.sqlalchemy_url)
        if migrate:
            from controller.store.migrate import upgrade_locked
            upgrade_locked(db)
        redis_client = None
        if settings.redis_url:
            import redis

            # short timeouts: every API request touches Redis (limits, session answers); while it is
            # down a request must answer 503 quickly, not hang (the worker's blocking read is 1 s)
            redis_client = redis.Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=1)
        limiter: Limiter = RedisLimiter(redis_client) if redis_client else MemoryLimiter()
        store = KeyringBackend(keyring)
        mfa.bind_store(store)
        rt = cls(settings, db, jwt_key, keyring, store, limiter, redis_client)
        if first_admin and settings.embedded:
            rt.ensure_first_admin()
        return rt

    def ensure_first_admin(self) -> str | None:
        """Create the first admin when there are no users; print its one-time password once."""
        with self.db.session() as s:
            if users.count(s) > 0:
                return None
            password = secrets.token_urlsafe(12)
            users.create(s, self.settings.first_admin_email, password, "admin", name="Administrator",
                         must_change=True, check_strength=False)
        banner = (f"\n  Jarvis first start: admin account created\n"
                  f"    email:    {self.settings.first_admin_email}\n"
                  f"    password: {password}   (one-time: you will be asked to change it)\n")
        print(banner, file=sys.stdout, flush=True)
        return password

    def close(self) -> None:
        for svc in reversed(list(self.services.values())):
            stop = getattr(svc, "stop", None)
            if stop:
                try:
                    stop()
                except Exception:
                    log.exception("stopping %s failed", svc)
        self.db.dispose()


def _jwt_key(settings: Settings) -> str:
    if settings.secret_key:
        if len(settings.secret_key) < 32:
            raise ConfigurationError("JARVIS_SECRET_KEY must be at least 32 characters")
        return settings.secret_key
    path: Path = settings.key_file
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        if not settings.embedded:
            raise ConfigurationError(f"no secret key: set JARVIS_SECRET_KEY or create {path}") from None
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:   # another process of this deployment made it first
            time.sleep(0.2)
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        log.info("secret key generated", extra={"event": "secret_key.created", "path": str(path)})
        return key
    except OSError as exc:
        raise ConfigurationError(f"secret key {path} is unreadable: {exc.strerror}") from None
    if len(key) < 32:
        raise ConfigurationError(f"secret key in {path} is shorter than 32 characters")
    return key


def _keyring(settings: Settings) -> Keyring:
    path = settings.keyring_path
    try:
        return Keyring(path)
    except KeyringError as exc:
        if path.exists() or not settings.embedded:
            raise ConfigurationError(str(exc)) from None
        return Keyring.create(path)
