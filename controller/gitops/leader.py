"""Leader election over a lease row: several controllers may run, one leads.

The leader renews its lease every third of the lease period; a leader that dies stops renewing
and another takes over once the lease expires, within two lease periods.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from controller.store.db import Database
from controller.store.models import Lease, utcnow

log = logging.getLogger(__name__)
NAME = "controller"


class LeaderLease:
    def __init__(self, db: Database, holder: str, seconds: int) -> None:
        self.db, self.holder, self.seconds = db, holder, seconds
        self.leading = False

    def try_acquire(self) -> bool:
        """Take or keep the lease; returns whether this process leads now."""
        now = utcnow()
        until = now + dt.timedelta(seconds=self.seconds)
        try:
            with self.db.session() as s:
                res = s.execute(update(Lease).where(Lease.name == NAME,
                                                    (Lease.holder == self.holder) | (Lease.expires_at < now))
                                .values(holder=self.holder, expires_at=until, renewed_at=now))
                if res.rowcount == 0 and s.scalar(select(Lease.name).where(Lease.name == NAME)) is None:
                    s.add(Lease(name=NAME, holder=self.holder, expires_at=until, renewed_at=now))
                    s.flush()
                    res_ok = True
                else:
                    res_ok = res.rowcount == 1
        except IntegrityError:
            res_ok = False
        except Exception:
            log.exception("leader lease could not be renewed")
            res_ok = False
        if res_ok != self.leading:
            log.info("leadership %s", "acquired" if res_ok else "lost",
                     extra={"event": "controller.leader", "leading": res_ok, "holder": self.holder})
        self.leading = res_ok
        return res_ok

    def release(self) -> None:
        if not self.leading:
            return
        with self.db.session() as s:
            s.execute(update(Lease).where(Lease.name == NAME, Lease.holder == self.holder)
                      .values(expires_at=utcnow()))
        self.leading = False


def current(db: Database) -> Lease | None:
    with db.session() as s:
        row = s.get(Lease, NAME)
        if row is not None:
            s.expunge(row)
        return row
