"""The Sent-folder import through the Gmail API (SPEC 10.2) against the emulator, driven by
the real google-api-python-client: ``gmail.metadata`` only (no ``q``, no body), bounded
resumable steps, idempotent, and Google's 403 when the user did not grant the scope."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from service.addon.scopes import ALL_SCOPES
from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.gmail.discovery import document_for
from service.gmail.sent_reader import METADATA_SCOPE, SentReader
from service.history_sent_import import StepResult, import_step, needs_step
from service.protect.keywrap import LocalKeyWrapper
from service.storage import Store
from service.storage.history import StoredHistory
from tests.support.sent_mail import sent_folder

from .support import User

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
WRAPPER = LocalKeyWrapper("44" * 32)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sentimport") / "migrated.db"
    with Store.from_url(f"sqlite:///{path}") as store:
        store.upgrade()
    return path


@pytest.fixture
def store(migrated: Path, tmp_path: Path) -> Iterator[Store]:
    shutil.copy(migrated, tmp_path / "h.db")
    with Store.from_url(f"sqlite:///{tmp_path / 'h.db'}") as s:
        yield s


def _user(emulator: GmailEmulator, scopes: tuple[str, ...]) -> User:
    n = random.randrange(10**9)
    u = User(f"sender{n}@a-sys.co.jp", f"ya29.sent-{n}")
    emulator.add_user(u.email, u.token, scopes)
    return u


@pytest.fixture
def granted(emulator: GmailEmulator) -> User:
    """The add-on's scopes plus the opt-in gmail.metadata."""
    return _user(emulator, (*ALL_SCOPES, METADATA_SCOPE))


def _fill(emulator: GmailEmulator, user: User, n: int) -> list[str]:
    mails = sent_folder(n, user.email)
    for i, m in enumerate(mails):
        emulator.put_message(user.email, m.raw, labels=("SENT",),
                             internal_date_ms=1_790_000_000_000 + i * 60_000)
    # received mail and a draft are not the user's sent mail
    emulator.put_message(user.email, b"From: x@b-corp.co.jp\r\nTo: " + user.email.encode()
                         + b"\r\nSubject: hi\r\n\r\nhello\r\n")
    emulator.put_draft(user.email, b"From: " + user.email.encode()
                       + b"\r\nTo: someone@z.example\r\nSubject: d\r\n\r\nx\r\n")
    return [r for m in mails for r in m.recipients]


def _calls(emulator: GmailEmulator, method: str, user: User) -> list[object]:
    return [r for r in emulator.requests(method) if r.user == user.email]


def _steps(store: Store, url: str, user: User, limit: int = 50,
           **kw: object) -> list[StepResult]:
    """Steps as the add-on runs them (a new reader, i.e. a new request's token, each)
    until one reads nothing or fails."""
    crypto = store.history_crypto(WRAPPER, NOW)
    results = []
    for _ in range(limit):
        with SentReader(user.token, url) as reader:
            r = import_step(store, crypto, reader, user.email, NOW, **kw)  # type: ignore[arg-type]
        results.append(r)
        if r.error or not r.read:
            break
    return results


def _view(store: Store, user: User) -> StoredHistory:
    crypto = store.existing_history_crypto(WRAPPER)
    assert crypto is not None
    return store.history_view(crypto, user.email)


