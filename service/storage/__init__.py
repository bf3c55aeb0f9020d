"""Persistence: key records, grants, the audit log and shared rate limits (SPEC 6, 7).

SQLite (a file under ``./var``, or memory in tests) in development, PostgreSQL through
psycopg 3 in production; Alembic migrations in ``migrations/``. Start with
``Store.from_url(url)`` and ``store.upgrade()``.
"""

from typing import TYPE_CHECKING, Any

from service.storage.package_rows import hash_token
from service.storage.records import (
    ACTIVE_STATES,
    CALLER_ACTIONS,
    RELEASE_MODES,
    STATES,
    STORE_ACTIONS,
    SYSTEM_ACTOR,
    AuditEvent,
    Grant,
    Package,
    PackageState,
    ReleaseMode,
    Reveal,
    recipient_actor,
)

if TYPE_CHECKING:
    from service.storage.store import Store


def __getattr__(name: str) -> Any:
    """``Store`` (SQLAlchemy) is imported on first use: the records and checks here are
    used by commands that write without it (``sendguard protect``: ``sqlite_keys``)."""
    if name == "Store":
        from service.storage.store import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ACTIVE_STATES",
    "CALLER_ACTIONS",
    "RELEASE_MODES",
    "STATES",
    "STORE_ACTIONS",
    "SYSTEM_ACTOR",
    "AuditEvent",
    "Grant",
    "Package",
    "PackageState",
    "ReleaseMode",
    "Reveal",
    "Store",
    "hash_token",
    "recipient_actor",
]
