"""Persistence: key records, grants, the audit log and shared rate limits (SPEC 6, 7).

SQLite (a file under ``./var``, or memory in tests) in development, PostgreSQL through
psycopg 3 in production; Alembic migrations in ``migrations/``. Start with
``Store.from_url(url)`` and ``store.upgrade()``.
"""

from service.storage.grants import hash_token
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
from service.storage.store import Store

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
