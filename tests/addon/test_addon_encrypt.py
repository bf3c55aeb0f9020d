"""Encrypt & send in the add-on, over HTTP, against the Gmail emulator (the real client).

Drafts are saved in the emulator; the confirmation card's "Encrypt & send" leads to the
key card, whose ticks decide who gets the password; the sent message is opened with 7-Zip
using the stored password. Notices go to a real SMTP server on loopback (aiosmtpd).
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.delivery.material import open_package
from service.delivery.release import release_tick
from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.gmail.client import ApiGmailClient
from tests.support.smtp import SmtpServer

from .apis import Api, ClientApi, HttpApi
from .support import (
    INTERNAL,
    OAUTH,
    POLICY,
    SENDER,
    Compose,
    Events,
    buttons,
    checkbox_values,
    params_of,
    the_card,
    tick_all,
)
from .support import texts as card_texts
from .test_addon_check_send import click, save
from .zips import attachments_of, open_zip

PARTNER = "tanaka@partner-shoji.co.jp"
COLLEAGUE = f"suzuki@{INTERNAL}"
OTHER_USER = f"kaikei@{INTERNAL}"
TOKYO = ("Asia/Tokyo", 9 * 3600 * 1000)
FILES = {"図面 2026年度.dwg": b"AC1032" + bytes(range(256)) * 40,
         "notes.txt": "打ち合わせメモ\n".encode() * 100}
ENCRYPT = "Encrypt & send"
MANUAL = POLICY + '[delivery]\nrelease_mode = "manual"\n'
SENDER_ONLY = POLICY + '[delivery]\nrelease_mode = "sender_only"\nrelease_delay = "2m"\n'
REQUIRE = POLICY + "[attachments]\nrequire_encryption_external = true\n"


def texts(card: dict[str, Any]) -> str:
    """What the user reads (card text is HTML-escaped)."""
    return html.unescape(card_texts(card))


def draft(**kw: Any) -> Compose:
    kw.setdefault("to", [PARTNER])
    kw.setdefault("cc", [COLLEAGUE])
    kw.setdefault("subject", "見積書の送付")
    kw.setdefault("attachments", [(n, "application/octet-stream", d) for n, d in FILES.items()])
    return Compose(**kw)


def screen(c: Compose) -> dict[str, Any]:
    return {"to": c.to, "cc": c.cc, "bcc": c.bcc, "time_zone": TOKYO}


def press(api: Api, events: Events, action: dict[str, Any], c: Compose,
          form: dict[str, list[str]] | None = None, **kw: Any) -> dict[str, Any]:
    return the_card(click(api, events, action, c, form=form, time_zone=TOKYO, **kw))


def confirmation(api: Api, events: Events, c: Compose) -> dict[str, Any]:
    status, data = api.call("/addon/action/check_send", *events.make(**screen(c)))
    assert status == 200, data
    card = the_card(data)
    assert card["name"] == "confirm"
    return card


def key_card(api: Api, events: Events, emulator: GmailEmulator, c: Compose) -> dict[str, Any]:
    save(emulator, c)
    card = confirmation(api, events, c)
    keys = press(api, events, buttons(card)[ENCRYPT], c, form=tick_all(card))
    assert keys["name"] == "encrypt_keys", texts(keys)
    return keys


def ticks(*addresses: str) -> dict[str, list[str]]:
    return {"key_ext_0": [f"k:{a}" for a in addresses]}


def store_of(api: Api) -> Any:
    return api.app.extensions["sendguard"].store


def encrypted(api: Api, events: Events, emulator: GmailEmulator, c: Compose,
              *keys: str) -> dict[str, Any]:
    card = key_card(api, events, emulator, c)
    done = press(api, events, buttons(card)[ENCRYPT], c, form=ticks(*keys))
    assert done["name"] == "encrypted", texts(done)
    return done


# ----------------------------------------------------------------------------- the flow


def test_encrypt_and_send_holds_the_key(any_api: Api, events: Events, emulator: GmailEmulator,
                                        tmp_path: Path) -> None:
    c = draft()
    save(emulator, c)
    card = confirmation(any_api, events, c)
    assert {ENCRYPT, "Send", "Check again"} <= set(buttons(card))
    assert "Encrypt & send puts them in one AES-256 ZIP" in texts(card)
    keys = press(any_api, events, buttons(card)[ENCRYPT], c, form=tick_all(card))
    assert keys["name"] == "encrypt_keys"
    offered = checkbox_values(keys, "key")
    assert offered == {"key_ext_0": [f"k:{PARTNER}"], "key_int_0": [f"k:{COLLEAGUE}"]}
    shown = texts(keys)
    assert f"⚠ {PARTNER}" in shown and f"⚠ {COLLEAGUE}" not in shown
    assert "held for 5 minutes" in shown and "図面 2026年度.dwg" in shown

    done = press(any_api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert done["name"] == "encrypted", texts(done)
    store = store_of(any_api)
    [package] = store.list_packages(SENDER)
    assert package.state == "held" and package.release_mode == "delay"
    assert [g.address for g in store.list_grants(package.id)] == [PARTNER]
    held_until = package.release_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"held until {held_until:%H:%M} JST" in texts(done)
    assert {"Revoke password"} == set(buttons(done))     # Release now: manual mode only

    [sent] = emulator.sent(SENDER)
    assert sent.recipients == {PARTNER, COLLEAGUE}
    [(zip_name, data)] = attachments_of(sent.raw)
    assert zip_name == package.zip_filename and "図面" not in zip_name
    password = open_package(any_api.app.extensions["sendguard"].keywrapper, package).password
    assert open_zip(data, password, tmp_path) == FILES

    actions = [e.action for e in store.search_audit(user=SENDER)]
    assert actions == ["addon.confirm_shown", "addon.encrypt_confirmed",
                       "addon.encrypt_send_confirmed", "package.created",
                       "stamp.minted", "addon.send_intent", "package.sent", "addon.sent"]
    # the intent and the outcome name exactly the bytes that went out (the encrypted form)
    intent = store.search_audit(user=SENDER, action="addon.send_intent")[0]
    done = store.search_audit(user=SENDER, action="addon.sent")[0]
    assert intent.package_id == package.id
    assert intent.data["sha256"] == done.data["sent"]["sha256"] == hashlib.sha256(
        sent.raw).hexdigest()
    chosen = store.search_audit(user=SENDER, action="addon.encrypt_send_confirmed")[0].data
    assert chosen["grantees"] == [PARTNER] and chosen["external_grantees"] == [
        PARTNER]
    assert chosen["offered"] == 2 and chosen["external_offered"] == 1
    assert chosen["release_mode"] == "delay" and chosen["release_delay"] == 300
    flat = repr([e.data for e in store.search_audit()])
    assert password not in flat and OAUTH not in flat


def test_japanese_card_and_time_zone(api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = draft()
    save(emulator, c)
    status, data = api.call("/addon/action/check_send", *events.make(**screen(c), locale="ja"))
    assert status == 200, data
    card = the_card(data)
    keys = press(api, events, buttons(card)["暗号化して送信"], c, form=tick_all(card),
                 locale="ja")
    assert "5分保留" in texts(keys)
    done = press(api, events, buttons(keys)["暗号化して送信"], c, form=ticks(PARTNER),
                 locale="ja")
    assert "暗号化して送信しました" in texts(done) and re.search(r"\d\d:\d\d JST", texts(done))


@pytest.mark.parametrize("form,notice", [
    (ticks("evil@attacker.example"), "evil@attacker.example is not a recipient"),
    (ticks(PARTNER, "evil@attacker.example"), "evil@attacker.example is not a recipient"),
    ({"key_ext_0": [PARTNER]}, f"{PARTNER} is not a recipient"),
    ({"key_ext_0": [f"r:{PARTNER}"]}, f"r:{PARTNER} is not a recipient"),
    ({"key_ext_0": [f"k:{PARTNER.upper()}"]}, "is not a recipient"),
    ({}, "tick at least one recipient"),
], ids=["forged address", "forged beside a real one", "no prefix", "confirmation value",
        "case-changed value", "nobody ticked"])
def test_only_actual_recipients_can_get_the_key(api: Api, events: Events,
                                                emulator: GmailEmulator,
                                                form: dict[str, list[str]],
                                                notice: str) -> None:
    c = draft()
    keys = key_card(api, events, emulator, c)
    again = press(api, events, buttons(keys)[ENCRYPT], c, form=form)
    assert again["name"] == "encrypt_keys" and notice in texts(again)
    assert emulator.sent(SENDER) == [] and store_of(api).list_packages(SENDER) == []
    refused = store_of(api).search_audit(user=SENDER, action="addon.send_refused")
    assert refused[-1].data["reason"] == "key_recipients"
    # the sender corrects the ticks: it goes, to the real recipient only
    done = press(api, events, buttons(again)[ENCRYPT], c, form=ticks(PARTNER))
    assert done["name"] == "encrypted" and len(emulator.sent(SENDER)) == 1


@pytest.mark.parametrize("how", ["skipped confirmation", "made-up fingerprint",
                                 "unticked confirmation"])
def test_the_confirmation_cannot_be_skipped(api: Api, events: Events, emulator: GmailEmulator,
                                            how: str) -> None:
    c = draft()
    save(emulator, c)
    card = confirmation(api, events, c)
    action = buttons(card)[ENCRYPT]
    params = params_of(action)
    if how == "unticked confirmation":
        result = press(api, events, action, c, form={})
        expected = "Not sent: tick every recipient"
    else:
        fp = params["fp"] if how == "skipped confirmation" else "0" * 20
        forged = {"function": action["function"].replace("encrypt_review", "encrypt_send"),
                  "parameters": [{"key": "draft_id", "value": params["draft_id"]},
                                 {"key": "fp", "value": fp}]}
        result = press(api, events, forged, c, form=ticks(PARTNER))
        expected = ("confirm the recipients and warnings first"
                    if how == "skipped confirmation" else "draft changed")
    assert result["name"] == "confirm" and expected in texts(result)
    assert emulator.sent(SENDER) == [] and store_of(api).list_packages(SENDER) == []


def test_a_draft_changed_after_the_key_card_is_confirmed_again(
        api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = draft()
    keys = key_card(api, events, emulator, c)
    draft_id = params_of(buttons(keys)[ENCRYPT])["draft_id"]
    c.to.append("newcomer@gmail.com")
    endpoint = api.app.extensions["sendguard"].config.gmail_api_endpoint
    with ApiGmailClient(OAUTH, endpoint) as gmail:
        gmail.update_draft(draft_id, c.mime(), None)
    again = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert again["name"] == "confirm" and "draft changed" in texts(again)
    assert emulator.sent(SENDER) == []


def test_encryption_required_offers_only_encrypt_and_send(
        make_app: Callable[..., Any], events: Events, emulator: GmailEmulator) -> None:
    api = ClientApi(make_app(policy=REQUIRE))
    c = draft()
    save(emulator, c)
    card = confirmation(api, events, c)
    assert ENCRYPT in buttons(card) and "Send" not in buttons(card)
    assert "not allowed: use Encrypt & send" in texts(card)
    assert "Use Encrypt & send: the attachments go in one AES-256 ZIP" in texts(card)  # hint
    # a hand-made plain Send is refused; the encrypted path needs no override reason
    plain = {"function": buttons(card)[ENCRYPT]["function"].replace("encrypt_review",
                                                                    "confirm_send"),
             "parameters": buttons(card)[ENCRYPT]["parameters"]}
    assert press(api, events, plain, c, form=tick_all(card))["name"] == "confirm"
    assert emulator.sent(SENDER) == []
    keys = press(api, events, buttons(card)[ENCRYPT], c, form=tick_all(card))
    done = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert done["name"] == "encrypted" and len(emulator.sent(SENDER)) == 1


def test_no_attachments_no_encryption(api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = draft(attachments=[])
    save(emulator, c)
    card = confirmation(api, events, c)
    assert ENCRYPT not in buttons(card)
    send = buttons(card)["Send"]
    forged = {"function": send["function"].replace("confirm_send", "encrypt_review"),
              "parameters": send["parameters"]}
    result = press(api, events, forged, c, form=tick_all(card))
    assert result["name"] == "confirm" and "no attachments to encrypt" in texts(result)
    assert emulator.sent(SENDER) == []


def test_a_failed_send_withdraws_the_key_and_restores_the_draft(
        api: Api, events: Events, emulator: GmailEmulator) -> None:
    c = draft()
    keys = key_card(api, events, emulator, c)
    draft_id = params_of(buttons(keys)[ENCRYPT])["draft_id"]
    emulator.inject(500, times=50, method="drafts.send")
    error = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert error["name"] == "error" and "Nothing was sent" in texts(error)
    emulator.clear_faults()
    [package] = store_of(api).list_packages(SENDER)
    assert package.state == "revoked"
    endpoint = api.app.extensions["sendguard"].config.gmail_api_endpoint
    with ApiGmailClient(OAUTH, endpoint) as gmail:
        names = [n for n, _ in attachments_of(gmail.get_draft(draft_id).raw)]
    assert names == list(FILES)


# ----------------------------------------------------------------------------- once only


def test_double_click_encrypts_and_sends_once(live_factory: Callable[..., HttpApi],
                                              events: Events, emulator: GmailEmulator) -> None:
    api = live_factory()
    c = draft()
    keys = key_card(api, events, emulator, c)
    emulator.inject(delay=0.3, method="drafts.send")     # keep the first send in flight
    results: list[dict[str, Any]] = []

    def click_it() -> None:
        results.append(press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER)))

    threads = [threading.Thread(target=click_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(emulator.sent(SENDER)) == 1 and len(store_of(api).list_packages(SENDER)) == 1
    assert [r["name"] for r in results] == ["encrypted"] * 3
    assert sum("not sent again" in texts(r) for r in results) == 2
    # a plain "Send" of the same draft afterwards sends nothing either
    card_send = {"function": buttons(keys)[ENCRYPT]["function"].replace("encrypt_send",
                                                                        "confirm_send"),
                 "parameters": buttons(keys)[ENCRYPT]["parameters"]}
    again = press(api, events, card_send, c, form=ticks(PARTNER))
    assert "not sent again" in texts(again) and len(emulator.sent(SENDER)) == 1


# ----------------------------------------------------------------------------- packages


def homepage(api: Api, events: Events, **kw: Any) -> dict[str, Any]:
    status, data = api.call("/addon/homepage", *events.make(time_zone=TOKYO, **kw))
    assert status == 200, data
    return the_card(data)


def test_revoke_from_the_homepage(make_app: Callable[..., Any], events: Events,
                                  emulator: GmailEmulator, smtp: SmtpServer) -> None:
    api = ClientApi(make_app(mailer=smtp.url))
    c = draft()
    encrypted(api, events, emulator, c, PARTNER)
    home = homepage(api, events)
    shown = texts(home)
    [package] = store_of(api).list_packages(SENDER)
    # told apart by recipients, files and local time (not by the generic ZIP name)
    assert PARTNER in shown and package.file_names[0] in shown and "held" in shown
    assert "JST" in shown
    assert {"Revoke password", "Release now"} <= set(buttons(home))
    after = press(api, events, buttons(home)["Revoke password"], c)
    assert after["name"] == "home" and "Revoked: no code or password works now" in texts(after)
    assert "Revoke password" not in buttons(after)
    assert store_of(api).get_package(package.id).state == "revoked"
    revoked = store_of(api).search_audit(action="package.revoked")
    assert [(e.actor, e.package_id) for e in revoked] == [(SENDER, package.id)]
    # the brake holds: the due release sends nothing
    sv = api.app.extensions["sendguard"]
    report = release_tick(sv.store, sv.mailer, sv.config, sv.keywrapper,
                          sv.clock() + timedelta(minutes=10))
    assert report.released == [] and smtp.messages == []
    # a second click on the stale button changes nothing and says so
    stale = press(api, events, buttons(home)["Revoke password"], c)
    assert "already revoked" in texts(stale)


def test_release_now_in_manual_mode(make_app: Callable[..., Any], events: Events,
                                    emulator: GmailEmulator, smtp: SmtpServer) -> None:
    api = ClientApi(make_app(policy=MANUAL, mailer=smtp.url, base_url="https://keys.example.jp"))
    c = draft()
    keys = key_card(api, events, emulator, c)
    assert "waits until you release it" in texts(keys)
    done = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert "awaiting your release" in texts(done)
    assert {"Revoke password", "Release now"} == set(buttons(done))
    released = press(api, events, buttons(done)["Release now"], c)
    assert released["name"] == "encrypted" and "1 e-mail with the link sent" in texts(
        released)
    assert "Release now" not in buttons(released)
    [notice] = smtp.wait_for(1)
    assert notice.rcpt_tos == (PARTNER,)
    assert re.search(r"https://keys\.example\.jp/k/[A-Za-z0-9_-]{43}", notice.text())
    [package] = store_of(api).list_packages(SENDER)
    assert package.state == "released"
    assert [e.actor for e in store_of(api).search_audit(action="package.released")] == [SENDER]


def test_sender_only_mode_offers_no_recipient(make_app: Callable[..., Any], events: Events,
                                              emulator: GmailEmulator) -> None:
    api = ClientApi(make_app(policy=SENDER_ONLY))
    c = draft()
    keys = key_card(api, events, emulator, c)
    assert checkbox_values(keys, "key") == {}
    assert f"to you only ({SENDER}), after 2 minutes" in texts(keys)
    forged = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert forged["name"] == "encrypt_keys" and emulator.sent(SENDER) == []
    done = press(api, events, buttons(keys)[ENCRYPT], c, form={})
    assert "goes to you only at" in texts(done)
    [package] = store_of(api).list_packages(SENDER)
    assert [g.address for g in store_of(api).list_grants(package.id)] == [SENDER]


@pytest.mark.parametrize("action", ["revoke_package", "release_package"])
@pytest.mark.parametrize("whose", ["another user's", "made-up id", "empty id"])
def test_a_package_that_is_not_yours_looks_missing(
        api: Api, events: Events, emulator: GmailEmulator, action: str, whose: str) -> None:
    c = draft()
    done = encrypted(api, events, emulator, c, PARTNER)
    [package] = store_of(api).list_packages(SENDER)
    revoke = buttons(done)["Revoke password"]
    package_id = {"another user's": package.id, "made-up id": "p" + "0" * 20,
                  "empty id": ""}[whose]
    forged = {"function": revoke["function"].replace("revoke_package", action),
              "parameters": [{"key": "package_id", "value": package_id},
                             {"key": "view", "value": "home"}]}
    card = press(api, events, forged, c, sender=OTHER_USER)
    assert card["name"] == "error"
    assert "This encrypted attachment was not found." in texts(card)
    missing = press(api, events, {**forged, "parameters": [
        {"key": "package_id", "value": "nothing-here"}]}, c, sender=OTHER_USER)
    assert texts(missing) == texts(card) and buttons(missing) == buttons(card) == {}
    assert store_of(api).get_package(package.id).state == "held"


def test_homepage_lists_ten_recent_packages_with_their_buttons(
        make_app: Callable[..., Any], events: Events) -> None:
    from service.delivery.packages import create_package_for

    api = ClientApi(make_app(policy=MANUAL))
    sv = api.app.extensions["sendguard"]
    now = sv.clock()
    for i in range(12):
        create_package_for(sv.store, sv.keywrapper, sender=SENDER, recipients=[PARTNER],
                           key_recipients=[PARTNER], zip_filename=f"attachments-{i:02d}.zip",
                           file_names=[f"file-{i:02d}.txt"],
                           password=f"pw-{i:02d}-xxxxxxxxxxxxxxxxxxxx",
                           policy=sv.policy, now=now - timedelta(minutes=12 - i))
    [newest, second, third, *_] = sv.store.list_packages(SENDER, 12)
    sv.store.revoke(second.id, SENDER, now)
    sv.store.release_now(third.id, SENDER, now)
    home = homepage(api, events)
    shown = texts(home)
    assert "recent 10" in shown
    assert [f"file-{i:02d}.txt" in shown for i in range(12)] == [False] * 2 + [True] * 10
    revokes = [params_of(a)["package_id"] for w in home["sections"][0]["widgets"]
               for b in w.get("buttonList", {}).get("buttons", [])
               for a in [b["onClick"]["action"]] if "revoke" in a["function"]]
    releases = [params_of(a)["package_id"] for w in home["sections"][0]["widgets"]
                for b in w.get("buttonList", {}).get("buttons", [])
                for a in [b["onClick"]["action"]] if "release" in a["function"]]
    assert second.id not in revokes and newest.id in revokes and third.id in revokes
    assert third.id not in releases and newest.id in releases and len(releases) == 8


def test_homepage_without_packages_shows_no_list(api: Api, events: Events) -> None:
    home = homepage(api, events)
    assert "Your encrypted attachments" not in texts(home)


def test_homepage_still_shows_when_the_database_is_down(make_app: Callable[..., Any],
                                                        events: Events, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    api = ClientApi(make_app(database_url=f"sqlite:///{tmp_path}/a-file/x.db"))
    home = homepage(api, events)
    shown = texts(home)
    assert "could not be loaded" in shown and "What SendGuard checks" in shown


def test_an_8bit_draft_encrypts_and_sends(api: Api, events: Events, emulator: GmailEmulator,
                                          tmp_path: Path) -> None:
    """Gmail may save a UTF-8 body unencoded (8bit): the rebuilt draft still uploads."""
    from email.message import EmailMessage
    from email.policy import SMTP

    c = draft()
    msg = EmailMessage(policy=SMTP)
    msg["From"], msg["To"], msg["Cc"], msg["Subject"] = SENDER, PARTNER, COLLEAGUE, c.subject
    msg.set_content("田中様\nお見積書をお送りします。\n", cte="8bit")
    for name, data in FILES.items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    raw = msg.as_bytes()
    assert not raw.isascii()
    emulator.put_draft(SENDER, raw)
    card = confirmation(api, events, c)
    keys = press(api, events, buttons(card)[ENCRYPT], c, form=tick_all(card))
    done = press(api, events, buttons(keys)[ENCRYPT], c, form=ticks(PARTNER))
    assert done["name"] == "encrypted", texts(done)
    [sent] = emulator.sent(SENDER)
    assert "お見積書をお送りします。".encode() in sent.raw
    [package] = store_of(api).list_packages(SENDER)
    [(_, data)] = attachments_of(sent.raw)
    password = open_package(api.app.extensions["sendguard"].keywrapper, package).password
    assert open_zip(data, password, tmp_path) == FILES
