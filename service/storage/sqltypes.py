"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no time zones: instants are stored as naive UTC (fixed-width text, so ``<=``
compares correctly) and come back UTC-aware, exactly as PostgreSQL's ``timestamptz`` does.
A naive datetime is refused rather than guessed at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: pass a UTC-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB (indexable, compact) on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def big_id() -> sa.types.TypeEngine[int]:
    """64-bit ids on PostgreSQL; SQLite only auto-increments a plain INTEGER key."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")

