"""Errors become cards on the add-on routes (never a traceback), 401 before verification."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.devtools.gmail_emulator.emulator import GmailEmulator

from .apis import ClientApi
from .support import SENDER, Compose, Events, buttons, members, texts, the_card, tick_all


def _draft(emulator: GmailEmulator) -> Compose:
    c = Compose(to=[SENDER], bcc=members(3), subject="件")
    emulator.put_draft(SENDER, c.mime())
    return c


def test_database_down_before_sending_is_a_generic_card_and_nothing_is_sent(
        make_app: Callable[..., Any], events: Events, emulator: GmailEmulator,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = ClientApi(make_app())
    c = _draft(emulator)
    on_screen: dict[str, Any] = {"to": c.to, "bcc": c.bcc}
    status, data = good.call("/addon/action/check_send", *events.make(**on_screen))
    card = the_card(data)
    send = buttons(card)["Send"]
    params = {p["key"]: p["value"] for p in send["parameters"]}
    (tmp_path / "not-a-dir").write_text("a file where the database directory should be")
    broken = ClientApi(make_app(database_url=f"sqlite:///{tmp_path}/not-a-dir/x.db"))
    with caplog.at_level(logging.ERROR):
        status, data = broken.call("/addon/action/confirm_send", *events.make(
            params=params, form=tick_all(card), **on_screen))
    assert status == 200
    error = the_card(data)
    assert error["name"] == "error"
    text = texts(error)
    assert "unexpected error" in text and "Nothing was sent" in text
    assert "Traceback" not in text and "sqlite" not in text.lower()
    assert emulator.sent(SENDER) == []
    assert any(r.exc_info for r in caplog.records)       # logged with its traceback


@pytest.mark.parametrize("locale,words,absent", [
    ("ja", ["問題が発生しました", "文字列のリストで指定してください"], "must be a list"),
    ("en", ["must be a list of strings, not a number"], "文字列のリスト"),
], ids=["ja", "en"])
def test_bad_policy_file_is_an_error_card(make_app: Callable[..., Any], events: Events,
                                          locale: str, words: list[str], absent: str) -> None:
    """The policy's detail in the user's language; the key and its line verbatim."""
    api = ClientApi(make_app(policy="[organization]\ninternal_domains = 3\n"))
    _, data = api.call("/addon/compose", *events.make(to=["a@gmail.com"], locale=locale))
    card = the_card(data)
    assert card["name"] == "error"
    shown = texts(card)
    assert "'organization.internal_domains'" in shown and ":2: " in shown
    for w in words:
        assert w in shown
    assert absent not in shown


@pytest.mark.parametrize("path,status", [("/addon/nothing", 404), ("/no/such/page", 404)])
def test_http_errors_pass_through(api: ClientApi, path: str, status: int) -> None:
    resp = api.client.get(path)
    assert resp.status_code == status


def test_get_on_an_addon_route_is_405_not_a_card(api: ClientApi) -> None:
    resp = api.client.get("/addon/compose")
    assert resp.status_code == 405
    assert b"sections" not in resp.data


def test_misconfigured_verification_fails_closed_and_says_why(
        make_app: Callable[..., Any], events: Events, caplog: pytest.LogCaptureFixture) -> None:
    api = ClientApi(make_app(oauth_client_id=""))
    with caplog.at_level(logging.ERROR):
        status, data = api.post("/addon/compose", *events.make(to=["a@gmail.com"]))
    assert status == 401 and data == {"error": "unauthorized"}
    assert any("SENDGUARD_OAUTH_CLIENT_ID" in r.getMessage() for r in caplog.records)
