"""Unit tables for Encrypt & send's cards: times in the user's zone, the key card for large
drafts, and each package state with the buttons that still apply (every card parsed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from service.addon import keycards, markup
from service.addon.analysis import analyze, classifier
from service.addon.confirm import expect
from service.addon.event import AddonEvent, parse_event
from service.addon.localtime import duration, local_time, user_zone
from service.i18n import using
from service.policy.model import Draft
from service.policy.policyfile import parse_policy
from service.storage import Package

from .support import INTERNAL, POLICY, SENDER, check_cards, members, texts

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)            # 10:00 in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")


def _act(name: str, /, **params: str) -> dict[str, Any]:
    return markup.action(f"https://sendguard.example.jp/addon/action/{name}", params)


@pytest.mark.parametrize("value,zone,expected", [
    (NOW + timedelta(minutes=5), TOKYO, "10:05 JST"),
    (NOW + timedelta(hours=15), TOKYO, "11-24 01:00 JST"),
    (NOW, UTC, "01:00 UTC"),
    (NOW - timedelta(hours=2), UTC, "11-22 23:00 UTC"),
    (NOW, timezone(timedelta(hours=-5)), "20:00 UTC-05:00"),
], ids=["same day", "next day in Tokyo", "UTC", "day before", "fixed offset"])
def test_local_time(value: datetime, zone: Any, expected: str) -> None:
    assert local_time(value, zone, NOW) == expected


@pytest.mark.parametrize("zone,expected", [
    ({"id": "Asia/Tokyo", "offset": 32400000}, "JST"),
    ({"id": "Not/AZone", "offset": 32400000}, "UTC+09:00"),
    ({"id": "../../etc/passwd", "offset": -18000000}, "UTC-05:00"),
    ({"offset": 20 * 3600 * 1000}, "UTC"),
    ({"offset": "32400000"}, "UTC"),
    ({"offset": True}, "UTC"),
    ("Asia/Tokyo", "UTC"),
    (None, "UTC"),
], ids=["known id", "unknown id, offset", "path as id", "offset out of range",
        "offset as text", "offset as bool", "not an object", "missing"])
def test_user_zone_from_the_event(zone: Any, expected: str) -> None:
    event = parse_event({"commonEventObject": {"timeZone": zone}})
    assert NOW.astimezone(user_zone(event)).tzname() == expected


@pytest.mark.parametrize("seconds,en,ja", [
    (30, "30 seconds", "30秒"), (60, "1 minute", "1分"), (300, "5 minutes", "5分"),
    (90, "90 seconds", "90秒"), (7200, "2 hours", "2時間"), (86400 * 7, "7 days", "7日"),
    (0, "0 seconds", "0秒"),
], ids=["30s", "1m", "5m", "90s", "2h", "7d", "zero"])
def test_duration(seconds: int, en: str, ja: str) -> None:
    with using("en"):
        assert duration(seconds) == en
    with using("ja"):
        assert duration(seconds) == ja


# ----------------------------------------------------------------------------- key card


@pytest.mark.parametrize("locale", ["en", "ja"])
@pytest.mark.parametrize("n", [1, 100, 944, 2500], ids=["one", "100", "944", "2500"])
def test_key_card_offers_every_recipient_within_card_limits(n: int, locale: str) -> None:
    policy = parse_policy(POLICY)
    to = [*members(n), f"kacho@{INTERNAL}"]
    with using(locale):
        report = analyze(Draft(sender=SENDER, to=(SENDER,), bcc=tuple(to)), policy,
                         content=False)
        exp = expect(report, policy, classifier(policy), encrypting=True)
        card = keycards.key_card(exp, "件名", "r1", ["a.xlsx"] * 40, policy, SENDER, _act)
    check_cards({"card": card})
    keys = [w["selectionInput"] for s in card["sections"] for w in s["widgets"]
            if "selectionInput" in w
            and w["selectionInput"]["name"].startswith(keycards.KEY_INPUT)]
    values = [i["value"] for box in keys for i in box["items"]]
    assert sorted(values) == sorted(f"k:{a}" for a in [*to, SENDER])
    assert all(not i["selected"] for box in keys for i in box["items"])
    external = [i["text"] for s in card["sections"] for w in s["widgets"]
                if "selectionInput" in w and w["selectionInput"]["name"].startswith("key_ext")
                for i in w["selectionInput"]["items"]]
    assert len(external) == n and all(t.startswith("⚠") for t in external)


@pytest.mark.parametrize("mode,phrase,boxes", [
    ("delay", "held for 5 minutes", 2), ("manual", "waits until you release it", 2),
    ("sender_only", f"to you only ({SENDER}), after 5 minutes", 0),
], ids=["delay", "manual", "sender only"])
def test_key_card_says_how_the_password_is_released(mode: str, phrase: str, boxes: int) -> None:
    policy = parse_policy(POLICY + f'[delivery]\nrelease_mode = "{mode}"\n')
    report = analyze(Draft(sender=SENDER, to=("a@client.co.jp", f"b@{INTERNAL}")), policy,
                     content=False)
    exp = expect(report, policy, classifier(policy), encrypting=True)
    card = keycards.key_card(exp, "s", "r1", ["a.pdf"], policy, SENDER, _act,
                             notice="<b>x</b>")
    check_cards({"card": card})
    assert phrase in texts(card).replace("&amp;", "&")
    assert "&lt;b&gt;x&lt;/b&gt;" in texts(card)                # a notice is escaped
    assert sum(len(w["selectionInput"]["items"]) for s in card["sections"]
               for w in s["widgets"] if "selectionInput" in w
               and w["selectionInput"]["name"].startswith(keycards.KEY_INPUT)) == boxes


# ----------------------------------------------------------------------------- packages


def package(**kw: Any) -> Package:
    base = Package(
        id="p" + "1" * 21, sender=SENDER, message_id="<m@x>", gmail_message_id="g1",
        subject_hash=None, zip_filename="attachments-20261123.zip",
        file_names=("a.xlsx", "b.csv"), recipients=("a@client.co.jp", f"b@{INTERNAL}"),
        wrapped_password=b"x", state="held", release_mode="delay", created_at=NOW,
        release_at=NOW + timedelta(minutes=5), expires_at=NOW + timedelta(days=7),
        reveal_limit=5, reveal_count=0, first_retrieved_at=None, released_at=None,
        revoked_at=None)
    return replace(base, **kw)


STATES = {
    "held": (package(), "held until 10:05 JST", {"revoke_package", "release_package"},
             {"revoke_package"}),
    "held, not confirmed sent": (package(message_id=None, gmail_message_id=None),
                                 "not confirmed sent", {"revoke_package", "release_package"},
                                 {"revoke_package"}),
    "held, sender only": (package(release_mode="sender_only"), "to you only at 10:05 JST",
                          {"revoke_package", "release_package"}, {"revoke_package"}),
    "awaiting release": (package(state="awaiting_release", release_mode="manual",
                                 release_at=None), "awaiting your release",
                         {"revoke_package", "release_package"},
                         {"revoke_package", "release_package"}),
    "released": (package(state="released", released_at=NOW), "released at 10:00 JST",
                 {"revoke_package"}, {"revoke_package"}),
    "released, not confirmed sent": (package(state="released", released_at=NOW,
                                             message_id=None, gmail_message_id=None),
                                     "not confirmed sent", {"revoke_package"},
                                     {"revoke_package"}),
    "released, past expiry": (package(state="released", released_at=NOW,
                                      expires_at=NOW - timedelta(seconds=1)), "Expired",
                              set(), set()),
    "revoked": (package(state="revoked", revoked_at=NOW), "Revoked", set(), set()),
    "expired": (package(state="expired"), "Expired", set(), set()),
}


def _actions(card: dict[str, Any]) -> set[str]:
    return {b["onClick"]["action"]["function"].rsplit("/", 1)[1]
            for s in card["sections"] for w in s["widgets"]
            for b in w.get("buttonList", {}).get("buttons", [])}


@pytest.mark.parametrize("case", list(STATES), ids=list(STATES))
def test_package_state_text_and_buttons(case: str) -> None:
    p, phrase, home_buttons, result_buttons = STATES[case]
    home = markup.card("home", [keycards.packages_section([p], TOKYO, NOW, _act)])
    result = keycards.result_card(p, ["a@client.co.jp"], TOKYO, NOW, _act)
    check_cards({"cards": [{"card": home}, {"card": result}]})
    assert phrase in texts(home) and phrase in texts(result)
    assert _actions(home) == home_buttons and _actions(result) == result_buttons
    with using("ja"):
        ja = keycards.result_card(p, [], TOKYO, NOW, _act)
    check_cards({"card": ja})
    assert "パスワードの送付先: なし" in texts(ja)


def test_home_list_is_capped() -> None:
    many = [package(id=f"p{i:021d}", file_names=(f"f{i:02d}.pdf",)) for i in range(25)]
    section = keycards.packages_section(many, TOKYO, NOW, _act)
    card = markup.card("home", [section])
    check_cards({"card": card})
    assert "f09.pdf" in texts(card) and "f10.pdf" not in texts(card)


def test_home_rows_are_told_apart() -> None:
    """Same ZIP name, same day: who it went to, which files and when (local) differ."""
    a = package(id="p" + "1" * 21, recipients=("sato@client-a.co.jp",),
                file_names=("見積書.pdf",), created_at=NOW - timedelta(hours=3))
    b = package(id="p" + "2" * 21, recipients=("sato@client-b.co.jp", "ito@client-b.co.jp"),
                file_names=("請求書.pdf",), created_at=NOW - timedelta(hours=1))
    with using("ja"):
        section = keycards.packages_section([a, b], TOKYO, NOW, _act)
    rows = [w["decoratedText"] for w in section["widgets"] if "decoratedText" in w]
    assert len(rows) == 2 and rows[0]["text"] != rows[1]["text"]
    assert rows[0]["topLabel"] != rows[1]["topLabel"]                # local times differ
    assert "sato@client-a.co.jp" in rows[0]["text"] and "見積書.pdf" in rows[0]["text"]
    assert "JST" in rows[0]["topLabel"]


def test_event_defaults() -> None:
    assert AddonEvent().time_zone == "" and AddonEvent().tz_offset_ms == 0
