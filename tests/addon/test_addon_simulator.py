"""The dev stack behind ``make run``: emulator, local certificates, service and simulator."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from service.app import create_app
from service.config import Config
from service.devtools.devserver import DevStack, main, start_stack
from service.devtools.simulator import build_mime
from service.errors import ConfigError
from service.policy import draft_from_bytes


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    base = Config(env="development", var_dir=tmp_path / "var",
                  database_url=f"sqlite:///{tmp_path}/dev.db")
    s = start_stack(port=0, var_dir=tmp_path / "var", base=base)
    yield s
    s.stop()


def test_page_and_session(stack: DevStack) -> None:
    page = requests.get(stack.url + "/dev/", timeout=10)
    assert page.status_code == 200 and 'id="open-addon"' in page.text
    js = requests.get(stack.url + "/dev/static/simulator.js", timeout=10)
    assert js.status_code == 200 and "updateDraftActionMarkup" in js.text
    session = requests.get(stack.url + "/dev/api/session", timeout=10).json()
    assert session["email"] == stack.context.user_email
    assert session["systemIdToken"].count(".") == 2
    # the tokens pass the service's real verification
    event = {"commonEventObject": {"userLocale": "ja"}, "authorizationEventObject": session,
             "gmail": {"toRecipients": ["a@gmail.com"]}}
    resp = requests.post(stack.url + "/addon/compose", json=event, timeout=10,
                         headers={"Authorization": "Bearer " + session["systemIdToken"]})
    assert resp.status_code == 200 and "pushCard" in resp.text
    forged = requests.post(stack.url + "/addon/compose", json=event, timeout=10,
                           headers={"Authorization": "Bearer " + session["userIdToken"]})
    assert forged.status_code == 401


def test_autosave_creates_updates_and_notices_a_sent_draft(stack: DevStack) -> None:
    url = stack.url + "/dev/api/draft"
    first = requests.post(url, json={"to": ["a@gmail.com"], "subject": "件名"}, timeout=10).json()
    again = requests.post(url, json={"draftId": first["draftId"], "to": ["a@gmail.com"],
                                     "bcc": ["b@gmail.com"], "subject": "件名"}, timeout=10).json()
    assert again["draftId"] == first["draftId"]
    emulator = stack.context.emulator
    assert emulator.requests("drafts.update")
    from service.gmail.client import ApiGmailClient

    with ApiGmailClient(stack.context.oauth_token, stack.context.gmail_endpoint) as gmail:
        gmail.send_draft(first["draftId"])
    gone = requests.post(url, json={"draftId": first["draftId"], "to": ["a@gmail.com"]},
                         timeout=10).json()
    assert gone == {"gone": True}
    sent = requests.get(stack.url + "/dev/api/sent", timeout=10).json()["sent"]
    assert len(sent) == 1 and sent[0]["bcc"] == ["b@gmail.com"]


def test_autosave_takes_attachments_beyond_the_api_body_limit(stack: DevStack) -> None:
    big = base64.b64encode(bytes(range(256)) * 12_000).decode()      # 3 MB, 4 MB as base64
    resp = requests.post(stack.url + "/dev/api/draft", timeout=30, json={
        "to": ["a@gmail.com"], "attachments": [{"name": "big.bin", "data": big}]})
    assert resp.status_code == 200 and resp.json()["draftId"]


@pytest.mark.parametrize("body", [[], "x", {"attachments": [{"name": "a", "data": "!!"}]}],
                         ids=["list", "string", "bad base64"])
def test_autosave_refuses_bad_input(stack: DevStack, body: object) -> None:
    resp = requests.post(stack.url + "/dev/api/draft", json=body, timeout=10)
    assert resp.status_code == 400


def test_build_mime_round_trips_through_the_policy_parser() -> None:
    data = {"to": ["山田 <yamada@client.co.jp>", "x@gmail.com"], "cc": ["a@b.co.jp c@d.co.jp"],
            "bcc": [], "subject": "社外秘: 名簿", "body": "本文です",
            "attachments": [{"name": "名簿.csv", "type": "text/csv",
                             "data": base64.b64encode(b"a,b\n").decode()}]}
    draft = draft_from_bytes(build_mime("me@example.co.jp", data))
    assert draft.to == ("山田 <yamada@client.co.jp>", "x@gmail.com")
    assert draft.cc == ("a@b.co.jp c@d.co.jp",)
    assert draft.subject == "社外秘: 名簿"
    assert [(a.filename, a.data) for a in draft.attachments] == [("名簿.csv", b"a,b\n")]


def test_no_simulator_in_production(tmp_path: Path) -> None:
    prod = Config(env="production", var_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/p.db",
                  addon_audience="https://x", addon_service_account="sa@x",
                  oauth_client_id="c", base_url="https://x")
    app = create_app(prod)
    assert "devsim" not in app.blueprints
    assert app.test_client().get("/dev/").status_code == 404
    with pytest.raises(ConfigError):
        start_stack(port=0, var_dir=tmp_path, base=prod)


def test_simulator_without_a_dev_stack_explains_itself(tmp_path: Path) -> None:
    app = create_app(Config(env="development", var_dir=tmp_path,
                            database_url=f"sqlite:///{tmp_path}/d.db"))
    client = app.test_client()
    assert b"make run" in client.get("/dev/").data
    assert client.get("/dev/api/session").status_code == 404


def test_cli_help() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
