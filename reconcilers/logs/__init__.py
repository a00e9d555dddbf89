"""One log query over every source Jarvis reads (Swarm services, containers, job events): `sources`
names and reads them, `query` filters, bounds and cuts; the API and the follow WebSocket call both."""

from .follow import Follower
from .query import LIMIT_MAX, Q_MAX, RANGE_MAX, SCAN_MAX, Cursor, after, matcher, positions, query, shown
from .sources import SOURCES, Target, read, resolve

__all__ = ["LIMIT_MAX", "Q_MAX", "RANGE_MAX", "SCAN_MAX", "SOURCES", "Cursor", "Follower", "Target", "after", "positions",
           "matcher",
           "query", "read", "resolve", "shown"]
