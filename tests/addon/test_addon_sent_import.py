"""The Sent-folder import in the add-on (SPEC 10.2): opt-in by the deployment, optional
for the user (granular consent), run in the background after the user's own requests with
that request's token, progress on the home card, and the compose card never waiting."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from service.addon import sent_import
from service.addon.scopes import ALL_SCOPES, HISTORY_IMPORT_SCOPE
from service.devtools.gmail_emulator.emulator import GmailEmulator
from tests.support.sent_mail import sent_folder

from .apis import ClientApi
from .support import OAUTH, SENDER, Events, buttons, params_of, texts, the_card

WITH_METADATA = (*ALL_SCOPES, HISTORY_IMPORT_SCOPE)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sent_import, "STEP_EVERY_S", 0.0)


def _fill(emulator: GmailEmulator, n: int) -> None:
    emulator.add_user(SENDER, OAUTH, WITH_METADATA)
    for m in sent_folder(n, SENDER):
        emulator.put_message(SENDER, m.raw, labels=("SENT",))


def home(api: ClientApi, events: Events, locale: str = "en", **kw: Any) -> dict[str, Any]:
    status, data = api.call("/addon/homepage", *events.make(locale=locale, **kw))
    assert status == 200, data
    return the_card(data)


def _calls(emulator: GmailEmulator, method: str) -> int:
    return len([r for r in emulator.requests(method) if r.user == SENDER])


@pytest.mark.parametrize("locale, done", [
    ("en", "Your Sent folder has been read: 130 messages (130 new)."),
    ("ja", "送信済みフォルダを読み取りました: 130件（新規130件）。"),
])
def test_the_import_runs_in_steps_and_feeds_the_compose_check(
        make_app: Any, events: Events, emulator: GmailEmulator, fast: None,
        locale: str, done: str) -> None:
    app: Flask = make_app(history_sent_import=True)
    api = ClientApi(app)
    _fill(emulator, 130)
    first = home(api, events, locale, scopes=WITH_METADATA)
    assert "in the background" in texts(first) or "バックグラウンド" in texts(first)
    for _ in range(10):                       # each home card starts one step afterwards
        sent_import.runner(app).wait()
        card = home(api, events, locale, scopes=WITH_METADATA)
        if done in texts(card):
            break
    assert done in texts(card)
    assert _calls(emulator, "messages.get") == 130
    # what was imported now drives the compose card: a look-alike of a known address
    status, data = api.call("/addon/compose", *events.make(
        locale="en", to=["情報 二郎 <joho-hanako@b-corp.co.jp>"], scopes=WITH_METADATA))
    assert status == 200
    assert "joho-jiro@b-corp.co.jp" in texts(the_card(data))


def test_compose_never_waits_for_a_step(make_app: Any, events: Events,
                                        emulator: GmailEmulator, fast: None) -> None:
    app: Flask = make_app(history_sent_import=True)
    api = ClientApi(app)
    _fill(emulator, 5)
    emulator.inject(None, method="getProfile", delay=3.0)     # a slow Gmail during the step
    started = time.monotonic()
    status, _ = api.call("/addon/compose", *events.make(to=["a@b-corp.co.jp"],
                                                       scopes=WITH_METADATA))
    took = time.monotonic() - started
    assert status == 200 and took < 2.0, took
    sent_import.runner(app).wait()
    assert _calls(emulator, "messages.get") == 5              # it did run, afterwards


@pytest.mark.parametrize("locale, offer, allow", [
    ("en", "SendGuard can learn from your Sent folder", "Allow reading Sent headers"),
    ("ja", "送信済みフォルダからいつもの送信先を学習すると", "送信済みのヘッダーの読み取りを許可"),
])
def test_a_user_who_declined_gets_an_offer_and_nothing_breaks(
        make_app: Any, events: Events, emulator: GmailEmulator, fast: None,
        locale: str, offer: str, allow: str) -> None:
    app: Flask = make_app(history_sent_import=True)
    api = ClientApi(app)
    emulator.add_user(SENDER, OAUTH, ALL_SCOPES)              # gmail.metadata declined
    card = home(api, events, locale, scopes=ALL_SCOPES)
    assert offer in texts(card)
    sent_import.runner(app).wait()
    assert _calls(emulator, "messages.list") == 0             # nothing tried without it
    status, data = api.call("/addon/compose", *events.make(to=["x@b-corp.co.jp"]))
    assert status == 200 and the_card(data)                   # compose as before
    status, data = api.call("/addon/action/grant_history_import", *events.make(
        locale=locale, scopes=ALL_SCOPES, params=params_of(buttons(card)[allow])))
    assert status == 200
    assert data == {"requesting_google_scopes": {"scopes": [HISTORY_IMPORT_SCOPE]}}


def test_not_offered_unless_the_deployment_opts_in(api: ClientApi, events: Events,
                                                   emulator: GmailEmulator,
                                                   app: Flask) -> None:
    _fill(emulator, 3)
    card = home(api, events, scopes=WITH_METADATA)
    assert "Sent folder" not in texts(card)
    sent_import.runner(app).wait()
    assert _calls(emulator, "messages.list") == 0
    status, data = api.call("/addon/action/grant_history_import",
                            *events.make(scopes=WITH_METADATA))
    assert status == 200
    assert "requesting_google_scopes" not in data and the_card(data)["name"] == "error"


def _thread(emulator: GmailEmulator) -> str:
    """A partner's mail (Cc a third company) and the user's earlier answer; returns the
    thread's API id."""
    first = ("From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@b-corp.co.jp>\r\n"
             f"To: {SENDER}\r\nCc: h.sato@c-shoji.co.jp\r\nSubject: x\r\n"
             "Message-ID: <t1@b-corp.co.jp>\r\n\r\nbody\r\n").encode()
    _, thread = emulator.put_message(SENDER, first)
    answer = (f"From: {SENDER}\r\nTo: yamada@b-corp.co.jp\r\nSubject: Re: x\r\n"
              "In-Reply-To: <t1@b-corp.co.jp>\r\nReferences: <t1@b-corp.co.jp>\r\n"
              "Message-ID: <t2@mitsubachi-kiyose.jp>\r\n\r\nok\r\n").encode()
    emulator.put_message(SENDER, answer, labels=("SENT",), thread_id=thread)
    # the reply being written, with a newcomer: saved in the thread as a draft
    emulator.put_draft(SENDER, (f"From: {SENDER}\r\nTo: yamada@b-corp.co.jp, "
                                "new@d-kogyo.co.jp\r\nSubject: Re: x\r\n\r\n").encode(),
                       thread_id=thread)
    return thread


