"""Every path that sends carries exactly one valid stamp (SPEC 10.5): Check & send and
Encrypt & send through the add-on, the emulator holding what Gmail would send, the stamp
checked afterwards with the deployment's own keys and audit."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.gmail.headers import header_values, raw_headers
from service.stamp.verify import VALID, MintRecord, Verifier

from .apis import Api, ClientApi
from .support import SENDER, Events, texts, the_card
from .test_addon_check_send import _confirmed, click, external_12
from .test_addon_encrypt import PARTNER, draft, encrypted, store_of


def verdict_of(api: Api, raw: bytes) -> tuple[str, str]:
    sv = api.app.extensions["sendguard"]
    store = sv.store
    now = sv.clock()
    records = {}
    for ev in store.search_audit(action="stamp.minted", since=now - timedelta(hours=1)):
        rec = MintRecord.from_audit(ev.data)
        assert rec is not None
        records[rec.nonce] = rec
    v = Verifier(sv.stamp_keys, records.get, int(now.timestamp()) + 60).check(raw)
    return v.status, v.reason


def test_check_and_send_carries_one_valid_stamp(any_api: Api, events: Events,
                                                emulator: GmailEmulator) -> None:
    c = external_12()
    action, form = _confirmed(any_api, events, emulator, c)
    assert the_card(click(any_api, events, action, c, form=form))["name"] == "sent"
    [sent] = emulator.sent(SENDER)
    assert len(header_values(raw_headers(sent.raw), "X-SendGuard-Checked")) == 1
    assert verdict_of(any_api, sent.raw) == (VALID, "stamp matches the message as checked")
    [minted] = store_of(any_api).search_audit(user=SENDER, action="stamp.minted")
    assert set(minted.data) == {"nonce", "t", "k", "sender", "recipients_sha256",
                                "recipients", "bcc"}
    assert minted.data["sender"] == SENDER and minted.data["recipients"] == 13
    # a copy delivered without its Bcc header still verifies; an edited one does not
    no_bcc = b"".join(line for line in sent.raw.splitlines(keepends=True)
                      if not line.lower().startswith(b"bcc:"))
    assert verdict_of(any_api, no_bcc)[0] == VALID
    assert verdict_of(any_api, sent.raw + b"P.S. added later\r\n")[0] == "altered"


def test_encrypt_and_send_carries_one_valid_stamp(api: Api, events: Events,
                                                  emulator: GmailEmulator) -> None:
    c = draft()
    encrypted(api, events, emulator, c, PARTNER)
    [sent] = emulator.sent(SENDER)
    assert len(header_values(raw_headers(sent.raw), "X-SendGuard-Checked")) == 1
    assert verdict_of(api, sent.raw)[0] == VALID
    [minted] = store_of(api).search_audit(user=SENDER, action="stamp.minted")
    assert minted.package_id is not None


@pytest.mark.parametrize(("locale", "enforced", "needle"), [
    ("en", True, "a message sent with Gmail's own Send button is rejected"),
    ("ja", True, "Gmail の<b>送信</b>ボタン"),
    ("en", False, None),
], ids=["en-enforced", "ja-enforced", "not-enforced"])
def test_home_card_says_when_check_and_send_is_enforced(
        make_app: Callable[..., Any], events: Events, locale: str, enforced: bool,
        needle: str | None) -> None:
    api = ClientApi(make_app(enforce_check_send=enforced))
    _, data = api.call("/addon/homepage", *events.make(locale=locale))
    card = the_card(data)
    text = html.unescape(texts(card))
    heading = {"en": "Send with Check & send", "ja": "［確認して送信］で送ってください"}[locale]
    if needle is None:
        assert "Send with Check & send" not in text and "Gmail's own Send" not in text
    else:
        assert heading in text
        assert html.unescape(card["sections"][0]["header"]) == heading, "said first"
