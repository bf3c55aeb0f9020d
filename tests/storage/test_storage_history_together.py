"""Who saw whom (SPEC 10.6, ``history_together``) on SQLite and PostgreSQL: recorded from
the From/To/Cc of sent mail (never Bcc) and of threads read from Gmail, only for messages
of 2-``MAX_TOGETHER`` people, as keyed hashes; answered per message; forgotten and purged
with the rest; a thread learnt changes the history stamp."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from service.protect.keywrap import LocalKeyWrapper
from service.storage import Store
from service.storage.history import MAX_TOGETHER, HistoryCrypto, SentMessage
from service.storage.sent import sent_message

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ME = "suzuki@a-sys.co.jp"
B, C, D = "yamada@b-corp.co.jp", "sato@c-shoji.co.jp", "kimura@d-kogyo.co.jp"


def crypto_of(store: Store) -> HistoryCrypto:
    return store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)


def sent(to: str, cc: str = "", bcc: str = "", mid: str = "<1@a-sys.co.jp>") -> SentMessage:
    raw = (f"From: {ME}\r\nTo: {to}\r\n" + (f"Cc: {cc}\r\n" if cc else "")
           + (f"Bcc: {bcc}\r\n" if bcc else "") + f"Message-ID: {mid}\r\n"
           "Subject: x\r\n\r\nbody\r\n").encode()
    msg = sent_message(raw, ME)
    assert msg is not None
    return msg


def test_sent_mail_shows_to_and_cc_together_not_bcc(store: Store, raw: sa.Engine) -> None:
    crypto = crypto_of(store)
    assert store.record_history(crypto, ME, sent(B, cc=C, bcc=D), NOW)
    view = store.history_view(crypto, ME)
    assert [set(g) for g in view.together([B, C, D])] == [{B, C}]
    assert view.together([B, D]) == [] and view.together([C]) == []
    assert store.history_view(crypto, "other@a-sys.co.jp").together([B, C]) == []
    with raw.connect() as conn:
        rows = list(conn.execute(sa.text("SELECT * FROM history_together")))
    assert len(rows) == 3                                   # the sender, B and C
    assert not any("b-corp" in repr(tuple(r)) or "c-shoji" in repr(tuple(r)) for r in rows)


def test_each_message_answers_for_itself(store: Store) -> None:
    crypto = crypto_of(store)
    store.record_history(crypto, ME, sent(B, mid="<1@a>"), NOW)
    store.record_history(crypto, ME, sent(C, mid="<2@a>"), NOW)
    view = store.history_view(crypto, ME)
    assert view.together([B, C]) == []        # each went to the sender, never together
    store.record_history(crypto, ME, sent(f"{B}, {D}", mid="<3@a>"), NOW)
    store.record_history(crypto, ME, sent(f"{D}, {C}", mid="<4@a>"), NOW)
    groups = {frozenset(g) for g in store.history_view(crypto, ME).together([B, C, D])}
    assert groups == {frozenset({B, D}), frozenset({C, D})}


def test_a_circular_is_not_kept(store: Store) -> None:
    crypto = crypto_of(store)
    many = ", ".join(f"m{i}@org{i}.example.jp" for i in range(MAX_TOGETHER))
    store.record_history(crypto, ME, sent(many), NOW)        # the sender + 20: 21 people
    assert store.history_view(crypto, ME).together(["m0@org0.example.jp",
                                                    "m1@org1.example.jp"]) == []


def test_threads_read_from_gmail_are_kept_and_forgotten(store: Store) -> None:
    crypto = crypto_of(store)
    people = [("<t1@b-corp.co.jp>", [B, ME, C]), ("<t2@a>", [ME, B]), ("x", [B])]
    assert store.record_together(crypto, ME, people, NOW) == 5
    assert store.record_together(crypto, ME, people, NOW) == 0      # read again: nothing new
    view = store.history_view(crypto, ME)
    assert [set(g) for g in view.together([B, C])] == [{B, C}]
    assert store.forget_history(crypto, ME) >= 5
    assert store.history_view(crypto, ME).together([B, C]) == []


def test_retention_purges_together_rows(store: Store) -> None:
    crypto = crypto_of(store)
    store.record_together(crypto, ME, [("<t1@b>", [B, C])], NOW - timedelta(days=800))
    store.record_together(crypto, ME, [("<t2@b>", [B, D])], NOW)
    store.purge_history(NOW - timedelta(days=730))
    view = store.history_view(crypto, ME)
    assert view.together([B, C]) == [] and len(view.together([B, D])) == 1


def test_learning_changes_the_stamp(store: Store) -> None:
    crypto = crypto_of(store)
    before = store.history_stamp(crypto, ME)
    store.touch_history(crypto, ME, "learned:<gmail-thread:1>:x", NOW)
    assert store.history_stamp(crypto, ME) != before