def test_the_sent_folder_is_imported_in_bounded_steps(
        emulator: GmailEmulator, url: str, store: Store, granted: User) -> None:
    recipients = _fill(emulator, granted, 230)
    results = _steps(store, url, granted, max_messages=100)
    assert [r.read for r in results] == [100, 100, 30, 0]           # bounded by count
    cursor = results[-1].cursor
    assert (cursor.seen, cursor.imported, cursor.skipped) == (230, 230, 0)
    assert cursor.phase == "follow" and cursor.finished_at == NOW
    # pagination: three messages.list pages of 100, every call with labelIds=SENT, no q
    lists = _calls(emulator, "messages.list", granted)
    assert len(lists) == 3
    gets = _calls(emulator, "messages.get", granted)
    assert len(gets) == 230
    view = _view(store, granted)
    assert view.count("joho-jiro@b-corp.co.jp") == sum(
        1 for r in recipients if r == "joho-jiro@b-corp.co.jp")
    # display names decoded from ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8 and raw 8-bit
    names = set(view.names_for("joho-jiro@b-corp.co.jp"))
    assert {"情報 二郎", "株式会社B 情報 二郎"} <= names
    assert "髙橋 﨑子" in view.names_for("takahashi@e-ginko.co.jp")
    assert view.count("someone@z.example") == 0 and view.count("archive@a-sys.co.jp") > 0


def test_mail_sent_from_a_send_as_alias_is_the_users_history(
        emulator: GmailEmulator, url: str, store: Store, granted: User) -> None:
    """Gmail files mail sent from an alias in the same Sent label, From the alias."""
    emulator.put_message(granted.email, b"From: Sales <sales@a-sys.co.jp>\r\n"
                         b"To: buyer@c-shoji.co.jp\r\nSubject: quote\r\n"
                         b"Message-ID: <alias-1@a-sys.co.jp>\r\n\r\nhello\r\n",
                         labels=("SENT",))
    emulator.put_message(granted.email, b"From: buyer@c-shoji.co.jp\r\nTo: "
                         + granted.email.encode() + b"\r\nCc: boss@d-corp.co.jp\r\n"
                         b"Subject: re\r\n\r\nhi\r\n")          # received: not Sent
    [result, *_] = _steps(store, url, granted)
    assert (result.cursor.imported, result.cursor.skipped) == (1, 0)
    view = _view(store, granted)
    assert view.count("buyer@c-shoji.co.jp") == 1
    assert view.count("boss@d-corp.co.jp") == 0


def test_a_step_stops_at_its_deadline(emulator: GmailEmulator, url: str, store: Store,
                                      granted: User) -> None:
    _fill(emulator, granted, 30)
    ticks = iter(range(1000))
    [first] = _steps(store, url, granted, limit=1, deadline_s=5.0,
                     clock=lambda: float(next(ticks)))
    assert first.read == 3 and first.cursor.seen == 3 and first.cursor.pending
    rest = _steps(store, url, granted)
    assert rest[-1].cursor.imported == 30


def test_reimport_is_idempotent(emulator: GmailEmulator, url: str, store: Store,
                                granted: User) -> None:
    _fill(emulator, granted, 40)
    _steps(store, url, granted)
    before = _view(store, granted).count("h.sato@c-shoji.co.jp")
    crypto = store.history_crypto(WRAPPER, NOW)
    store.forget_import_cursor(crypto.h("sender", granted.email))     # start over
    again = _steps(store, url, granted)[-1].cursor
    assert (again.seen, again.imported, again.skipped) == (40, 0, 40)
    assert _view(store, granted).count("h.sato@c-shoji.co.jp") == before


def test_a_failed_step_resumes_where_it_stopped(emulator: GmailEmulator, url: str,
                                                store: Store, granted: User) -> None:
    _fill(emulator, granted, 60)
    emulator.inject(500, method="messages.get", times=1)
    first = _steps(store, url, granted, limit=1)[0]
    assert first.error == "gmail" and first.cursor.last_error == "gmail"
    done = _steps(store, url, granted)[-1].cursor
    # the message whose read failed stayed on the cursor and was read by the next step
    assert (done.seen, done.imported, done.skipped) == (60, 60, 0)


