"""Rate limits shared by every instance on one database: fixed-window counters bumped by
one atomic upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), on SQLite and
PostgreSQL alike, so no two processes can both see the last free slot.

A fixed window lets a burst of up to twice the limit straddle a window boundary; for code
requests and code guesses that is a fair price for one round trip per check.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from service.errors import InputError
from service.storage import checks
from service.storage.database import Database
from service.storage.schema import rate_counters

MAX_WINDOW_S = 31 * 24 * 3600


def window_bounds(now: datetime, window_seconds: int) -> tuple[datetime, datetime]:
    epoch = int(now.timestamp())
    start = epoch - epoch % window_seconds
    begin = datetime.fromtimestamp(start, UTC)
    return begin, begin + timedelta(seconds=window_seconds)


class RateLimitStore(Database):
    def hit_rate_limit(self, key: str, limit: int, window_seconds: int,
                       now: datetime) -> bool:
        """Count one hit on ``key``; True when this hit is over ``limit`` in the window."""
        if not isinstance(key, str) or not key:
            raise InputError("rate limit key must be a non-empty string")
        checks.positive(limit, "limit")
        checks.positive(window_seconds, "window_seconds", at_most=MAX_WINDOW_S)
        start, end = window_bounds(checks.aware(now, "now"), window_seconds)
        hashed = hashlib.sha256(f"{window_seconds}:{key}".encode()).hexdigest()
        values = {"key": hashed, "window_start": start, "window_end": end, "count": 1}
        bump = {"count": rate_counters.c.count + 1}
        where = [rate_counters.c.key, rate_counters.c.window_start]
        stmt: postgresql.Insert | sqlite.Insert
        if self.backend == "postgresql":
            pg = postgresql.insert(rate_counters).values(values)
            stmt = pg.on_conflict_do_update(index_elements=where, set_=bump)
        else:
            lite = sqlite.insert(rate_counters).values(values)
            stmt = lite.on_conflict_do_update(index_elements=where, set_=bump)
        with self._write() as conn:
            count = int(conn.execute(stmt.returning(rate_counters.c.count)).scalar_one())
        return count > limit

    def prune_rate_counters(self, now: datetime) -> int:
        """Drop counters of windows that have ended; returns how many."""
        with self._write() as conn:
            result = conn.execute(sa.delete(rate_counters)
                                  .where(rate_counters.c.window_end <= checks.aware(now, "now")))
        return int(result.rowcount)
