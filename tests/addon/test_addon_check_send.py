"""Check & send against the Gmail emulator through the real google-api-python-client.

Drafts are saved in the emulator as Gmail's compose window saves them; the add-on finds,
reads, confirms and sends them. Fault modes: nothing is sent twice and nothing is lost.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.gmail.client import ApiGmailClient

from .apis import Api, ClientApi, HttpApi
from .support import (
    INTERNAL,
    OAUTH,
    POLICY_OVERRIDE,
    SENDER,
    Compose,
    Events,
    buttons,
    checkbox_values,
    members,
    params_of,
    texts,
    the_card,
    tick_all,
    widgets,
)

CHECK_SEND = "/addon/action/check_send"


def external_12() -> Compose:
    return Compose(to=[SENDER], bcc=members(12), subject="みつばちプロジェクト終了のお知らせ")


def on_screen(c: Compose) -> dict[str, Any]:
    return {"to": c.to, "cc": c.cc, "bcc": c.bcc}


def save(emulator: GmailEmulator, c: Compose) -> str:
    draft_id, _, _ = emulator.put_draft(SENDER, c.mime())
    return draft_id


def path(action: dict[str, Any]) -> str:
    return urlsplit(str(action["function"])).path


def click(api: Api, events: Events, action: dict[str, Any], c: Compose,
          form: dict[str, list[str]] | None = None, **kw: Any) -> dict[str, Any]:
    status, data = api.call(path(action), *events.make(params=params_of(action), form=form,
                                                        **on_screen(c), **kw))
    assert status == 200 and isinstance(data, dict), data
    return data


def check(api: Api, events: Events, c: Compose, **kw: Any) -> dict[str, Any]:
    status, data = api.call(CHECK_SEND, *events.make(**on_screen(c), **kw))
    assert status == 200, data
    return the_card(data)


def send_button(card: dict[str, Any]) -> dict[str, Any]:
    return buttons(card)["Send"]


def sent_recipients(emulator: GmailEmulator) -> list[frozenset[str]]:
    return [s.recipients for s in emulator.sent(SENDER)]


def test_check_and_send_happy_path(any_api: Api, events: Events,
                                   emulator: GmailEmulator) -> None:
    c = external_12()
    save(emulator, c)
    card = check(any_api, events, c)
    assert card["name"] == "confirm"
    ticks = checkbox_values(card, "rcpt")
    assert sorted(v for vs in ticks.values() for v in vs) == sorted(
        f"r:{a}" for a in [*c.to, *c.bcc])
    assert "⚠ member0000@gmail.com" in texts(card)        # external ones highlighted
    done = the_card(click(any_api, events, send_button(card), c, form=tick_all(card)))
    assert done["name"] == "sent"
    assert sent_recipients(emulator) == [frozenset([SENDER, *c.bcc])]


def test_attachment_content_is_checked_before_sending(api: Api, events: Events,
                                                      emulator: GmailEmulator) -> None:
    staff = "\n".join(f"{i},社員{i},staff{i}@{INTERNAL},090-1234-{i:04d}" for i in range(30))
    c = Compose(to=["partner@client-a.co.jp"], subject="資料送付",
                attachments=[("社員名簿.csv", "text/csv", staff.encode("utf-8"))])
    save(emulator, c)
    card = check(api, events, c)
    acks = checkbox_values(card, "ack")
    text = texts(card)
    assert "personal" in text.lower() and "社員名簿.csv" in text
    assert sum(len(v) for v in acks.values()) >= 2          # personal data + unencrypted


@pytest.mark.parametrize("drop", ["one recipient", "one warning", "every tick", "all but ack"])
def test_confirm_refuses_when_something_is_not_ticked(api: Api, events: Events,
                                                      emulator: GmailEmulator,
                                                      drop: str) -> None:
    c = Compose(to=["tanaka@partner-shoji.co.jp", "suzuki@client-b.co.jp"], subject="見積")
    save(emulator, c)
    card = check(api, events, c)
    form = tick_all(card)
    assert any(k.startswith("ack") for k in form), "this draft must have a warning"
    if drop == "one recipient":
        name = next(k for k in form if k.startswith("rcpt"))
        form[name] = form[name][1:]
    elif drop == "one warning":
        name = next(k for k in form if k.startswith("ack"))
        form[name] = form[name][1:]
    elif drop == "every tick":
        form = {}
    else:
        form = {k: v for k, v in form.items() if not k.startswith("ack")}
    again = the_card(click(api, events, send_button(card), c, form=form))
    assert again["name"] == "confirm"
    assert "Not sent" in texts(again)
    assert emulator.sent(SENDER) == []


def test_ticks_are_checked_against_the_server_not_the_client(api: Api, events: Events,
                                                             emulator: GmailEmulator) -> None:
    """A client claiming ticks for values it made up (or recipient-free) does not pass."""
    c = Compose(to=["tanaka@partner-shoji.co.jp"], cc=["x@gmail.com"], subject="件")
    save(emulator, c)
    card = check(api, events, c)
    forged = {"rcpt_ext": ["r:someone@else.jp"], "ack_0": ["0" * 20]}
    again = the_card(click(api, events, send_button(card), c, form=forged))
    assert again["name"] == "confirm" and emulator.sent(SENDER) == []


def test_a_draft_changed_after_confirmation_is_confirmed_again(api: Api, events: Events,
                                                               emulator: GmailEmulator) -> None:
    c = external_12()
    draft_id = save(emulator, c)
    card = check(api, events, c)
    form = tick_all(card)
    c.bcc.append("newcomer@gmail.com")                   # the user keeps typing; Gmail saves
    with ApiGmailClient(OAUTH, _endpoint(api)) as gmail:
        gmail.update_draft(draft_id, c.mime(), None)
    again = the_card(click(api, events, send_button(card), c, form=form))
    assert again["name"] == "confirm"
    assert "draft changed" in texts(again)
    assert emulator.sent(SENDER) == []
    # ticking the new list sends what is now in the draft
    done = the_card(click(api, events, send_button(again), c, form=tick_all(again)))
    assert done["name"] == "sent"
    assert sent_recipients(emulator) == [frozenset([SENDER, *c.bcc])]


def _endpoint(api: Api) -> str:
    endpoint: str = api.app.extensions["sendguard"].config.gmail_api_endpoint
    return endpoint


@pytest.mark.parametrize("reason,sent", [
    ("", False), ("急ぎです", False), ("全員が同じ委員会の構成員で、互いの連絡先を共有済み", True),
], ids=["no reason", "too short", "real reason"])
def test_override_with_a_typed_reason(make_app: Callable[..., Any], events: Events,
                                      emulator: GmailEmulator, reason: str, sent: bool) -> None:
    api = ClientApi(make_app(policy=POLICY_OVERRIDE))
    c = Compose(to=members(12, ("iinkai-a.or.jp",)), subject="委員会のお知らせ")
    save(emulator, c)
    card = check(api, events, c)
    inputs = [w["textInput"]["name"] for w in widgets(card) if "textInput" in w]
    assert inputs == ["override.many_visible_recipients"]
    form = {**tick_all(card), inputs[0]: [reason]}
    result = the_card(click(api, events, send_button(card), c, form=form))
    assert (result["name"] == "sent") is sent
    assert bool(emulator.sent(SENDER)) is sent
    if sent:
        store = api.app.extensions["sendguard"].store
        confirmed = store.search_audit(user=SENDER, action="addon.send_confirmed")
        assert confirmed[-1].data["overrides"] == [
            {"code": "many_visible_recipients", "reason": reason}]
        assert len(confirmed[-1].data["ticked"]) == 12


def test_blocks_without_override_cannot_be_sent(api: Api, events: Events,
                                                emulator: GmailEmulator) -> None:
    c = Compose(to=members(12, ("iinkai-a.or.jp",)), subject="委員会")
    draft_id = save(emulator, c)
    card = check(api, events, c)
    assert "Send" not in buttons(card)
    assert "cannot be sent" in texts(card)
    # a hand-made "Send" click is refused all the same
    fake = {"function": "http://localhost/addon/action/confirm_send",
            "parameters": [{"key": "draft_id", "value": draft_id},
                           {"key": "fp", "value": params_of(buttons(card)["Check again"])
                            .get("fp", "")}]}
    result = the_card(click(api, events, fake, c, form=tick_all(card)))
    assert result["name"] == "confirm"
    assert emulator.sent(SENDER) == []


def test_not_saved_yet_then_retry(api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = external_12()
    card = check(api, events, c)
    assert card["name"] == "not_saved"
    save(emulator, c)                                    # Gmail catches up
    card = the_card(click(api, events, buttons(card)["Try again"], c))
    assert card["name"] == "confirm"


def test_ambiguous_drafts_ask_which_one(api: Api, events: Events,
                                        emulator: GmailEmulator) -> None:
    c = external_12()
    first, second = save(emulator, c), save(emulator, c)
    card = check(api, events, c)
    assert card["name"] == "pick_draft"
    picks = [a for t, a in buttons(card).items() if t == "This one"]
    ids = [params_of(w["decoratedText"]["button"]["onClick"]["action"])["draft_id"]
           for w in widgets(card) if "button" in w.get("decoratedText", {})]
    assert sorted(ids) == sorted([first, second]) and picks
    chosen = next(w["decoratedText"]["button"]["onClick"]["action"] for w in widgets(card)
                  if "button" in w.get("decoratedText", {}))
    confirm = the_card(click(api, events, chosen, c))
    assert confirm["name"] == "confirm"
    the_card(click(api, events, send_button(confirm), c, form=tick_all(confirm)))
    assert len(emulator.sent(SENDER)) == 1


# ----------------------------------------------------------------------------- faults


def _confirmed(api: Api, events: Events, emulator: GmailEmulator,
               c: Compose) -> tuple[dict[str, Any], dict[str, list[str]]]:
    save(emulator, c)
    card = check(api, events, c)
    return send_button(card), tick_all(card)


def test_429_then_ok_sends_once(any_api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = external_12()
    action, form = _confirmed(any_api, events, emulator, c)
    emulator.inject(429, times=2, method="drafts.send", retry_after=0.01)
    done = the_card(click(any_api, events, action, c, form=form))
    assert done["name"] == "sent"
    assert len(emulator.sent(SENDER)) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_persistent_5xx_gives_a_retry_card_and_nothing_is_lost(any_api: Api, events: Events,
                                                               emulator: GmailEmulator,
                                                               status: int) -> None:
    c = external_12()
    action, form = _confirmed(any_api, events, emulator, c)
    emulator.inject(status, times=50, method="drafts.send")
    error = the_card(click(any_api, events, action, c, form=form))
    assert error["name"] == "error"
    assert "Nothing was sent" in texts(error)
    assert emulator.sent(SENDER) == []
    emulator.clear_faults()
    # retry: back to the confirmation (ticks are asked again), then it goes, once
    confirm = the_card(click(any_api, events, buttons(error)["Try again"], c))
    assert confirm["name"] == "confirm"
    done = the_card(click(any_api, events, send_button(confirm), c, form=tick_all(confirm)))
    assert done["name"] == "sent"
    assert len(emulator.sent(SENDER)) == 1


@pytest.mark.parametrize("fault", [
    {"status": 500, "after_commit": True},
    {"drop": True, "after_commit": True},
    {"status": 503, "after_commit": True, "times": 1},
], ids=["500 after commit", "connection dropped after commit", "503 after commit"])
def test_send_that_went_through_despite_an_error_is_not_repeated(
        any_api: Api, events: Events, emulator: GmailEmulator, fault: dict[str, Any]) -> None:
    c = external_12()
    action, form = _confirmed(any_api, events, emulator, c)
    emulator.inject(method="drafts.send", **fault)
    done = the_card(click(any_api, events, action, c, form=form))
    # gmail.compose cannot read Sent: the draft is gone, so it most likely left; the card
    # says the outcome is not confirmed and never "nothing was sent"
    assert done["name"] == "error" and "may or may not have gone out" in texts(done)
    assert "Nothing was sent" not in texts(done)
    assert len(emulator.sent(SENDER)) == 1
    # clicking Send again sends nothing and still does not claim nothing was sent
    again = the_card(click(any_api, events, action, c, form=form))
    assert "Nothing was sent" not in texts(again)
    assert len(emulator.sent(SENDER)) == 1
    assert not [r for r in emulator.requests() if r.status == 403]


def test_gmail_down_while_reading_gives_a_retry_card(api: Api, events: Events,
                                                     emulator: GmailEmulator) -> None:
    c = external_12()
    save(emulator, c)
    emulator.inject(500, times=50, method="drafts.list")
    error = check(api, events, c)
    assert error["name"] == "error" and "Try again" in buttons(error)
    emulator.clear_faults()
    assert the_card(click(api, events, buttons(error)["Try again"], c))["name"] == "confirm"


def test_gmail_rejects_the_token(api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = external_12()
    save(emulator, c)
    error = check(api, events, c, oauth="ya29.revoked")
    assert error["name"] == "error"
    assert "HTTP 401" in texts(error)


def test_double_click_sends_once(live_factory: Callable[..., HttpApi], events: Events,
                                 emulator: GmailEmulator) -> None:
    api = live_factory()
    c = external_12()
    action, form = _confirmed(api, events, emulator, c)
    emulator.inject(delay=0.3, method="drafts.send")     # keep the first send in flight
    results: list[dict[str, Any]] = []

    def press() -> None:
        results.append(the_card(click(api, events, action, c, form=form)))

    threads = [threading.Thread(target=press) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(emulator.sent(SENDER)) == 1
    assert sorted(r["name"] for r in results) == ["sent", "sent", "sent"]
    assert sum("not sent again" in texts(r) for r in results) == 2


def test_a_sent_draft_is_never_sent_by_a_second_instance(make_app: Callable[..., Any],
                                                         events: Events,
                                                         emulator: GmailEmulator) -> None:
    """Two app instances (no shared memory): Gmail's once-only send still holds."""
    one, two = ClientApi(make_app()), ClientApi(make_app())
    c = external_12()
    action, form = _confirmed(one, events, emulator, c)
    assert the_card(click(one, events, action, c, form=form))["name"] == "sent"
    other = the_card(click(two, events, action, c, form=form))
    assert other["name"] == "error" and "no longer exists" in texts(other)
    assert len(emulator.sent(SENDER)) == 1


