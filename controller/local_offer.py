"""The first connection, offered: embedded Jarvis next to a target that answers on this machine.

A new operator who runs `jarvis serve` on a machine whose Docker engine is a Swarm manager should not
have to know the socket's address to deploy `examples/local`. A kind that can reach this machine's own
target declares its connection config (`local_connection`); while no connection named `local` exists
and the kind's own `check` accepts that config, the dashboard and GitOps pages offer admins to create
it with one click. The check costs an engine call, so its answer is kept for `CACHE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller import connections, registry
from controller.contract import ConnectionInfo
from controller.errors import Conflict, NotFound
from controller.runtime import Runtime
from controller.store.models import Connection, Source, utcnow

NAME = "local"          # the name examples/local names under connections:
CACHE_SECONDS = 15.0


@dataclass(frozen=True)
class Offer:
    kind: str
    title: str
    name: str
    type: str
    config: dict[str, Any]
    message: str          # what the check found ("swarm manager, docker 26.1.5")


class _Checked:
    """The last answers of the kinds' checks, per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.until = 0.0
        self.offers: list[Offer] = []

    def forget(self) -> None:
        with self.lock:
            self.until = 0.0


def _cache(rt: Runtime) -> _Checked:
    return rt.services.setdefault("local_offer", _Checked())


def _checked(rt: Runtime) -> list[Offer]:
    cache = _cache(rt)
    with cache.lock:
        if cache.until > time.monotonic():
            return cache.offers
        found = []
        for kind, rec in registry.reconcilers(rt).items():
            config = getattr(rec, "local_connection", None)
            if not config:
                continue
            try:
                result = rec.check(ConnectionInfo(name=NAME, type=rec.connection_type, config=dict(config)))
            except Exception:       # an offer is a convenience: a failing probe offers nothing
                continue
            if result.ok:
                found.append(Offer(kind, getattr(rec, "title", "") or kind, NAME, rec.connection_type,
                                   dict(config), result.message))
        cache.offers, cache.until = found, time.monotonic() + CACHE_SECONDS
        return found


def offers(rt: Runtime, db: Session) -> list[Offer]:
    """What to offer now: nothing outside embedded mode or once a connection named `local` exists."""
    if not rt.settings.embedded:
        return []
    if db.scalar(select(Connection.id).where(Connection.name == NAME)) is not None:
        return []
    return _checked(rt)


def accept(rt: Runtime, db: Session, kind: str, created_by: str) -> Connection:
    """Creates the offered connection, then asks every source to sync again: manifests that named the
    missing connection were invalid, and are checked anew now that it exists."""
    if db.scalar(select(Connection.id).where(Connection.name == NAME)) is not None:
        raise Conflict(f"a connection named {NAME!r} already exists")
    offer = next((o for o in offers(rt, db) if o.kind == kind), None)
    if offer is None:
        raise NotFound(f"nothing to offer for {kind!r}: this machine's target did not answer its check, "
                       "or Jarvis is not embedded")
    conn = connections.create(db, rt.secrets, name=offer.name, type=offer.type, environment="local",
                              config=offer.config, credentials={}, created_by=created_by)
    for src in db.scalars(select(Source)):
        src.sync_requested_at, src.sync_reason = utcnow(), "connection"   # a run's trigger: 20 characters at most
    _cache(rt).forget()
    return conn
