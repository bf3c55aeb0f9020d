"""The engine holder every part of ``Store`` builds on: short transactions, one place.

Writes on SQLite begin ``IMMEDIATE`` (take the lock first, wait for it under the busy
timeout) so read-check-write sequences are serialised across processes; on PostgreSQL the
same code takes row locks with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from service.storage.engine import IMMEDIATE


class Database:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                yield conn
