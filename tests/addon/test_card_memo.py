"""Issue 12: the compose card is remembered for unchanged recipients, and only for them.

Through the real routes: a repeated event is answered from memory with the same bytes;
anything the card depends on (recipients, user, locale, policy) makes a new one;
verification always runs first (a refused request never sees a remembered card).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from service.addon.memo import CardMemo, compose_key
from service.addon.routes import CARD_MEMO

from .apis import ClientApi
from .support import INTERNAL, SENDER, Events, members

TO = members(12)


def memo_of(app: Flask) -> CardMemo:
    memo: CardMemo = app.extensions[CARD_MEMO]
    return memo


def post(api: ClientApi, events: Events, **kw: Any) -> bytes:
    resp = api.client.post("/addon/compose", json=events.make(**kw)[1],
                           headers=events.make(**kw)[0])
    data: bytes = resp.data
    assert resp.status_code == 200, data
    return data


def test_a_repeated_event_is_answered_from_memory(app: Flask, events: Events) -> None:
    api = ClientApi(app)
    first = post(api, events, to=TO)
    second = post(api, events, to=TO)
    assert first == second
    assert (memo_of(app).misses, memo_of(app).hits) == (1, 1)


CHANGES: dict[str, dict[str, Any]] = {
    "one more recipient": {"to": [*TO, "x@gmail.com"]},
    "recipient moved to Bcc": {"to": TO[1:], "bcc": TO[:1]},
    "one more Bcc": {"bcc": ["y@gmail.com"]},
    "another user": {"sender": f"other@{INTERNAL}"},
    "another language": {"locale": "ja"},
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_anything_the_card_depends_on_makes_a_new_card(app: Flask, events: Events,
                                                       change: str) -> None:
    api = ClientApi(app)
    base: dict[str, Any] = {"to": TO, "locale": "en"}
    post(api, events, **base)
    post(api, events, **{**base, **CHANGES[change]})
    assert memo_of(app).hits == 0 and memo_of(app).misses == 2


def test_the_card_shown_matches_the_recipients_after_a_change(app: Flask,
                                                              events: Events) -> None:
    api = ClientApi(app)
    quiet = post(api, events, to=[SENDER])
    loud = post(api, events, to=members(30))
    def subtitle(body: bytes) -> str:
        card = json.loads(body)["renderActions"]["action"]["navigations"][0]["pushCard"]
        return str(card["header"]["subtitle"])

    assert subtitle(quiet) != subtitle(loud)
    assert subtitle(post(api, events, to=[SENDER])) == subtitle(quiet)   # and back again


def test_a_refused_request_never_gets_a_remembered_card(app: Flask, events: Events) -> None:
    api = ClientApi(app)
    post(api, events, to=TO)
    _, body = events.make(to=TO)
    status, data = api.post("/addon/compose", {"Authorization": "Bearer forged.x.y"}, body)
    assert (status, data) == (401, {"error": "unauthorized"})
    assert memo_of(app).hits == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_memo_limits() -> None:
    clock = Clock()
    memo = CardMemo(ttl=60, max_entries=2, max_body=10, clock=clock)
    policy = object()
    key = compose_key(SENDER, ("a@x.jp",), (), (), "en", "https://h/addon/action/")
    memo.put(policy, key, "card")
    assert memo.get(policy, key) == "card"
    clock.now = 61
    assert memo.get(policy, key) is None                    # expired
    memo.put(policy, key, "x" * 11)
    assert memo.get(policy, key) is None                    # too large to keep
    for n in range(3):
        memo.put(policy, ("k", n), str(n))
    assert len(memo) == 2 and memo.get(policy, ("k", 0)) is None    # least recent went
    assert memo.get(object(), ("k", 2)) is None and len(memo) == 0  # a new policy: all go


def test_many_bcc_is_never_remembered(app: Flask, events: Events) -> None:
    """Whether "many Bcc" shows depends on the sender's own earlier fix (the audit log),
    not on the event alone: such cards are built every time."""
    api = ClientApi(app)
    many = members(51, prefix="bcc")                   # the default max_bcc is 50
    post(api, events, to=[SENDER], bcc=many)
    post(api, events, to=[SENDER], bcc=many)
    assert memo_of(app).hits == 0 and len(memo_of(app)) == 0
