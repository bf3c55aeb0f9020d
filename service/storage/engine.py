"""Engines for the two supported databases, configured for correctness under concurrency.

SQLite (development, tests): WAL, foreign keys, a busy timeout, and transactions that we
begin ourselves so a write can take the database lock up front (``BEGIN IMMEDIATE``)
instead of failing half-way when two writers meet. PostgreSQL (production): psycopg 3, a
bounded pool with pre-ping (Cloud SQL drops idle connections).

Pool sizing for Cloud Run: a server worker runs 8 request threads (service/server.py) over
a pool of ``SENDGUARD_DB_POOL_SIZE`` (5) connections and no overflow, so Cloud SQL never
sees more than instances x workers x 5. That is enough because every ``Store`` method
holds its connection for one short transaction only, never across a mail, Gmail or KMS
call, so a thread waiting for a connection gets one within milliseconds. ``pool_timeout``
bounds the wait for when the database itself is stuck: the request then fails with an
error at once instead of hanging until the platform's request timeout. A connection
inherited over a ``fork`` (a pool created before the server forks its workers) is never
reused by the child.

Nothing a caller passed reaches a log line: every engine hides bound parameters from its
exceptions and logging (``hide_parameters``), and a text parameter holding a NUL character
(which PostgreSQL cannot store and SQLite would treat differently) is refused before the
statement runs with an ``InputError`` that says so, not a driver traceback.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.pool import QueuePool

from service.errors import ConfigError, InputError
from service.storage.nul import NUL_MESSAGE as NUL_MESSAGE  # re-exported: its old home
from service.storage.nul import has_nul as has_nul

IMMEDIATE = "sendguard_immediate"   # execution option: take SQLite's write lock at BEGIN
SQLITE_BUSY_TIMEOUT_MS = 15_000
PG_CONNECT_TIMEOUT_S = 10
POOL_TIMEOUT_S = 10.0       # the longest a request waits for a free pooled connection


def normalize_url(url: str) -> URL:
    """Parse ``url``; plain ``postgresql://`` (and ``postgres://``) mean psycopg 3."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ConfigError("DATABASE_URL is not a database URL") from None
    name = parsed.drivername
    if name in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if name in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+pysqlite")
    raise ConfigError(f"DATABASE_URL must be sqlite:// or postgresql://, not {name}://")


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def create_engine(url: str, *, pool_size: int = 5,
                  pool_timeout: float = POOL_TIMEOUT_S) -> Engine:
    if pool_size < 1:
        raise ConfigError("the database pool size must be at least 1")
    if not pool_timeout > 0:
        raise ConfigError("the database pool timeout must be more than 0 seconds")
    parsed = normalize_url(url)
    if parsed.drivername.startswith("sqlite"):
        engine = _sqlite_engine(parsed, pool_size, pool_timeout)
    else:
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        # max_overflow=0: instances x pool_size is the real ceiling on Cloud SQL connections.
        engine = sa.create_engine(parsed, pool_size=pool_size, max_overflow=0,
                                  pool_timeout=pool_timeout, pool_pre_ping=True,
                                  pool_recycle=1800, connect_args=connect_args,
                                  hide_parameters=True)
    _guard_fork(engine)
    _refuse_nul(engine)
    return engine


def _refuse_nul(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if has_nul(parameters):
            raise InputError(NUL_MESSAGE)


def _guard_fork(engine: Engine) -> None:
    """SQLAlchemy's recipe: a pooled connection checked out in another process than the
    one that opened it is dropped (not closed: the parent still owns the socket)."""

    @event.listens_for(engine, "connect")
    def _remember_pid(dbapi_conn: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _check_pid(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid", os.getpid()) != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise DisconnectionError("connection opened by another process")


def _create_private(path: Path) -> None:
    """Create a new SQLite file (and its directory) readable by its owner only: it holds
    wrapped keys and the audit log. SQLite gives its -wal and -shm files the same mode.
    An existing file keeps the mode it has."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the SQLite database's directory {path.parent}: "
                          f"{exc.strerror or exc}") from None
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create the SQLite database {path}: "
                          f"{exc.strerror or exc}") from None


def _sqlite_engine(url: URL, pool_size: int, pool_timeout: float) -> Engine:
    memory = _is_memory(url)
    if memory:
        # One connection for ever (each new one would be a new empty database), handed to
        # one thread at a time: a pool of exactly one.
        engine = sa.create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0,
                                  pool_timeout=max(pool_timeout, 30), pool_recycle=-1,
                                  connect_args={"check_same_thread": False},
                                  hide_parameters=True)
    else:
        _create_private(Path(url.database or "").expanduser())
        # No pre-ping: a file has no server to drop the connection, and the ping was one
        # more statement on every checkout (the compose path's history stamp: issue 12).
        engine = sa.create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                                  pool_timeout=pool_timeout,
                                  connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                "check_same_thread": False},
                                  hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None   # pysqlite must not BEGIN on its own
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if not memory:
            _use_wal(cur)
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _use_wal(cur: sqlite3.Cursor) -> None:
    """Switch a database file to WAL (a setting kept in the file). The switch needs a
    lock for which SQLite does not wait, so a new file opened by several processes at once
    retries here until one of them has made it."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return  # switched, or this file system cannot do WAL: carry on either way
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
