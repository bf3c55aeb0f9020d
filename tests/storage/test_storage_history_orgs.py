"""Companies learnt per sender (SPEC 10.2) on SQLite and PostgreSQL: from display names
always, from the greeting only when the mail went to one other organisation, never with a
personal provider; hashed and sealed; forgotten with the rest."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa

from service.protect.keywrap import LocalKeyWrapper
from service.storage import Store
from service.storage.history import SentMessage

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ME = "suzuki@a-sys.co.jp"


def test_companies_are_learnt_with_their_domains(store: Store, raw: sa.Engine) -> None:
    crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), NOW)
    msgs = [
        SentMessage((("yamada@b-corp.co.jp", "株式会社B 山田 太郎"),), "<1@a>", (), NOW),
        SentMessage((("sato@c-shoji.co.jp", "佐藤"),), "<2@a>", (), NOW, ("c商事",)),
        # greeting with two other organisations in To: unsure, nothing learnt from it
        SentMessage((("x@d-kogyo.co.jp", ""), ("y@e-ginko.co.jp", "")), "<3@a>", (), NOW,
                    ("d工業",)),
        # a colleague in To does not make it two organisations
        SentMessage((("k@f-sekkei.jp", ""), ("boss@a-sys.co.jp", "")), "<4@a>", (), NOW,
                    ("f設計",)),
        # a personal address is never a company's
        SentMessage((("taro@gmail.com", "株式会社G 太郎"),), "<5@a>", (), NOW),
        SentMessage((("yamada@b-corp.co.jp", "山田 (株式会社B)"),), "<6@a>", (), NOW),
    ]
    assert store.record_history_many(crypto, ME, msgs, NOW) == 6
    view = store.history_view(crypto, ME)
    assert view.org_domains("b") == [("b-corp.co.jp", 2)]
    assert view.org_domains("c商事") == [("c-shoji.co.jp", 1)]
    assert view.org_domains("d工業") == []
    assert view.org_domains("f設計") == [("f-sekkei.jp", 1)]
    assert view.org_domains("g") == []
    assert store.history_view(crypto, "other@a-sys.co.jp").org_domains("b") == []
    with raw.connect() as conn:
        for row in conn.execute(sa.text("SELECT * FROM history_orgs")):
            text = repr(tuple(row))
            assert "b-corp" not in text and "商事" not in text
    assert store.forget_history(crypto, ME) > 0
    assert store.history_view(crypto, ME).org_domains("b") == []
