"""The add-on protocol as Google sends it (issue 8): events without a subject, UI thread
ids, locale only with its scope, drafts of any age, a compose window emptied after a
send, fixes that redraw the panel, and no Gmail call outside the granted scopes."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from service.addon.scopes import ALL_SCOPES, LOCALE_SCOPE
from service.devtools.gmail_emulator.emulator import GmailEmulator

from .apis import Api, ClientApi
from .conftest import MakeApp
from .support import (
    POLICY,
    POLICY_OVERRIDE,
    SENDER,
    Compose,
    Events,
    buttons,
    draft_update,
    kiyose_944,
    params_of,
    texts,
    the_card,
    tick_all,
    toyama_external_49,
)

CHECK_SEND = "/addon/action/check_send"
NO_LOCALE = [s for s in ALL_SCOPES if s != LOCALE_SCOPE]   # Google sends no locale then
HOUR_MS = 3600 * 1000


def on_screen(c: Compose) -> dict[str, Any]:
    return {"to": c.to, "cc": c.cc, "bcc": c.bcc}


def call(api: Api, events: Events, path: str, c: Compose, **kw: Any) -> dict[str, Any]:
    status, data = api.call(path, *events.make(**on_screen(c), **kw))
    assert status == 200 and isinstance(data, dict), data
    return data


def click(api: Api, events: Events, action: dict[str, Any], c: Compose,
          **kw: Any) -> dict[str, Any]:
    return call(api, events, urlsplit(action["function"]).path, c,
                params=params_of(action), **kw)


def no_scope_refusals(emulator: GmailEmulator) -> None:
    refused = [r.method for r in emulator.requests() if r.status == 403]
    assert refused == [], f"Gmail calls outside the granted scopes: {refused}"


def test_a_reply_is_found_by_its_ui_thread_id(api: Api, events: Events,
                                              emulator: GmailEmulator) -> None:
    """Google names the thread ``thread-f:<decimal>``; the draft of the reply lives in the
    API's hex thread. A new draft to the same person does not get in the way."""
    received = Compose(to=[SENDER], subject="ご依頼の件").mime("tanaka@partner-shoji.co.jp")
    _, thread = emulator.put_message(SENDER, received)
    reply = Compose(to=["tanaka@partner-shoji.co.jp"], subject="Re: ご依頼の件")
    emulator.put_draft(SENDER, reply.mime(), thread_id=thread,
                       internal_date_ms=int((time.time() - 3 * 86400) * 1000))
    emulator.put_draft(SENDER, Compose(to=["tanaka@partner-shoji.co.jp"],
                                       subject="別件").mime())
    card = the_card(call(api, events, CHECK_SEND, reply, thread_id=thread))
    assert card["name"] == "confirm"
    assert "Re: ご依頼の件" in texts(card)
    no_scope_refusals(emulator)


