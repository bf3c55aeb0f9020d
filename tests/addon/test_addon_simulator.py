"""The dev stack behind ``make run``: emulator, local certificates, service and simulator."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from service.app import create_app
from service.commands.dev import main
from service.devtools import simulator
from service.devtools.devserver import DevStack, start_stack
from service.devtools.simulator import build_mime, linked, release_info
from service.errors import ConfigError
from service.policy import draft_from_bytes
from service.settings import Config


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
    assert emulator is not None
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
    assert "devsim" not in app.blueprints       # the service alone has no dev tools
    simulator.init_app(app)
    client = app.test_client()
    assert b"make run" in client.get("/dev/").data
    assert client.get("/dev/api/session").status_code == 404


def test_cli_help() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0


# ----------------------------------------------------------------------------- key delivery


def test_key_links_use_the_dev_server_url(stack: DevStack) -> None:
    assert stack.config.base_url == stack.url
    page = requests.get(stack.url + "/dev/", timeout=10).text
    assert "released 30 seconds after sending" in page and "dev-policy.toml" in page
    assert "every 5 s" in page


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_release_loop_releases_and_the_sink_shows_the_notice(tmp_path: Path) -> None:
    from service.delivery.packages import create_package_for

    policy = tmp_path / "fast.toml"
    policy.write_text('[delivery]\nrelease_delay = "1s"\n', encoding="utf-8")
    base = Config(env="development", var_dir=tmp_path / "var",
                  database_url=f"sqlite:///{tmp_path}/dev.db")
    stack = start_stack(port=0, var_dir=tmp_path / "var", base=base, policy_path=str(policy),
                        release_interval=0.2)
    try:
        sv = stack.app.extensions["sendguard"]
        me, partner = stack.context.user_email, "tanaka@partner.example.com"
        package = create_package_for(
            sv.store, sv.keywrapper, sender=me, recipients=[partner], key_recipients=[partner],
            zip_filename="attachments-1.zip", file_names=["見積書.xlsx"],
            password="correct-horse-battery-staple-0001", policy=sv.policy, now=sv.clock())
        sv.store.set_message_ids(package.id, message_id="<m1@example.co.jp>",
                                 gmail_message_id="m1")
        assert sv.store.get_package(package.id).state == "held"
        _wait(lambda: requests.get(stack.url + "/dev/api/mail", timeout=5).json()["mails"])
        assert sv.store.get_package(package.id).state == "released"
        listing = requests.get(stack.url + "/dev/api/mail", timeout=5).json()
        [notice] = listing["mails"]
        assert notice["to"] == partner and "SendGuard" in notice["subject"]
        view = requests.get(f"{stack.url}/dev/mail/{notice['id']}", timeout=5)
        assert view.status_code == 200 and view.headers["Cache-Control"] == "no-store"
        link = re.search(r'<a href="(' + re.escape(stack.url) + r'/k/[A-Za-z0-9_-]{43})"',
                         view.text)
        assert link, view.text
        key_page = requests.get(link.group(1), timeout=5)
        assert key_page.status_code == 200 and "attachments-1.zip" in key_page.text
    finally:
        stack.stop()


@pytest.mark.parametrize("name", ["../sendguard.db", "..%2Fdev.db", "x.eml",
                                  "20261123T010000000000-0000000g.eml",
                                  "20261123T010000000000-00000000.eml"],
                         ids=["traversal", "encoded traversal", "not a sink name",
                              "bad hex", "well-formed but missing"])
def test_mail_view_refuses_other_files(stack: DevStack, name: str) -> None:
    assert requests.get(f"{stack.url}/dev/mail/{name}", timeout=5).status_code == 404


def test_no_sink_panel_when_mail_goes_to_smtp(tmp_path: Path, smtp: Any) -> None:
    base = Config(env="development", var_dir=tmp_path / "var", mailer=smtp.url,
                  database_url=f"sqlite:///{tmp_path}/dev.db")
    stack = start_stack(port=0, var_dir=tmp_path / "var", base=base, release_interval=None)
    try:
        assert requests.get(stack.url + "/dev/api/mail", timeout=5).json() == {
            "sink": None, "mails": []}
        page = requests.get(stack.url + "/dev/", timeout=5).text
        assert "not to the local sink" in page and "No background release loop" in page
    finally:
        stack.stop()


@pytest.mark.parametrize("text,pieces", [
    ("open https://k.example/k/abc.\nbye", [("open ", False), ("https://k.example/k/abc", True),
                                           (".\nbye", False)]),
    ("(http://a.example/x) and <b>", [("(", False), ("http://a.example/x", True),
                                      (") and <b>", False)]),
    ("no links", [("no links", False)]),
    ("javascript:alert(1)", [("javascript:alert(1)", False)]),
], ids=["trailing dot", "parentheses", "none", "script scheme is text"])
def test_linked_makes_only_http_links(text: str, pieces: list[tuple[str, bool]]) -> None:
    assert linked(text) == pieces


@pytest.mark.parametrize("policy,interval,expected", [
    ('[delivery]\nrelease_mode = "manual"\n', 5.0, "wait for the sender's release"),
    ('[delivery]\nrelease_mode = "sender_only"\nrelease_delay = "2m"\n', 5.0,
     "released 2 minutes after sending, to the sender only"),
    ("", None, "No background release loop"),
], ids=["manual", "sender only", "no loop"])
def test_release_info(policy: str, interval: float | None, expected: str) -> None:
    from service.policy.policyfile import parse_policy

    assert expected in release_info(parse_policy(policy), interval)


def test_simulator_attachments_encrypt_exactly(stack: DevStack, tmp_path: Path) -> None:
    """A draft saved by the simulator (Japanese file names, binary data) encrypts into a ZIP
    7-Zip opens to the exact bytes and names."""
    from service.delivery.material import open_package
    from service.delivery.packages import encrypt_and_send
    from service.gmail.client import ApiGmailClient

    from .zips import attachments_of, open_zip

    files = {"顧客リスト 2026.csv": "名前,電話\n佐藤,03-1234-5678\n".encode(),
             "photo.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 30}
    partner = "tanaka@partner.example.com"
    resp = requests.post(stack.url + "/dev/api/draft", timeout=30, json={
        "to": [partner], "subject": "資料", "body": "添付します",
        "attachments": [{"name": n, "type": "application/octet-stream",
                         "data": base64.b64encode(d).decode()} for n, d in files.items()]})
    draft_id = resp.json()["draftId"]
    sv = stack.app.extensions["sendguard"]
    with ApiGmailClient(stack.context.oauth_token, stack.context.gmail_endpoint) as gmail:
        package = encrypt_and_send(gmail, draft_id=draft_id, sender=stack.context.user_email,
                                   key_recipients=[partner], policy=sv.policy, store=sv.store,
                                   keywrapper=sv.keywrapper, now=sv.clock())
    assert stack.context.emulator is not None
    [sent] = stack.context.emulator.sent(stack.context.user_email)
    [(zip_name, data)] = attachments_of(sent.raw)
    password = open_package(sv.keywrapper, package).password
    assert open_zip(data, password, tmp_path) == files
    listed = requests.get(stack.url + "/dev/api/sent", timeout=10).json()["sent"]
    assert listed[0]["attachments"] == [zip_name]