def test_new_sent_mail_is_followed_by_history_id(emulator: GmailEmulator, url: str,
                                                 store: Store, granted: User) -> None:
    _fill(emulator, granted, 10)
    _steps(store, url, granted)
    later = sent_folder(12, granted.email, seed=99)[11]
    emulator.put_message(granted.email, later.raw, labels=("SENT",))
    crypto = store.history_crypto(WRAPPER, NOW)
    cursor = store.import_cursor(crypto.h("sender", granted.email))
    assert cursor is not None and not needs_step(cursor, NOW + timedelta(minutes=1))
    assert needs_step(cursor, NOW + timedelta(minutes=11))
    results = _steps(store, url, granted)
    assert results[0].read == 1 and results[-1].cursor.imported == 11
    assert len(_calls(emulator, "history.list", granted)) >= 1
    assert len(_calls(emulator, "messages.list", granted)) == 1             # no second scan


def test_an_expired_history_id_scans_again(emulator: GmailEmulator, url: str, store: Store,
                                           granted: User) -> None:
    _fill(emulator, granted, 10)
    _steps(store, url, granted)
    emulator._mailbox(granted.email).oldest_history_id = 10**9 - 1   # Gmail forgot it
    emulator._mailbox(granted.email).history_id = 10**9
    results = _steps(store, url, granted)
    results += _steps(store, url, granted)
    cursor = results[-1].cursor
    assert cursor.imported == 10 and cursor.skipped == 10          # read again, counted once


def test_without_the_scope_gmail_refuses_and_nothing_breaks(
        emulator: GmailEmulator, url: str, store: Store) -> None:
    declined = _user(emulator, ALL_SCOPES)         # granular consent: metadata declined
    _fill(emulator, declined, 5)
    [r] = _steps(store, url, declined)
    assert r.error == "scope" and r.read == 0 and r.cursor.last_error == "scope"
    assert _view(store, declined).is_empty()


@pytest.mark.parametrize("call, message", [
    pytest.param(lambda u: u.messages().list(userId="me", q="in:sent"),
                 "Metadata scope does not support 'q' parameter", id="list-with-q"),
    pytest.param(lambda u: u.messages().get(userId="me", id="{id}"),
                 "Metadata scope doesn't allow format FULL", id="get-full-by-default"),
    pytest.param(lambda u: u.messages().get(userId="me", id="{id}", format="raw"),
                 "Metadata scope doesn't allow format RAW", id="get-raw"),
    pytest.param(lambda u: u.threads().get(userId="me", id="{thread}", format="full"),
                 "Metadata scope doesn't allow format FULL", id="thread-full"),
    pytest.param(lambda u: u.messages().attachments().get(userId="me", messageId="{id}",
                                                          id="a1"),
                 "insufficient authentication scopes", id="attachment"),
])
def test_metadata_scope_reads_no_body(emulator: GmailEmulator, url: str, granted: User,
                                      call: object, message: str) -> None:
    """The limits the discovery document states for gmail.metadata, through the real
    client: Google's 403 (the emulator enforces them like Gmail)."""
    mid, thread = emulator.put_message(granted.email, sent_folder(1, granted.email)[0].raw,
                                       labels=("SENT",))
    token = f"ya29.metadata-only-{random.randrange(10**9)}"     # the same mailbox
    emulator.add_user(granted.email, token, (METADATA_SCOPE,))
    http = google_auth_httplib2.AuthorizedHttp(Credentials(token),
                                               http=httplib2.Http(timeout=10))
    users = build_from_document(document_for(url), http=http).users()
    request = call(users)  # type: ignore[operator]
    request.uri = request.uri.replace("%7Bid%7D", mid).replace("%7Bthread%7D", thread)
    with pytest.raises(HttpError) as caught:
        request.execute()
    assert caught.value.resp.status == 403 and message in str(caught.value)
    # what it does allow: metadata, for the same message
    ok = users.messages().get(userId="me", id=mid, format="metadata").execute()
    assert {h["name"] for h in ok["payload"]["headers"]} >= {"To", "From", "Message-ID"}
    assert "parts" not in ok["payload"] and "body" not in ok["payload"]
