"""The history stamp of the compose card memo (``service.storage.history_stamp``), on
SQLite and PostgreSQL: every kind of write changes it, writes by another instance (another
``Store``, its own pool) are seen on the next read, one statement per read, and a database
that cannot answer raises SQLAlchemy's error like every other store method."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from service.protect.keywrap import LocalKeyWrapper
from service.storage import Store
from service.storage.history import HistoryCrypto, SentMessage
from service.storage.history_stamp import history_stamp

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ME = "suzuki@a-sys.co.jp"
OTHER = "tanaka@a-sys.co.jp"
KEY = secrets.token_hex(32)


def sent(i: int, *to: str, mid: bool = True) -> SentMessage:
    return SentMessage(tuple((a, "") for a in to), f"<m{i}@a-sys.co.jp>" if mid else "",
                       (), NOW - timedelta(days=i))


Write = Callable[[Store, HistoryCrypto], Any]

WRITES: list[Any] = [
    pytest.param(lambda s, c: s.record_history(c, ME, sent(7, "new@b.co.jp"), NOW),
                 id="message-to-a-new-address"),
    pytest.param(lambda s, c: s.record_history(c, ME, sent(8, "a@b.co.jp"), NOW),
                 id="message-to-a-known-address"),
    pytest.param(lambda s, c: s.record_history(c, ME, sent(9, "a@b.co.jp", mid=False), NOW),
                 id="message-without-message-id"),
    pytest.param(lambda s, c: s.record_history(c, ME, sent(0, "older@b.co.jp"), NOW),
                 id="message-newer-than-all"),
    pytest.param(lambda s, c: s.forget_history(c, ME), id="forget"),
    pytest.param(lambda s, c: s.purge_history(NOW - timedelta(days=2)), id="retention-purge"),
]


@pytest.mark.parametrize("write", WRITES)
def test_every_write_changes_the_stamp_seen_by_another_instance(
        write: Write, open_store: Callable[[], Store]) -> None:
    reader, writer = open_store(), open_store()
    wrapper = LocalKeyWrapper(KEY)
    crypto = writer.history_crypto(wrapper, NOW)
    writer.record_history_many(crypto, ME, [sent(1, "a@b.co.jp"), sent(3, "c@b.co.jp")], NOW)
    before = history_stamp(reader, wrapper, ME)
    assert before == history_stamp(reader, wrapper, ME)          # stable when nothing moves
    other = history_stamp(reader, wrapper, OTHER)
    write(writer, crypto)
    assert history_stamp(reader, wrapper, ME) != before
    assert history_stamp(reader, wrapper, OTHER) == other        # another sender's: not
    assert reader.history_stamp(crypto, ME) == history_stamp(reader, wrapper, ME)


@pytest.mark.parametrize("write", [
    pytest.param(lambda s, c: s.record_history(c, ME, sent(1, "a@b.co.jp"), NOW),
                 id="same-message-again"),
    pytest.param(lambda s, c: s.forget_history(c, OTHER), id="forget-another-sender"),
    pytest.param(lambda s, c: s.purge_history(NOW - timedelta(days=30)), id="purge-nothing"),
])
def test_a_write_that_changes_nothing_leaves_the_stamp(write: Write, store: Store) -> None:
    wrapper = LocalKeyWrapper(KEY)
    crypto = store.history_crypto(wrapper, NOW)
    store.record_history(crypto, ME, sent(1, "a@b.co.jp"), NOW)
    before = history_stamp(store, wrapper, ME)
    assert not write(store, crypto)                               # nothing was written
    assert history_stamp(store, wrapper, ME) == before


def test_no_history_key_yet_then_one_made_elsewhere(open_store: Callable[[], Store]) -> None:
    reader, writer = open_store(), open_store()
    wrapper = LocalKeyWrapper(KEY)
    assert history_stamp(reader, wrapper, ME) == (0, "")
    assert reader.existing_history_crypto(wrapper) is None
    crypto = writer.history_crypto(wrapper, NOW)                  # another instance's send
    assert history_stamp(reader, wrapper, ME) == (0, "None")      # key seen, nothing of ME
    writer.record_history(crypto, ME, sent(1, "a@b.co.jp"), NOW)
    assert history_stamp(reader, wrapper, ME)[0] == 2


def test_one_statement_per_read_and_no_sqlalchemy_execution(store: Store) -> None:
    wrapper = LocalKeyWrapper(KEY)
    crypto = store.history_crypto(wrapper, NOW)
    store.record_history(crypto, ME, sent(1, "a@b.co.jp"), NOW)
    history_stamp(store, wrapper, ME)                             # key seen and kept
    core: list[str] = []
    driver: list[str] = []
    engine = store._engine
    engine.dispose()                                     # new connections, traced (SQLite)

    def _core(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        core.append(statement)

    def _trace(dbapi_conn: Any, record: Any) -> None:
        if store.backend == "sqlite":
            dbapi_conn.set_trace_callback(driver.append)

    event.listen(engine, "before_cursor_execute", _core)
    event.listen(engine, "connect", _trace)
    try:
        stamps = {history_stamp(store, wrapper, ME) for _ in range(3)}
    finally:
        event.remove(engine, "before_cursor_execute", _core)
        event.remove(engine, "connect", _trace)
    [(n, newest)] = stamps
    assert n == 2 and newest != "None"                   # one message, one recipient
    assert core == []                                    # no SQLAlchemy statement at all
    if store.backend == "sqlite":
        assert len([s for s in driver if "history_" in s]) == 3


def test_a_database_without_the_tables_raises_sqlalchemy_error(empty_db_url: str) -> None:
    with Store.from_url(empty_db_url) as empty, pytest.raises(SQLAlchemyError) as caught:
        history_stamp(empty, LocalKeyWrapper(KEY), ME)
    assert ME not in str(caught.value)


def test_a_failing_stamp_query_raises_sqlalchemy_error(open_store: Callable[[], Store],
                                                       raw: sa.Engine) -> None:
    wrapper = LocalKeyWrapper(KEY)
    open_store().history_crypto(wrapper, NOW)
    reader = open_store()
    with raw.begin() as conn:
        conn.execute(sa.text("ALTER TABLE history_messages RENAME TO history_messages_away"))
    try:
        with pytest.raises(SQLAlchemyError) as caught:
            history_stamp(reader, wrapper, ME)
        assert ME not in str(caught.value)
        crypto = reader.existing_history_crypto(wrapper)
        assert crypto is not None
        hidden = crypto.h("sender", ME)
        assert hidden.hex() not in str(caught.value) and repr(hidden) not in str(caught.value)
    finally:
        with raw.begin() as conn:
            conn.execute(sa.text("ALTER TABLE history_messages_away RENAME TO history_messages"))



def test_no_history_key_costs_no_sqlalchemy_query_and_a_new_key_is_found(
        open_store: Callable[[], Store]) -> None:
    """Read paths (the compose card's history) ask the driver whether a key exists
    before SQLAlchemy reads it: none runs while there is none, and a key another
    instance makes afterwards is still found on the next read."""
    reader, writer = open_store(), open_store()
    wrapper = LocalKeyWrapper(KEY)
    core: list[str] = []

    def _core(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        core.append(statement)

    event.listen(reader._engine, "before_cursor_execute", _core)
    try:
        assert [reader.existing_history_crypto(wrapper) for _ in range(3)] == [None] * 3
        assert core == []
        crypto = writer.history_crypto(wrapper, NOW)             # another instance's send
        found = reader.existing_history_crypto(wrapper)
    finally:
        event.remove(reader._engine, "before_cursor_execute", _core)
    assert found is not None and found.h("sender", ME) == crypto.h("sender", ME)
    assert len([s for s in core if "history_keys" in s]) == 1     # the key, read once
    assert reader.existing_history_crypto(wrapper) is found      # kept
