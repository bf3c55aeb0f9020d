"""``Store``: the one object the rest of SendGuard talks to for persistence.

Its methods are grouped by subject in ``packages``, ``grants``, ``audit``, ``ratelimit``
and ``retention``; this module adds construction, migrations and health. Every method
opens and finishes its own short transaction, and every clock is passed in (``now``).
"""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from service.storage import migrate
from service.storage.audit import AuditStore
from service.storage.engine import POOL_TIMEOUT_S, create_engine
from service.storage.grants import GrantStore
from service.storage.history import HistoryStore
from service.storage.history_imports import HistoryImportStore
from service.storage.packages import PackageStore
from service.storage.ratelimit import RateLimitStore
from service.storage.retention import RetentionStore


class Store(PackageStore, GrantStore, AuditStore, RateLimitStore, RetentionStore,
            HistoryStore, HistoryImportStore):
    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 5,
                 pool_timeout: float = POOL_TIMEOUT_S) -> Store:
        """``sqlite:///path``, ``sqlite://`` (memory) or ``postgresql[+psycopg]://...``.
        Connects lazily: nothing is opened until the first use. ``pool_timeout``: the
        longest a caller waits for a free connection before an error."""
        return cls(create_engine(url, pool_size=pool_size, pool_timeout=pool_timeout))

    def upgrade(self, revision: str = "head") -> None:
        """Run pending Alembic migrations (``sendguard db upgrade``, dev startup)."""
        migrate.upgrade(self._engine, revision)

    def schema_is_current(self) -> bool:
        """True when the database is at the newest migration (production start check)."""
        return migrate.current_revision(self._engine) == migrate.head_revision()

    def ping(self) -> bool:
        """True when the database answers (``/healthz``)."""
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1")).scalar_one()
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
