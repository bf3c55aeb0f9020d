"""What is sent is what was checked; nothing is lost in a fault (issue 9).

Against the Gmail emulator through the real client library: an autosave lands between the
check and the send, the database fails right after a send, a send is left open by a
process that died. The bytes that leave are exactly the bytes analysed and confirmed;
the audit log says what left; an open send is settled on the user's next request with
only what gmail.compose allows; "nothing was sent" is said only when it is known.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from service.devtools.gmail_emulator.emulator import GmailEmulator

from .apis import Api, ClientApi
from .support import SENDER, Compose, Events, buttons, params_of, texts, the_card, tick_all
from .test_addon_encrypt import (
    ENCRYPT,
    PARTNER,
    draft,
    homepage,
    key_card,
    press,
    store_of,
    ticks,
)

CHECK_SEND = "/addon/action/check_send"
SPY = "spy@evil.example"


def on_screen(c: Compose) -> dict[str, Any]:
    return {"to": c.to, "cc": c.cc, "bcc": c.bcc}


def check(api: Api, events: Events, c: Compose) -> dict[str, Any]:
    status, data = api.call(CHECK_SEND, *events.make(**on_screen(c)))
    assert status == 200, data
    return the_card(data)


def click(api: Api, events: Events, action: dict[str, Any], c: Compose,
          form: dict[str, list[str]] | None = None) -> dict[str, Any]:
    from urllib.parse import urlsplit

    status, data = api.call(urlsplit(action["function"]).path, *events.make(
        params=params_of(action), form=form, **on_screen(c)))
    assert status == 200 and isinstance(data, dict), data
    return data


def autosave(emulator: GmailEmulator, draft_id: str, c: Compose) -> None:
    """Gmail's autosave: the draft's content replaced under the same draft id."""
    with emulator._lock:   # the emulator's own mailbox API, as its HTTP handler uses it
        emulator._mailbox(SENDER).update_draft(draft_id, c.mime())


@pytest.mark.parametrize("change", ["bcc added", "body edited", "attachment added"])
def test_a_draft_changed_after_the_card_is_checked_again_not_sent(
        api: Api, events: Events, emulator: GmailEmulator, change: str) -> None:
    c = Compose(to=["tanaka@partner-shoji.co.jp"], subject="見積")
    draft_id, _, _ = emulator.put_draft(SENDER, c.mime())
    card = check(api, events, c)
    later = {"bcc added": Compose(to=c.to, bcc=[SPY], subject=c.subject),
             "body edited": Compose(to=c.to, subject=c.subject, body="別の本文です。"),
             "attachment added": Compose(to=c.to, subject=c.subject,
                                         attachments=[("名簿.csv", "text/csv", b"a,b\n")])}
    autosave(emulator, draft_id, later[change])
    again = the_card(click(api, events, buttons(card)["Send"], c, form=tick_all(card)))
    assert again["name"] == "confirm"
    assert "changed" in texts(again)
    assert emulator.sent(SENDER) == []


def test_an_autosave_during_the_send_does_not_reach_anyone(
        api: Api, events: Events, emulator: GmailEmulator) -> None:
    """The autosave lands after SendGuard read the draft for the send and before Gmail
    processed drafts.send: the request carries the confirmed bytes, so the Bcc the
    autosave added goes nowhere, and the audit names exactly what went out."""
    c = Compose(to=["tanaka@partner-shoji.co.jp"], subject="見積")
    draft_id, _, _ = emulator.put_draft(SENDER, c.mime())
    card = check(api, events, c)
    confirmed = emulator._mailbox(SENDER).draft(draft_id).raw
    emulator.inject(method="drafts.send", delay=1.0)      # Gmail is slow to take the send
    saved = threading.Event()

    def autosave_when_sending() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(r.status is None for r in emulator.requests("drafts.send")):
                autosave(emulator, draft_id, Compose(to=c.to, bcc=[SPY], subject=c.subject))
                saved.set()
                return
            time.sleep(0.01)

    worker = threading.Thread(target=autosave_when_sending)
    worker.start()
    done = the_card(click(api, events, buttons(card)["Send"], c, form=tick_all(card)))
    worker.join()
    assert saved.is_set(), "the autosave did not land during the send"
    assert done["name"] == "sent"
    [message] = emulator.sent(SENDER)
    assert SPY not in message.recipients
    stamp_line, rest = message.raw.split(b"\n", 1)
    assert stamp_line.startswith(b"X-SendGuard-Checked: v1; k=")   # the one header added
    assert rest == confirmed                              # otherwise exactly the bytes analysed
    store = store_of(api)
    [sent] = store.search_audit(user=SENDER, action="addon.sent")
    assert sent.data["sent"]["recipients"] == ["tanaka@partner-shoji.co.jp"]
    assert sent.data["sent"]["sha256"] == hashlib.sha256(message.raw).hexdigest()


def test_encrypt_and_send_sends_the_bytes_it_encrypted(
        make_app: Callable[..., Any], events: Events, emulator: GmailEmulator) -> None:
    """No second read: an autosave between the key card and the send is refused as a
    change, never encrypted and sent unseen."""
    api = ClientApi(make_app())
    c = draft()
    keys = key_card(api, events, emulator, c)
    [ref] = emulator._mailbox(SENDER).drafts.keys()
    autosave(emulator, ref, Compose(to=c.to, cc=c.cc, bcc=[SPY], subject=c.subject,
                                    attachments=c.attachments))
    again = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert again["name"] == "confirm" and emulator.sent(SENDER) == []


def _fail_after_send(monkeypatch: pytest.MonkeyPatch, store: Any, actions: set[str]) -> None:
    """The database goes away right after Gmail accepted the send: from then on every
    write fails as SQLAlchemy reports a lost server."""
    real_append, real_ids = store.append_audit, store.set_message_ids
    down = threading.Event()

    def append(actor: str, action: str, **kw: Any) -> Any:
        if action in actions:
            down.set()
        if down.is_set():
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real_append(actor, action, **kw)

    def set_ids(*a: Any, **kw: Any) -> Any:
        if down.is_set() or "package.sent" in actions:
            down.set()
            raise OperationalError("UPDATE", {}, Exception("server closed the connection"))
        return real_ids(*a, **kw)

    monkeypatch.setattr(store, "append_audit", append)
    monkeypatch.setattr(store, "set_message_ids", set_ids)


def test_database_down_after_an_encrypted_send_never_says_nothing_was_sent(
        make_app: Callable[..., Any], events: Events, emulator: GmailEmulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    api = ClientApi(make_app())
    c = draft()
    keys = key_card(api, events, emulator, c)
    store = store_of(api)
    with monkeypatch.context() as m:
        _fail_after_send(m, store, {"package.sent"})
        card = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert len(emulator.sent(SENDER)) == 1
    text = texts(card)
    assert "Nothing was sent" not in text and "was sent" in text
    [package] = store.list_packages(SENDER)
    assert not (package.message_id or package.gmail_message_id)    # not recorded
    # the database is back; settling waits until the send cannot still be in flight
    sv = api.app.extensions["sendguard"]
    monkeypatch.setattr(sv, "clock", lambda: store_now() + _minutes(5))
    home = homepage(api, events)
    package = store.get_package(package.id)
    assert package.message_id                       # marked sent by its Message-ID
    assert package.message_id == emulator.sent(SENDER)[0].message_id_header
    assert "not confirmed sent" not in texts(home)  # settled before the card was drawn
    outcome = store.search_audit(user=SENDER, action="addon.send_outcome")
    assert [e.data["outcome"] for e in outcome] == ["sent_unconfirmed"]


def store_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _minutes(n: int) -> Any:
    from datetime import timedelta

    return timedelta(minutes=n)


@pytest.mark.parametrize("sent_before_crash", [True, False], ids=["sent", "not-sent"])
def test_a_send_left_open_by_a_dead_process_is_settled_on_the_next_request(
        api: Api, events: Events, emulator: GmailEmulator, sent_before_crash: bool) -> None:
    """The intent was written, then the instance died (SIGTERM past the grace period):
    no outcome. The next check settles it with drafts.get alone (gmail.compose)."""
    c = Compose(to=["tanaka@partner-shoji.co.jp"], subject="見積")
    draft_id, _, _ = emulator.put_draft(SENDER, c.mime())
    store = store_of(api)
    then = store_now() - _minutes(10)
    store.append_audit(SENDER, "addon.send_intent", now=then,
                       data={"intent": "deadbeef00000001", "draft": draft_id,
                             "recipients": ["tanaka@partner-shoji.co.jp"], "sha256": "0",
                             "size": 1, "rfc822_id": None})
    if sent_before_crash:
        with emulator._lock:
            emulator._mailbox(SENDER).send_draft(draft_id)
    check(api, events, Compose(to=["someone@else.example"]))       # any later Check & send
    [outcome] = store.search_audit(user=SENDER, action="addon.send_outcome")
    assert outcome.data["intent"] == "deadbeef00000001"
    assert outcome.data["outcome"] == ("sent_unconfirmed" if sent_before_crash
                                       else "not_sent")
    assert not [r for r in emulator.requests() if r.status == 403]   # drafts.get only
    # settled once: the next request finds nothing open
    check(api, events, Compose(to=["someone@else.example"]))
    assert len(store.search_audit(user=SENDER, action="addon.send_outcome")) == 1


def test_an_unconfirmed_send_is_said_so_and_a_second_click_sends_nothing(
        api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = Compose(to=["tanaka@partner-shoji.co.jp"], subject="見積")
    emulator.put_draft(SENDER, c.mime())
    card = check(api, events, c)
    emulator.inject(500, method="drafts.send", after_commit=True)
    first = the_card(click(api, events, buttons(card)["Send"], c, form=tick_all(card)))
    assert "may or may not have gone out" in texts(first)
    again = the_card(click(api, events, buttons(card)["Send"], c, form=tick_all(card)))
    assert "most likely sent" in texts(again) and "Nothing was sent" not in texts(again)
    assert len(emulator.sent(SENDER)) == 1
