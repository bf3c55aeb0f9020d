"""The compose card and the one-click Bcc fixes, over HTTP, for the seeds' incidents."""

from __future__ import annotations

from typing import Any

import pytest

from .apis import Api
from .support import (
    INTERNAL,
    POLICY,
    SENDER,
    Events,
    buttons,
    draft_update,
    kiyose_944,
    members,
    texts,
    the_card,
    toyama_external_49,
    toyama_internal_4,
    widgets,
)

FIX_EXTERNAL = "/addon/action/fix_external"
FIX_EVERYONE = "/addon/action/fix_everyone"


def compose(api: Api, events: Events, **kw: Any) -> dict[str, Any]:
    status, data = api.call("/addon/compose", *events.make(**kw))
    assert status == 200
    assert "pushCard" in data["renderActions"]["action"]["navigations"][0]
    return the_card(data)


def fix(api: Api, events: Events, path: str, **kw: Any) -> dict[str, list[str]]:
    status, data = api.call(path, *events.make(**kw))
    assert status == 200
    return draft_update(data)


def section_headers(card: dict[str, Any]) -> list[str]:
    return [s.get("header", "") for s in card["sections"]]


@pytest.mark.parametrize("locale,block_header,fix_label", [
    ("en", "Must be fixed before sending (1)", "Move everyone to Bcc (keep me in To)"),
    ("ja", "送信前に必ず直すこと（1件）", "全員をBccに移す（自分はToに残す）"),
], ids=["en", "ja"])
def test_kiyose_944_in_to_is_blocked_and_summarised(api: Api, events: Events, locale: str,
                                                    block_header: str, fix_label: str) -> None:
    card = compose(api, events, to=kiyose_944(), locale=locale)
    assert block_header in section_headers(card)
    text = texts(card)
    assert "944" in text
    assert fix_label in buttons(card)
    # summarised by domain: never one widget per recipient
    assert sum(1 for _ in widgets(card)) < 60
    assert "member0943@" not in text


def test_kiyose_bcc_fix_moves_all_944_and_keeps_the_sender_in_to(api: Api,
                                                                events: Events) -> None:
    to = kiyose_944()
    update = fix(api, events, FIX_EVERYONE, to=to)
    assert update["to"] == [SENDER]
    assert update["cc"] == []
    assert update["bcc"] == to
    # and the card for the fixed draft no longer blocks
    card = compose(api, events, to=update["to"], cc=update["cc"], bcc=update["bcc"])
    assert not any(h.startswith("Must be fixed") for h in section_headers(card))


@pytest.mark.parametrize("path,to,bcc", [
    pytest.param(FIX_EXTERNAL, toyama_internal_4(), toyama_external_49(),
                 id="external only: the 4 internal stay in To"),
    pytest.param(FIX_EVERYONE, [SENDER], toyama_internal_4() + toyama_external_49(),
                 id="everyone: only the sender stays in To"),
])
def test_toyama_49_external_4_internal(api: Api, events: Events, path: str, to: list[str],
                                       bcc: list[str]) -> None:
    mixed = toyama_external_49()[:20] + toyama_internal_4() + toyama_external_49()[20:]
    card = compose(api, events, to=mixed)
    assert any(h.startswith("Must be fixed") for h in section_headers(card))
    update = fix(api, events, path, to=mixed)
    assert update["to"] == to
    assert sorted(update["bcc"]) == sorted(bcc)
    assert update["cc"] == []


def test_cc_mix_of_personal_and_company_addresses(api: Api, events: Events) -> None:
    to = ["tanaka@partner-shoji.co.jp"]
    cc = ["taro.yamada@gmail.com", "hanako@hotmail.com", "suzuki@partner-shoji.co.jp",
          f"kacho@{INTERNAL}"]
    card = compose(api, events, to=to, cc=cc)
    text = texts(card)
    assert "Check these before sending" in text
    assert "taro.yamada@gmail.com" in text            # personal address visible, named
    update = fix(api, events, FIX_EXTERNAL, to=to, cc=cc)
    assert update["to"] == [SENDER]
    assert update["cc"] == [f"kacho@{INTERNAL}"]
    assert sorted(update["bcc"]) == sorted(["tanaka@partner-shoji.co.jp", *cc[:3]])


