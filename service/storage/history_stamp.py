"""The sender's history stamp, read on every compose request in one statement on the
driver's own cursor (issue 12: compose CPU).

The stamp is part of the compose card memo's key (``service.addon.routes``), so it is
read from the database on every request, on every instance: a send, an import or a
``forget`` anywhere changes it at once and no memoised card outlives the history it was
made from. What made it cost more than the rest of the request together was not the
database but SQLAlchemy around it (statement building, cache keys, result objects,
transaction events: ~0.3 ms a query), so this one read goes to the pooled DBAPI
connection directly: the pool (its size limit, fork guard and pre-ping) still hands out
the connection, and a driver error still surfaces as SQLAlchemy's exception.

What the stamp is (``HistoryStore.history_stamp`` delegates here, one definition):
(messages counted + the sum of the recipient counts, the newest message's time) of the
sender. Every write changes it: a counted message adds a ``history_messages`` row and/or
raises a recipient count; a thread read from Gmail that taught something new adds a
marker row there (``touch_history``: the thread's organisations and who saw whom are not
counted by the stamp's query, which stays one statement on the compose path); ``forget``
and the retention purge delete rows. One statement
with three subqueries reads one snapshot on both databases.

Until a history key exists no history exists anywhere (every row is keyed by it); that
is asked once per request too, with no SQLAlchemy either, until the key is seen: from
then on the key is unwrapped once per store (``existing_history_crypto``) and kept.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


class HistoryCrypto(Protocol):
    """``storage.history.HistoryCrypto`` (which imports this module: no cycle)."""

    def h(self, kind: str, value: str) -> bytes: ...


class HistoryStore(Protocol):
    """What is read of ``storage.history.HistoryStore``."""

    _engine: Engine

    def existing_history_crypto(self, wrapper: Any) -> Any: ...

# The tables of migration 0003_history (service.storage.schema); {p}: the driver's marker.
_KEY_SQL = "SELECT 1 FROM history_keys WHERE id = 1"
_STAMP_SQL = (
    "SELECT (SELECT count(*) FROM history_messages WHERE sender_hash = {p}), "
    "(SELECT max(at) FROM history_messages WHERE sender_hash = {p}), "
    "(SELECT coalesce(sum(count), 0) FROM history_recipients WHERE sender_hash = {p})")
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}

# stores known to hold a history key (it is never deleted once written)
_keyed: weakref.WeakSet[Any] = weakref.WeakSet()


def _fetch_one(store: HistoryStore, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """One row of one read-only statement on a pooled connection, returned to the pool
    (and rolled back there) at once. Driver errors become SQLAlchemy's ``DBAPIError``
    (no parameters in it), and a connection the driver reports dropped is discarded."""
    engine = store._engine   # storage's own engine: this module is part of the package
    dialect = engine.dialect
    sql = sql.replace("{p}", _PLACEHOLDER[dialect.paramstyle])
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as exc:
        dropped = dialect.is_disconnect(exc, conn.dbapi_connection, None)
        if dropped:
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error,
                                  hide_parameters=True, connection_invalidated=dropped,
                                  dialect=dialect) from None
    finally:
        conn.close()
    return None if row is None else tuple(row)


def sender_stamp(store: HistoryStore, crypto: HistoryCrypto, sender: str) -> tuple[int, str]:
    """(messages counted + recipient counts, newest) of ``sender``: changes with every
    change of the sender's history."""
    s = crypto.h("sender", sender.strip().lower())
    row = _fetch_one(store, _STAMP_SQL, (s, s, s))
    n, newest, total = row if row is not None else (0, None, 0)
    return int(n or 0) + int(total or 0), str(newest)


def history_key_exists(store: HistoryStore) -> bool:
    """Whether the history key was ever written: one statement on the driver's cursor
    until it is seen, none after (it is never deleted). ``existing_history_crypto`` asks
    here first, so a deployment without history pays no SQLAlchemy query a check."""
    if store in _keyed:
        return True
    if _fetch_one(store, _KEY_SQL, ()) is None:
        return False
    _keyed.add(store)
    return True


def history_stamp(store: HistoryStore, wrapper: Any, sender: str) -> tuple[int, str]:
    """The stamp of ``sender``'s history, ``(0, "")`` while no history key exists."""
    if not history_key_exists(store):
        return (0, "")
    crypto = store.existing_history_crypto(wrapper)   # unwrapped once per store, then kept
    return (0, "") if crypto is None else sender_stamp(store, crypto, sender)
