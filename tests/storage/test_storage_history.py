"""Recipient history storage on SQLite and PostgreSQL: counted once per message, read back
through the keyed hashes, nothing in the clear, real deletion."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from service.protect.keywrap import LocalKeyWrapper
from service.storage import Store
from service.storage.history import SentMessage

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ME = "suzuki@a-sys.co.jp"
TABLES = ("history_recipients", "history_names", "history_threads", "history_messages",
          "history_orgs")


def sent(i: int, *to: tuple[str, str], refs: tuple[str, ...] = ()) -> SentMessage:
    return SentMessage(tuple(to), f"<m{i}@a-sys.co.jp>", refs, NOW - timedelta(days=i))


def test_record_and_read_back(store: Store, raw: sa.Engine) -> None:
    crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)
    jiro = ("joho-jiro@b-corp.co.jp", "情報 二郎")
    msgs = [sent(i, jiro, ("yamada@b-corp.co.jp", "")) for i in range(3)]
    assert store.record_history_many(crypto, ME, msgs, NOW) == 3
    assert store.record_history_many(crypto, ME, msgs, NOW) == 0   # same Message-IDs
    assert store.record_history(crypto, ME, sent(9, ("x@c.co.jp", ""), refs=("<m0@a-sys.co.jp>",)),
                                NOW)
    view = store.history_view(crypto, ME)
    assert not view.is_empty()
    assert view.count("joho-jiro@b-corp.co.jp") == 3 and view.count("nobody@b-corp.co.jp") == 0
    assert sorted(view.at_domain("b-corp.co.jp")) == [("joho-jiro@b-corp.co.jp", 3),
                                                      ("yamada@b-corp.co.jp", 3)]
    assert view.with_local("yamada") == [("yamada@b-corp.co.jp", 3)]
    assert view.addresses_for_name("情報二郎") == [("joho-jiro@b-corp.co.jp", 3)]
    assert view.names_for("joho-jiro@b-corp.co.jp") == ["情報 二郎"]
    assert view.thread_has_domain(["<m0@a-sys.co.jp>"], "b-corp.co.jp") is True
    assert view.thread_has_domain(["<m0@a-sys.co.jp>"], "c.co.jp") is True
    assert view.thread_has_domain(["<m1@a-sys.co.jp>"], "c.co.jp") is False
    assert view.thread_has_domain(["<unknown@x>"], "c.co.jp") is None
    assert store.history_view(crypto, "other@a-sys.co.jp").is_empty()
    with raw.connect() as conn:
        for table in TABLES:
            query = sa.text(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
            for row in conn.execute(query):
                text = repr(tuple(row))
                assert "b-corp" not in text and "joho" not in text and "suzuki" not in text


def test_forget_deletes_every_row_of_that_sender_only(store: Store, raw: sa.Engine) -> None:
    crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)
    store.record_history(crypto, ME, sent(1, ("a@b.co.jp", "A")), NOW)
    store.record_history(crypto, "other@a-sys.co.jp", sent(2, ("a@b.co.jp", "A")), NOW)
    assert store.forget_history(crypto, ME) == 4
    assert store.history_view(crypto, ME).is_empty()
    assert not store.history_view(crypto, "other@a-sys.co.jp").is_empty()
    assert store.forget_history(crypto, ME) == 0


def test_retention_purges_old_rows(store: Store) -> None:
    crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)
    store.record_history(crypto, ME, sent(400, ("old@b.co.jp", "")), NOW)
    store.record_history(crypto, ME, sent(1, ("new@b.co.jp", "")), NOW)
    assert store.purge_history(NOW - timedelta(days=365)) == 3   # recipient, thread, message
    view = store.history_view(crypto, ME)
    assert view.count("old@b.co.jp") == 0 and view.count("new@b.co.jp") == 1


def test_another_master_key_does_not_open_the_history_key(store: Store) -> None:
    store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)
    from service.errors import SecretError

    with pytest.raises(SecretError):
        store.existing_history_crypto(LocalKeyWrapper(secrets.token_hex(32)))


def test_naive_time_is_refused(store: Store) -> None:
    crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)
    with pytest.raises(Exception, match=r"aware|naive|timezone"):
        store.record_history(crypto, ME, SentMessage((("a@b.co.jp", ""),), "<x@y>"),
                             datetime(2026, 1, 1))


class _CountingWrapper(LocalKeyWrapper):
    unwraps = 0

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        type(self).unwraps += 1
        return super().unwrap(blob, aad)


def test_history_key_is_unwrapped_once_per_store(store: Store) -> None:
    wrapper = _CountingWrapper(secrets.token_hex(32))
    assert store.existing_history_crypto(wrapper) is None      # nothing recorded yet
    made = store.history_crypto(wrapper, NOW)
    before = _CountingWrapper.unwraps
    again = [store.existing_history_crypto(wrapper) for _ in range(5)]
    assert _CountingWrapper.unwraps - before <= 1
    assert all(c is not None and c.h("sender", ME) == made.h("sender", ME) for c in again)
    from service.errors import SecretError

    with pytest.raises(SecretError):              # another key is still refused, not cached
        store.existing_history_crypto(LocalKeyWrapper(secrets.token_hex(32)))