def test_a_draft_hours_old_is_found(api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = Compose(to=["tanaka@partner-shoji.co.jp"], subject="見積書")
    emulator.put_draft(SENDER, c.mime(), internal_date_ms=int(time.time() * 1000) - 5 * HOUR_MS)
    assert the_card(call(api, events, CHECK_SEND, c))["name"] == "confirm"


def test_alike_drafts_get_a_pick_card_with_distinct_rows(api: Api, events: Events,
                                                         emulator: GmailEmulator) -> None:
    now = int(time.time() * 1000)
    first = Compose(to=[SENDER], bcc=["a@gmail.com", "b@yahoo.co.jp"], subject="総会のお知らせ")
    second = Compose(to=[SENDER], bcc=["a@gmail.com", "b@yahoo.co.jp"], subject="会費のお願い")
    d1, _, _ = emulator.put_draft(SENDER, first.mime(), internal_date_ms=now - 26 * HOUR_MS)
    d2, _, _ = emulator.put_draft(SENDER, second.mime(), internal_date_ms=now - HOUR_MS)
    card = the_card(call(api, events, CHECK_SEND, first))
    assert card["name"] == "pick_draft"
    rows = [w["decoratedText"] for s in card["sections"] for w in s["widgets"]
            if "button" in w.get("decoratedText", {})]
    assert [params_of(r["button"]["onClick"]["action"])["draft_id"] for r in rows] == [d2, d1]
    assert "会費のお願い" in rows[0]["topLabel"] and "総会のお知らせ" in rows[1]["topLabel"]
    assert all("Bcc: a@gmail.com" in r["text"] for r in rows)        # Bcc shown as Bcc
    assert rows[0]["bottomLabel"] != rows[1]["bottomLabel"]            # save times differ
    picked = the_card(click(api, events, rows[1]["button"]["onClick"]["action"], first))
    assert picked["name"] == "confirm" and "総会のお知らせ" in texts(picked)


def test_japanese_organisation_without_the_locale_scope(make_app: MakeApp, events: Events,
                                                        emulator: GmailEmulator) -> None:
    """Events carry only what Google sends (no userLocale/timeZone without script.locale):
    the policy's default language and zone apply — Japanese cards, JST times."""
    api = ClientApi(make_app(POLICY + 'default_language = "ja"\n'
                                      'default_time_zone = "Asia/Tokyo"\n'))
    now = int(time.time() * 1000)
    c = Compose(to=["tanaka@partner-shoji.co.jp"], subject="見積")
    emulator.put_draft(SENDER, c.mime(), internal_date_ms=now - 2 * HOUR_MS)
    emulator.put_draft(SENDER, c.mime(), internal_date_ms=now - 3 * HOUR_MS)
    headers, body = events.make(**on_screen(c), scopes=NO_LOCALE, locale="en")
    assert "userLocale" not in body["commonEventObject"]
    assert "timeZone" not in body["commonEventObject"]
    status, data = api.call(CHECK_SEND, headers, body)
    assert status == 200
    card = the_card(data)
    assert card["name"] == "pick_draft"
    assert "どの下書き" in texts(card) or "下書き" in card["header"]["title"]
    assert "JST" in texts(card)
    compose = the_card(api.call("/addon/compose", *events.make(**on_screen(c),
                                                               scopes=NO_LOCALE))[1])
    assert "送信" in texts(compose)


def test_google_locale_wins_over_the_policy_default(make_app: MakeApp, events: Events) -> None:
    api = ClientApi(make_app(POLICY + 'default_language = "ja"\n'))
    _, data = api.call("/addon/compose", *events.make(to=["a@gmail.com"], locale="en-US"))
    assert "Check & send" in buttons(the_card(data))


def test_after_sending_the_compose_window_cannot_send_again(
        api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = Compose(to=[SENDER], bcc=["a@gmail.com", "b@yahoo.co.jp"], subject="お知らせ")
    emulator.put_draft(SENDER, c.mime())
    card = the_card(call(api, events, CHECK_SEND, c))
    done = click(api, events, buttons(card)["Send"], c, form=tick_all(card))
    assert the_card(done)["name"] == "sent"
    # the same response empties To, Cc and Bcc: Gmail's own Send has no one to send to
    assert draft_update(done) == {"to": [], "cc": [], "bcc": []}
    assert len(emulator.sent(SENDER)) == 1
    no_scope_refusals(emulator)


def test_a_fix_answers_with_the_draft_update_and_the_new_check(api: Api, events: Events,
                                                               emulator: GmailEmulator) -> None:
    everyone = kiyose_944()
    data = call(api, events, "/addon/action/fix_everyone", Compose(to=everyone))
    moved = draft_update(data)
    assert moved["to"] == [SENDER] and len(moved["bcc"]) == 944
    card = the_card(data)
    assert card["name"] == "compose"
    text = texts(card)
    assert "944" in text                                      # what the fix did
    assert "many_visible" not in text and "Bcc list" not in text
    assert "Everyone in To/Cc sees" not in text               # the old block is gone
    # The sender meant this Bcc list: no many_bcc_recipients now, nor on a later check...
    after = Compose(to=moved["to"], bcc=moved["bcc"])
    again = the_card(call(api, events, "/addon/compose", after))
    assert "long Bcc list" not in texts(again)
    # ... but a Bcc list they did not just make still gets the warning.
    other = Compose(to=[SENDER], bcc=[*moved["bcc"], "stranger@gmail.com"])
    assert "long Bcc list" in texts(the_card(call(api, events, "/addon/compose", other)))


@pytest.mark.parametrize("policy", [POLICY, POLICY_OVERRIDE], ids=["block", "overridable"])
def test_blocked_confirmation_card_has_the_bcc_buttons_it_names(
        make_app: MakeApp, events: Events, emulator: GmailEmulator, policy: str) -> None:
    api = ClientApi(make_app(policy))
    c = Compose(to=toyama_external_49(), subject="交通安全のお知らせ")
    emulator.put_draft(SENDER, c.mime())
    card = the_card(call(api, events, CHECK_SEND, c))
    assert card["name"] == "confirm" and "Bcc button below" in texts(card)
    fix = buttons(card)["Move external To/Cc to Bcc"]
    data = click(api, events, fix, c)
    assert len(draft_update(data)["bcc"]) == 49
    assert the_card(data)["name"] == "compose"


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_primary_footer_buttons_have_a_colour(api: Api, events: Events, locale: str) -> None:
    card = the_card(api.call("/addon/compose", *events.make(to=["a@gmail.com"],
                                                             locale=locale))[1])
    assert card["fixedFooter"]["primaryButton"]["color"]["blue"] > 0.5
