"""Link mode end to end through the Flask app, with notices and codes at a real SMTP
server: protect → release → notice → code → file list → download (exact bytes, exact
Japanese names, ranges) → the sender told of the first download → recall erases the
stored files and every link answers 410 saying the sender withdrew them; expiry alike.
And a stolen bucket plus a database dump without the master key open nothing."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.delivery.linkpackages import erase_package_files, open_manifest, protect_link_raw
from service.delivery.release import release_tick
from service.errors import SecretError
from service.files.store import LocalFileStore
from service.mailer import SmtpMailer
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.services import Services
from service.settings import Config
from service.storage import Package, Store
from tests.support.smtp import SmtpServer

from .helpers import PARTNER, SENDER, Clock, draft_bytes, link_token, parse
from .test_keypage import csrf_of, page, post, request_code

FILES = {"見積書 2026年度（改訂版）.pdf": os.urandom(3 * 1024 * 1024 + 17),
         "メモ.txt": "こんにちは\n".encode()}
NAMES = list(FILES)


@dataclass
class Sent:
    package: Package
    token: str
    files: LocalFileStore
    message: bytes


@pytest.fixture
def file_store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


@pytest.fixture
def link_app(services_for: Callable[..., Services], config: Config,
             file_store: LocalFileStore) -> Flask:
    sv = services_for()
    sv._files = file_store
    return create_app(config, services=sv)


@pytest.fixture
def link_client(link_app: Flask) -> FlaskClient:
    return link_app.test_client()


@pytest.fixture
def sent(store: Store, keywrapper: LocalKeyWrapper, mailer: SmtpMailer, config: Config,
         clock: Clock, smtp: SmtpServer, file_store: LocalFileStore) -> Sent:
    done = protect_link_raw(draft_bytes(FILES), store=store, keywrapper=keywrapper,
                            files=file_store, policy=Policy(), now=clock(), sender=SENDER,
                            key_recipients=[PARTNER])
    clock.advance(301)
    assert release_tick(store, mailer, config, keywrapper, clock()).sent == 1
    notice = smtp.wait_for(1)[0]
    assert "ダウンロード" in notice.text()
    token = link_token(notice.text())
    smtp.clear()
    return Sent(store.get_package(done.package.id), token, file_store, done.message)


def open_files(client: FlaskClient, token: str, smtp: SmtpServer) -> str:
    code = request_code(client, token, smtp)
    resp = post(client, token, "reveal", csrf_of(page(client, token)), code)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_message_keeps_no_attachment_and_names_the_files(sent: Sent) -> None:
    msg = parse(sent.message)
    assert [p.get_content_disposition() for p in msg.walk() if p.get_filename()
            or p.get_content_disposition() == "attachment"] == []
    body = "\n".join(str(p.get_content()) for p in msg.walk()
                     if p.get_content_maintype() == "text")
    for name in NAMES:
        assert name in body
    for data in FILES.values():
        assert data not in sent.message


def test_notice_code_list_download_recall(sent: Sent, link_client: FlaskClient,
                                          smtp: SmtpServer, store: Store,
                                          keywrapper: LocalKeyWrapper, clock: Clock) -> None:
    client = link_client
    assert client.get(f"/k/{sent.token}/files/0").status_code == 403   # no code yet
    html = open_files(client, sent.token, smtp)
    for n, name in enumerate(NAMES):
        assert name in html
        assert f'href="/k/{sent.token}/files/{n}"' in html
    for n, (name, data) in enumerate(FILES.items()):
        resp = client.get(f"/k/{sent.token}/files/{n}")
        assert resp.status_code == 200
        assert resp.data == data
        disposition = resp.headers["Content-Disposition"]
        star = re.search(r"filename\*=UTF-8''(\S+)", disposition)
        assert star and unquote(star.group(1)) == name
        assert quote(name, safe="") in disposition
    cookie = next(c for c in (client._cookies or {}).values() if "seen" in c.key)
    assert cookie.http_only and cookie.same_site == "Strict"
    mails = smtp.wait_for(2)                  # the code, then the sender's notice
    told = [m for m in mails if m.rcpt_tos == (SENDER,)]
    assert len(told) == 1 and PARTNER in told[0].text() and NAMES[0] in told[0].text()
    client.get(f"/k/{sent.token}/files/0")
    assert len([m for m in smtp.messages if m.rcpt_tos == (SENDER,)]) == 1   # only the first
    actions = [e.action for e in store.search_audit(package_id=sent.package.id)]
    for action in ("files.uploaded", "notice.sent", "code.sent", "file.downloaded"):
        assert action in actions

    package = store.revoke(sent.package.id, SENDER, clock())
    assert erase_package_files(store, keywrapper, sent.files, package, SENDER, clock(),
                               "revoked") == 2
    assert not list(sent.files.root.iterdir())
    for url in (f"/k/{sent.token}/files/0", f"/k/{sent.token}/files/1", f"/k/{sent.token}"):
        resp = client.get(url, headers={"Accept-Language": "ja"})
        assert resp.status_code == 410
        assert "送信者がファイルを取り消しました" in resp.get_data(as_text=True)
    assert "files.erased" in [e.action for e in store.search_audit(package_id=package.id)]


RANGES = {"first bytes": ("bytes=0-9", 0, 10), "across chunks": ("bytes=1048570-1048590",
          1048570, 1048591), "suffix": ("bytes=-5", len(FILES[NAMES[0]]) - 5,
                                        len(FILES[NAMES[0]]))}


@pytest.mark.parametrize(("header", "start", "stop"), RANGES.values(), ids=RANGES.keys())
def test_range(sent: Sent, link_client: FlaskClient, smtp: SmtpServer, header: str,
               start: int, stop: int) -> None:
    open_files(link_client, sent.token, smtp)
    resp = link_client.get(f"/k/{sent.token}/files/0", headers={"Range": header})
    data = FILES[NAMES[0]]
    assert resp.status_code == 206
    assert resp.data == data[start:stop]
    assert resp.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{len(data)}"


BAD = {"beyond the end": ("/files/0", {"Range": "bytes=99999999-"}, 416),
       "no such file": ("/files/7", {}, 404), "not a number": ("/files/x", {}, 404)}


@pytest.mark.parametrize(("tail", "headers", "status"), BAD.values(), ids=BAD.keys())
def test_bad_downloads(sent: Sent, link_client: FlaskClient, smtp: SmtpServer, tail: str,
                       headers: dict[str, str], status: int) -> None:
    open_files(link_client, sent.token, smtp)
    assert link_client.get(f"/k/{sent.token}{tail}", headers=headers).status_code == status


def test_another_browser_cannot_download(sent: Sent, link_client: FlaskClient,
                                         link_app: Flask, smtp: SmtpServer) -> None:
    open_files(link_client, sent.token, smtp)
    assert link_app.test_client().get(f"/k/{sent.token}/files/0").status_code == 403


def test_expiry_erases_and_answers_410(sent: Sent, link_client: FlaskClient,
                                       store: Store, mailer: SmtpMailer, config: Config,
                                       keywrapper: LocalKeyWrapper, clock: Clock,
                                       smtp: SmtpServer) -> None:
    open_files(link_client, sent.token, smtp)
    clock.advance(8 * 86400)
    release_tick(store, mailer, config.with_(files=str(sent.files.root)), keywrapper,
                 clock())
    assert not list(sent.files.root.iterdir())
    resp = link_client.get(f"/k/{sent.token}/files/0", headers={"Accept-Language": "en"})
    assert resp.status_code == 410
    assert "These files have expired" in resp.get_data(as_text=True)


def test_stolen_bucket_and_database_open_nothing(sent: Sent, store: Store) -> None:
    """Everything the thief has: every object and every row; no master key."""
    package = store.get_package(sent.package.id)
    objects = {p.name: p.read_bytes() for p in sent.files.root.iterdir()}
    assert len(objects) == 2
    for name, blob in objects.items():
        assert package.id not in name and sent.token not in name
        for data in FILES.values():
            assert data[:64] not in blob
    rows = repr(package).encode() + package.wrapped_password
    for name in objects:
        assert name.encode() not in rows          # the dump does not even name the objects
    with pytest.raises(SecretError):
        open_manifest(LocalKeyWrapper(os.urandom(32).hex()), package)
