"""``sendguard protect``'s key record on a migrated SQLite database, written with the
standard library's ``sqlite3`` instead of SQLAlchemy (issue 12: importing SQLAlchemy cost
more CPU than protecting a 5 MB draft).

The same record as ``Store.create_package``: the rows come from the same checked values
(``package_rows.prepare_package``, ``audit_data.audit_values``) and are stored as
SQLAlchemy stores them on SQLite (instants as naive UTC text with microseconds, JSON by
``json.dumps``), in one ``BEGIN IMMEDIATE`` transaction on a connection set up like the
engine's (busy timeout, foreign keys; the file is already in WAL). The schema stays
the migrations': this writer is used only on a file whose ``alembic_version`` is the
scripts' head (``revisions.script_head``); any other database goes through ``Store``,
which migrates it. Rare paths (withdrawing a record) also go through ``Store``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from service.errors import ConflictError, InputError, NotFoundError
from service.storage.audit_data import audit_values
from service.storage.nul import NUL_MESSAGE, has_nul
from service.storage.package_rows import DEFAULT_REVEAL_LIMIT, prepare_package
from service.storage.records import Package, ReleaseMode
from service.storage.revisions import script_head

BUSY_TIMEOUT_MS = 15_000     # = engine.SQLITE_BUSY_TIMEOUT_MS (a test keeps them equal)
_DATETIMES = ("created_at", "release_at", "expires_at", "first_retrieved_at",
              "released_at", "revoked_at", "purged_at")


class KeyRecords(Protocol):
    """What ``protect`` needs of a store: ``Store`` and ``SQLiteKeyRecords`` both are."""

    def create_package(self, *, sender: str, recipients: Iterable[str], zip_filename: str,
                       file_names: Iterable[str], wrapped_password: bytes,
                       release_mode: ReleaseMode, now: datetime, expires_at: datetime,
                       release_at: datetime | None = None,
                       reveal_limit: int = DEFAULT_REVEAL_LIMIT,
                       message_id: str | None = None, gmail_message_id: str | None = None,
                       subject_hash: bytes | None = None,
                       grants: Iterable[tuple[str, bytes]] = (),
                       package_id: str | None = None) -> Package: ...

    def revoke(self, package_id: str, actor: str, now: datetime) -> Package: ...


def sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for anything else (memory,
    query parameters, another database)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix):]
            if rest and "?" not in rest and rest != ":memory:":
                return Path(rest).expanduser()
    return None


def _stored(value: Any) -> Any:
    """A value as SQLAlchemy binds it on SQLite."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError("naive datetime: pass a UTC-aware datetime")
        v = value.astimezone(UTC)
        return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:"
                f"{v.second:02d}.{v.microsecond:06d}")
    if isinstance(value, list | tuple | dict):
        return json.dumps(value)
    return value


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    params = {k: _stored(v) for k, v in values.items()}
    if has_nul(params):
        raise InputError(NUL_MESSAGE)
    names = ", ".join(params)
    marks = ", ".join(f":{k}" for k in params)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", params)  # noqa: S608


def _package(row: sqlite3.Row) -> Package:
    m = dict(zip(row.keys(), tuple(row), strict=True))
    for name in _DATETIMES:
        if m[name] is not None:
            m[name] = datetime.fromisoformat(m[name]).replace(tzinfo=UTC)
    m["file_names"] = tuple(json.loads(m["file_names"]))
    m["recipients"] = tuple(json.loads(m["recipients"]))
    m["wrapped_password"] = bytes(m["wrapped_password"])
    if m["subject_hash"] is not None:
        m["subject_hash"] = bytes(m["subject_hash"])
    return Package(**m)


class SQLiteKeyRecords:
    """``create_package`` on a migrated SQLite file without SQLAlchemy."""

    def __init__(self, path: Path, url: str, *, pool_size: int = 5) -> None:
        self.path, self._url, self._pool_size = path, url, pool_size

    @classmethod
    def at_head(cls, url: str, *, pool_size: int = 5) -> SQLiteKeyRecords | None:
        """A writer for ``url`` when it is an existing SQLite file at the migrations'
        head; None otherwise (then ``Store`` opens it and migrates it)."""
        path = sqlite_path(url)
        head = script_head()
        if path is None or head is None or not path.is_file():
            return None
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            return None
        return cls(path, url, pool_size=pool_size) if rows == [(head,)] else None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def create_package(self, *, sender: str, recipients: Iterable[str], zip_filename: str,
                       file_names: Iterable[str], wrapped_password: bytes,
                       release_mode: ReleaseMode, now: datetime, expires_at: datetime,
                       release_at: datetime | None = None,
                       reveal_limit: int = DEFAULT_REVEAL_LIMIT,
                       message_id: str | None = None, gmail_message_id: str | None = None,
                       subject_hash: bytes | None = None,
                       grants: Iterable[tuple[str, bytes]] = (),
                       package_id: str | None = None) -> Package:
        """``Store.create_package``: the key record, its grants and its audit event in
        one transaction."""
        new = prepare_package(
            sender=sender, recipients=recipients, zip_filename=zip_filename,
            file_names=file_names, wrapped_password=wrapped_password,
            release_mode=release_mode, now=now, expires_at=expires_at, release_at=release_at,
            reveal_limit=reveal_limit, message_id=message_id,
            gmail_message_id=gmail_message_id, subject_hash=subject_hash, grants=grants,
            package_id=package_id)
        audit = audit_values(**new.audit)
        new_id = new.values["id"]
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT id FROM packages WHERE id = ?",
                                (new_id,)).fetchone() is not None:
                    raise ConflictError("a package with this id already exists")
                _insert(conn, "packages", new.values)
                for grant in new.grants:
                    _insert(conn, "grants", grant)
                _insert(conn, "audit_events", audit)
                row = conn.execute("SELECT * FROM packages WHERE id = ?", (new_id,)).fetchone()
                if row is None:
                    raise NotFoundError("package not found")
                package = _package(row)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError:
            raise ConflictError("the package id, or a grant's address or token, is "
                                "already taken") from None
        finally:
            conn.close()
        return package

    def revoke(self, package_id: str, actor: str, now: datetime) -> Package:
        """Withdraw a record (a failed write, a record that did not verify): rare, so
        through ``Store`` and its one state machine."""
        from service.storage import Store

        with Store.from_url(self._url, pool_size=self._pool_size) as store:
            return store.revoke(package_id, actor, now)
