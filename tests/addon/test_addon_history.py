"""Recipient history in the add-on (SPEC 10.2): what Check & send sends becomes history,
the compose card then shows the evidence and a one-click replace, the memo never serves a
card from before the history changed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from service.devtools.gmail_emulator.emulator import GmailEmulator

from .apis import ClientApi
from .support import Compose, Events, buttons, draft_update, params_of, texts, the_card, tick_all
from .test_addon_check_send import check, click, save, send_button

JIRO = "情報 二郎 <joho-jiro@b-corp.co.jp>"
HANAKO = "情報 二郎 <joho-hanako@b-corp.co.jp>"


def compose(api: ClientApi, events: Events, locale: str = "en", **kw: Any) -> dict[str, Any]:
    status, data = api.call("/addon/compose", *events.make(locale=locale, **kw))
    assert status == 200, data
    return the_card(data)


def send_to(api: ClientApi, events: Events, emulator: GmailEmulator, to: str) -> None:
    c = Compose(to=[to], subject="お見積りの件")
    save(emulator, c)
    card = check(api, events, c)
    done = the_card(click(api, events, send_button(card), c, form=tick_all(card)))
    assert done["name"] == "sent"


@pytest.mark.parametrize(("locale", "evidence", "label"), [
    ("en", "You have written to 情報 二郎 at joho-jiro@b-corp.co.jp 1 time; this is "
     "joho-hanako@b-corp.co.jp", "Replace with joho-jiro@b-corp.co.jp"),
    ("ja", "情報 二郎 さんには joho-jiro@b-corp.co.jp 宛に1回送信しています",
     "joho-jiro@b-corp.co.jp に置き換える"),
], ids=["en", "ja"])
def test_sent_mail_becomes_evidence_with_a_replace_fix(
        api: ClientApi, events: Events, emulator: GmailEmulator, app: Flask, locale: str,
        evidence: str, label: str) -> None:
    before = compose(api, events, locale, to=[HANAKO])
    assert "joho-jiro" not in texts(before)                   # no history yet
    send_to(api, events, emulator, JIRO)
    card = compose(api, events, locale, to=[HANAKO])          # same recipients: not memoised
    assert evidence in texts(card)
    action = buttons(card)[label]
    status, data = api.call("/addon/action/fix_replace",
                            *events.make(locale=locale, to=[HANAKO],
                                         params=params_of(action)))
    assert status == 200, data
    assert draft_update(data)["to"] == ["joho-jiro@b-corp.co.jp"]
    known = compose(api, events, locale, to=[JIRO])
    assert "joho-hanako" not in texts(known) and label not in buttons(known)


def test_a_forged_replace_changes_nothing(api: ClientApi, events: Events,
                                          emulator: GmailEmulator) -> None:
    send_to(api, events, emulator, JIRO)
    status, data = api.call("/addon/action/fix_replace", *events.make(
        to=[HANAKO], params={"address": "joho-hanako@b-corp.co.jp",
                             "replace": "attacker@evil.example"}))
    assert status == 200
    assert "updateDraftActionMarkup" not in str(data)


def test_history_disabled_by_policy(make_app: Any, events: Events,
                                    emulator: GmailEmulator) -> None:
    from .support import POLICY

    api = ClientApi(make_app(POLICY + "\n[history]\nenabled = false\n"))
    send_to(api, events, emulator, JIRO)
    assert "joho-jiro" not in texts(compose(api, events, to=[HANAKO]))