def test_bcc_template_left_with_900_addresses_warns(api: Api, events: Events) -> None:
    card = compose(api, events, to=["customer@client-a.co.jp"], bcc=members(900))
    text = texts(card)
    assert "900" in text and "Bcc" in text
    assert any(h.startswith("Check these before sending") for h in section_headers(card))


@pytest.mark.parametrize("entry", [
    "sato@client-a.co.jp suzuki@client-a.co.jp",
    "taro＠gmail.com",
    "yamada@",
], ids=["missing comma", "full-width at", "no domain"])
def test_invalid_entries_block_and_stay_where_typed(api: Api, events: Events,
                                                    entry: str) -> None:
    to = [entry, *members(12)]
    card = compose(api, events, to=to)
    assert "is not one valid address" in texts(card)
    update = fix(api, events, FIX_EVERYONE, to=to)
    assert update["to"] == [SENDER, entry]
    assert entry not in update["bcc"] and len(update["bcc"]) == 12


def test_no_recipients_yet(api: Api, events: Events) -> None:
    card = compose(api, events)
    assert "Add recipients" in texts(card)
    assert "Move everyone to Bcc (keep me in To)" not in buttons(card)


def test_internal_only_mail_has_no_fix_buttons(api: Api, events: Events) -> None:
    card = compose(api, events, to=[f"a{i}@{INTERNAL}" for i in range(30)])
    assert "No problems found" in texts(card)
    assert "Move external To/Cc to Bcc" not in buttons(card)
    assert "Check & send" in buttons(card)


@pytest.mark.parametrize("to,bcc,capped", [
    pytest.param([f"u{i}@d{i}.example.co.jp" for i in range(10_000)], [], True,
                 id="10000 recipients in 10000 domains"),
    pytest.param([f"bad{i}@" for i in range(600)], [], True, id="600 invalid entries"),
    pytest.param(members(5000), members(5000, prefix="b"), False, id="5000 To + 5000 Bcc"),
])
def test_huge_drafts_stay_within_card_limits(api: Api, events: Events, to: list[str],
                                             bcc: list[str], capped: bool) -> None:
    card = compose(api, events, to=to, bcc=bcc)   # the_card() checks limits and parses
    assert len(card["sections"]) <= 100
    assert sum(1 for _ in widgets(card)) < 120
    assert ("… and" in texts(card)) is capped


def test_duplicates_are_moved_once(api: Api, events: Events) -> None:
    update = fix(api, events, FIX_EVERYONE, to=["a@gmail.com", "A@Gmail.com"],
                 cc=["a@gmail.com"], bcc=["a@gmail.com", SENDER])
    assert update == {"to": [SENDER], "cc": [], "bcc": ["a@gmail.com"]}


def test_subject_is_escaped_in_cards(api: Api, events: Events) -> None:
    card = compose(api, events, to=["<b>x</b>@gmail.com", *members(11)])
    assert "<b>x</b>@gmail.com" not in texts(card).replace("\\u003c", "<")


def test_without_internal_domains_every_recipient_is_external(make_app: Any,
                                                              events: Events) -> None:
    from .apis import ClientApi

    api = ClientApi(make_app(policy="# no policy keys\n"))
    update = fix(api, events, FIX_EXTERNAL, to=[f"colleague@{INTERNAL}", "a@gmail.com"])
    assert update["bcc"] == [f"colleague@{INTERNAL}", "a@gmail.com"]
    assert update["to"] == [SENDER]
    assert POLICY  # the default test policy does declare an internal domain


def test_homepage_shows_the_policy(api: Api, events: Events) -> None:
    _, data = api.call("/addon/homepage", *events.make(locale="ja"))
    card = the_card(data)
    text = texts(card)
    assert INTERNAL in text and "SendGuardが確認すること" in text


def test_unknown_action_is_a_card_not_a_crash(api: Api, events: Events) -> None:
    status, data = api.call("/addon/action/launch_missiles", *events.make())
    assert status == 200
    card = the_card(data)
    assert card["name"] == "error"