def test_audit_records_what_was_shown_and_decided(api: Api, events: Events,
                                                  emulator: GmailEmulator) -> None:
    c = Compose(to=["tanaka@partner-shoji.co.jp", "x@gmail.com"], subject="件名")
    action, form = _confirmed(api, events, emulator, c)
    the_card(click(api, events, action, c, form=form))
    store = api.app.extensions["sendguard"].store
    actions = [e.action for e in store.search_audit(user=SENDER)]
    assert actions == ["addon.confirm_shown", "addon.send_confirmed", "stamp.minted",
                       "addon.send_intent", "addon.sent"]
    confirmed = store.search_audit(user=SENDER, action="addon.send_confirmed")[0].data
    # intent and outcome name what went out: the exact bytes' digest and the envelope
    intent = store.search_audit(user=SENDER, action="addon.send_intent")[0].data
    sent = store.search_audit(user=SENDER, action="addon.sent")[0].data
    [message] = emulator.sent(SENDER)
    assert intent["sha256"] == sent["sent"]["sha256"] == hashlib.sha256(message.raw).hexdigest()
    assert intent["recipients"] == sorted(a.lower() for a in c.to) == sent["sent"]["recipients"]
    assert sent["intent"] == intent["intent"]
    assert sorted(confirmed["ticked"]) == sorted(c.to)
    assert "personal_address_visible" in confirmed["acknowledged"]
    flat = repr([e.data for e in store.search_audit(user=SENDER)])
    assert OAUTH not in flat and c.body.splitlines()[0] not in flat