@pytest.mark.parametrize("locale, warning", [
    ("en", "This reply adds d-kogyo.co.jp, which no earlier message of the thread went to."),
    ("ja", "この返信で d-kogyo.co.jp が加わりました。"),
])
def test_a_reply_learns_its_threads_participants(
        make_app: Any, events: Events, emulator: GmailEmulator, fast: None,
        locale: str, warning: str) -> None:
    app: Flask = make_app(history_sent_import=True)
    api = ClientApi(app)
    _fill(emulator, 3)                                   # some history to check against
    thread = _thread(emulator)
    for _ in range(5):                                   # let the import finish first
        home(api, events, scopes=WITH_METADATA)
        sent_import.runner(app).wait()
    to = ["yamada@b-corp.co.jp", "new@d-kogyo.co.jp", "h.sato@c-shoji.co.jp"]

    def reply() -> tuple[dict[str, str], dict[str, Any]]:
        return events.make(to=to, thread_id=thread, scopes=WITH_METADATA, locale=locale)

    status, data = api.call("/addon/compose", *reply())
    assert status == 200 and warning not in texts(the_card(data))   # not known yet: quiet
    sent_import.runner(app).wait()
    assert len([r for r in emulator.requests("threads.get") if r.user == SENDER]) == 1
    status, data = api.call("/addon/compose", *reply())
    card_text = texts(the_card(data))
    assert warning in card_text                          # the newcomer's company only:
    assert "c-shoji.co.jp, which" not in card_text and "b-corp.co.jp, which" not in card_text


def test_without_the_scope_a_reply_reads_no_thread(make_app: Any, events: Events,
                                                   emulator: GmailEmulator,
                                                   fast: None) -> None:
    app: Flask = make_app(history_sent_import=True)
    api = ClientApi(app)
    emulator.add_user(SENDER, OAUTH, ALL_SCOPES)
    thread = _thread(emulator)
    status, data = api.call("/addon/compose", *events.make(
        to=["yamada@b-corp.co.jp", "new@d-kogyo.co.jp"], thread_id=thread,
        scopes=ALL_SCOPES))
    assert status == 200 and "This reply adds" not in texts(the_card(data))
    sent_import.runner(app).wait()
    assert [r for r in emulator.requests("threads.get") if r.user == SENDER] == []


@pytest.mark.parametrize("locale, warning, three", [
    ("en", "2 external organisations can see each other's addresses",
     "3 external organisations can see each other's addresses"),
    ("ja", "社外の2組織が互いのアドレス", "社外の3組織が互いのアドレス"),
])
def test_a_reply_all_the_thread_showed_is_not_a_new_exposure(
        make_app: Any, events: Events, emulator: GmailEmulator, fast: None,
        locale: str, warning: str, three: str) -> None:
    """SPEC 10.6: the partner's first mail showed b-corp and c-shoji to each other; once
    the thread is read, the reply-all to both is quiet. A third company added is not."""
    app: Flask = make_app(history_sent_import=True)
    api = ClientApi(app)
    _fill(emulator, 1)                   # one sent mail, to b-corp alone
    thread = _thread(emulator)
    for _ in range(5):
        home(api, events, scopes=WITH_METADATA)
        sent_import.runner(app).wait()

    def reply(*extra: str) -> tuple[dict[str, str], dict[str, Any]]:
        return events.make(to=["yamada@b-corp.co.jp", "h.sato@c-shoji.co.jp", *extra],
                           thread_id=thread, scopes=WITH_METADATA, locale=locale)

    status, data = api.call("/addon/compose", *reply())
    assert status == 200 and warning in texts(the_card(data))     # nothing known yet
    sent_import.runner(app).wait()
    status, data = api.call("/addon/compose", *reply())
    assert status == 200 and warning not in texts(the_card(data))  # the thread showed them
    status, data = api.call("/addon/compose", *reply("new@d-kogyo.co.jp"))
    assert three in texts(the_card(data)) and "d-kogyo.co.jp" in texts(the_card(data))
