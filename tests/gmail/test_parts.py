"""The pieces under the emulator and the adapter: headers, search, parts, uploads, faults,
failure classification, the in-memory client and the user-facing texts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httplib2
import pytest
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError, MediaUploadSizeError

from service.devtools.gmail_emulator.faults import Fault, FaultPlan
from service.devtools.gmail_emulator.mailbox import (
    MAX_MESSAGE_BYTES,
    Ids,
    Mailbox,
    MailboxError,
    check_sendable,
)
from service.devtools.gmail_emulator.memory import InMemoryGmailClient
from service.devtools.gmail_emulator.payload import view_of
from service.devtools.gmail_emulator.search import matches
from service.devtools.gmail_emulator.uploads import UploadError, parse_multipart, parse_range
from service.errors import ConflictError, GmailClientError, GmailTransientError
from service.gmail.base64url import b64url, b64url_decode
from service.gmail.explain import error_text
from service.gmail.headers import (
    addresses,
    ensure_message_id,
    header,
    parse_headers,
    raw_headers,
    split_head,
)
from service.gmail.retry import NOT_CONFIRMED, classify
from service.i18n import using

from .support import message

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# ---- headers --------------------------------------------------------------------------


def test_headers_are_decoded_but_never_reparsed() -> None:
    raw = ("To: =?UTF-8?B?5L2Q6Jek?= <sato@a.co.jp>,\r\n suzuki@a.co.jp tanaka@a.co.jp\r\n"
           "Subject: =?iso-2022-jp?b?GyRCMnE1REpzOXAbKEI=?=\r\n"
           "X-Eight-Bit: 日本語\r\n\r\nbody").encode()
    headers = parse_headers(raw)
    assert header(headers, "to") == "佐藤 <sato@a.co.jp>, suzuki@a.co.jp tanaka@a.co.jp"
    assert header(headers, "Subject") == "会議報告"
    assert header(headers, "X-Eight-Bit") == "日本語"
    assert (header(raw_headers(raw), "To") or "").startswith("=?UTF-8?B?5L2Q6Jek?=")
    assert addresses([header(headers, "To") or ""]) == {
        "sato@a.co.jp", "suzuki@a.co.jp", "tanaka@a.co.jp"}


@pytest.mark.parametrize(("values", "expected"), [
    (['"Smith, Bob" <Bob@Example.org>'], {"bob@example.org"}),
    (["Smith, Bob <bob@example.org>"], {"bob@example.org"}),
    (["a@x.example; b@y.example"], {"a@x.example", "b@y.example"}),
    (["bob@example.org (Bob at work)"], {"bob@example.org"}),
    (["undisclosed-recipients:;"], set()),
    (["not an address", "@example.org", "bob@"], set()),
    ([], set()),
], ids=["quoted-comma", "unquoted-comma", "semicolon", "comment", "group", "junk", "none"])
def test_addresses(values: list[str], expected: set[str]) -> None:
    assert addresses(values) == expected


@pytest.mark.parametrize(("raw", "head", "body"), [
    (b"A: 1\r\n\r\nbody", b"A: 1\r\n", b"body"),
    (b"A: 1\n\nbody\n\nmore", b"A: 1\n", b"body\n\nmore"),
    (b"A: 1\r\n", b"A: 1\r\n", b""),
], ids=["crlf", "lf", "no-body"])
def test_split_head(raw: bytes, head: bytes, body: bytes) -> None:
    assert split_head(raw) == (head, body)


def test_ensure_message_id_adds_once() -> None:
    raw = b"To: a@b.example\r\n\r\nx"
    with_id, mid = ensure_message_id(raw, "sendguard.example")
    assert with_id.startswith(f"Message-ID: <{mid}>\r\n".encode()) and with_id.endswith(raw)
    assert mid.endswith("@sendguard.example")
    assert ensure_message_id(with_id) == (with_id, mid)


# ---- search -----------------------------------------------------------------------------

class Doc:
    def __init__(self, raw: bytes, labels: tuple[str, ...], at: datetime) -> None:
        self.headers = parse_headers(raw)
        self.labels = labels
        self.internal_date_ms = int(at.timestamp() * 1000)
        self.snippet = "Hello Bob, see attached."
        self.has_attachment = True


DOC = Doc(b"Message-ID: <m1@sendguard.example>\r\n" + message(
    to="Bob <bob@example.org>", cc="carol@example.net", subject="Q3 report 社外秘"),
    ("DRAFT",), datetime(2026, 11, 1, 8, 55, tzinfo=UTC))


@pytest.mark.parametrize(("query", "hit"), [
    (None, True), ("", True),
    ("to:bob@example.org", True), ("to:carol", False), ("cc:carol", True),
    ("from:alice", True), ("subject:report", True), ('subject:"Q3 report"', True),
    ("subject:社外秘", True), ("subject:nope", False),
    ("rfc822msgid:m1@sendguard.example", True), ("rfc822msgid:<m1@sendguard.example>", True),
    ("rfc822msgid:m2@sendguard.example", False),
    ("in:drafts", True), ("in:sent", False), ("is:draft", True), ("label:DRAFT", True),
    ("in:anywhere", True), ("-in:sent", True), ("-in:drafts", False),
    (f"after:{int(datetime(2026, 11, 1, 8, 50, tzinfo=UTC).timestamp())}", True),
    (f"after:{int(datetime(2026, 11, 1, 8, 56, tzinfo=UTC).timestamp())}", False),
    ("before:2026/11/02", True), ("after:2026/11/02", False),
    ("newer_than:1d", True), ("older_than:1d", False), ("newer_than:1m", True),
    ("has:attachment", True), ("hello", True), ("goodbye", False),
    ("to:bob subject:report in:drafts", True), ("to:bob in:sent", False),
    ("colour:red", False), ("after:yesterday", False),
], ids=lambda v: str(v))
def test_search_terms(query: str | None, hit: bool) -> None:
    assert matches(query, DOC, int(NOW.timestamp() * 1000)) is hit


# ---- the format=full view -----------------------------------------------------------------

def test_view_of_attachment_and_snippet() -> None:
    raw = message(body="<b>Hi</b> &   there\n\n" + "x" * 300,
                  attachments=(("社員名簿.xlsx", "application/octet-stream", b"PK\x03\x04"),))
    view = view_of(raw, "18f3a0c0000001f1")
    assert view.snippet.startswith("&lt;b&gt;Hi&lt;/b&gt; &amp; there x")
    assert len(view.snippet) <= 200 + 30
    [(att_id, data)] = view.attachments.items()
    assert data == b"PK\x03\x04" and view.payload["parts"][1]["body"]["attachmentId"] == att_id
    assert view.payload["parts"][1]["filename"] == "社員名簿.xlsx"
    assert view_of(raw, "18f3a0c0000001f1").attachments.keys() == view.attachments.keys()
    assert view_of(raw, "18f3a0c000000999").attachments.keys() != view.attachments.keys()


def test_view_of_garbage_does_not_crash() -> None:
    view = view_of(b"\x00\xff not a message at all", "18f3a0c0000001f1")
    assert view.payload["mimeType"] == "text/plain" and view.attachments == {}


@pytest.mark.parametrize("text", ["!!!", "a", "日本"], ids=["symbols", "one-char", "non-ascii"])
def test_b64url_decode_refuses_junk(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_b64url_accepts_both_alphabets_and_no_padding() -> None:
    data = bytes(range(256))
    assert b64url_decode(b64url(data).rstrip("=")) == data
    assert b64url_decode(b64url(data).replace("-", "+").replace("_", "/")) == data


# ---- uploads ------------------------------------------------------------------------------

def test_parse_multipart_keeps_media_bytes() -> None:
    media = b"To: a@b.example\r\n\r\nline\r\n--not-the-boundary\r\n\x00\xff"
    body = (b"--XYZ\nContent-Type: application/json\n\n" + json.dumps({"id": "r1"}).encode()
            + b"\n--XYZ\nContent-Type: message/rfc822\nContent-Transfer-Encoding: binary\n\n"
            + media + b"\n--XYZ--\n")
    upload = parse_multipart(body, 'multipart/related; boundary="XYZ"')
    assert upload.metadata == {"id": "r1"} and upload.media == media
    assert upload.media_type == "message/rfc822"


@pytest.mark.parametrize(("body", "ctype", "error"), [
    (b"x", "multipart/related", "boundary"),
    (b"--B\r\nContent-Type: application/json\r\n\r\n{}\r\n--B--", "multipart/related; boundary=B",
     "2 parts"),
    (b"--B\r\nContent-Type: text/plain\r\n\r\n{}\r\n--B\r\n\r\nx\r\n--B--",
     "multipart/related; boundary=B", "application/json"),
    (b"--B\r\nContent-Type: application/json\r\n\r\n{oops\r\n--B\r\n\r\nx\r\n--B--",
     "multipart/related; boundary=B", "not JSON"),
    (b"--B\r\nContent-Type: application/json\r\n\r\n[1]\r\n--B\r\n\r\nx\r\n--B--",
     "multipart/related; boundary=B", "object"),
    (b"--B\r\nContent-Type: application/json\r\n{}\r\n--B\r\n\r\nx\r\n--B--",
     "multipart/related; boundary=B", "blank line"),
], ids=["no-boundary", "one-part", "metadata-not-json-type", "bad-json", "not-object",
        "no-blank-line"])
def test_parse_multipart_errors(body: bytes, ctype: str, error: str) -> None:
    with pytest.raises(UploadError, match=error):
        parse_multipart(body, ctype)


@pytest.mark.parametrize(("value", "length", "expected"), [
    (None, 10, (0, 10)), ("bytes 0-9/100", 10, (0, 100)), ("bytes 10-19/*", 10, (10, None)),
    ("bytes */100", 0, (None, 100)),
], ids=["whole", "first-chunk", "unknown-total", "status-query"])
def test_parse_range(value: str | None, length: int, expected: tuple[Any, Any]) -> None:
    assert parse_range(value, length) == expected


@pytest.mark.parametrize(("value", "length"), [("bytes 0-9/100", 5), ("items 0-1/2", 2)],
                         ids=["length-mismatch", "not-bytes"])
def test_parse_range_errors(value: str, length: int) -> None:
    with pytest.raises(UploadError):
        parse_range(value, length)


# ---- faults --------------------------------------------------------------------------------

def test_fault_plan_order_skip_and_method() -> None:
    plan = FaultPlan()
    plan.add(Fault(status=500, method="drafts.send", skip=1))
    plan.add(Fault(status=429, times=2))
    taken = [plan.take(m) for m in ("gmail.users.drafts.send", "gmail.users.drafts.send",
                                     "gmail.users.drafts.get", "gmail.users.drafts.get")]
    assert [f.status if f else None for f in taken] == [429, 500, 429, None]
    assert plan.pending() == []


# ---- failure classification -----------------------------------------------------------------

def _http_error(status: int, reason: str = "", retry_after: str | None = None) -> HttpError:
    resp = httplib2.Response({"status": status, **({"retry-after": retry_after}
                                                   if retry_after else {})})
    body = {"error": {"code": status, "message": "m", "errors": [{"reason": reason}]}}
    return HttpError(resp, json.dumps(body).encode())


@pytest.mark.parametrize(("exc", "kind", "status", "after"), [
    (_http_error(429, retry_after="7"), "rate", 429, 7.0),
    (_http_error(403, "userRateLimitExceeded"), "rate", 403, None),
    (_http_error(403, "rateLimitExceeded"), "rate", 403, None),
    (_http_error(403, "forbidden"), "client", 403, None),
    (_http_error(500), "server", 500, None),
    (_http_error(503, retry_after="Sun, 01 Nov 2026 09:00:30 GMT"), "server", 503, 30.0),
    (_http_error(503, retry_after="soon"), "server", 503, None),
    (_http_error(404), "client", 404, None),
    (RefreshError("no refresh token"), "client", 401, None),
    (MediaUploadSizeError("too big"), "client", 413, None),
    (ConnectionResetError(), "network", None, None),
    (TimeoutError(), "network", None, None),
    (httplib2.ServerNotFoundError("dns"), "network", None, None),
], ids=["429", "403-user-rate", "403-rate", "403-forbidden", "500", "503-date", "503-junk",
        "404", "refresh", "too-big", "reset", "timeout", "dns"])
def test_classify(exc: BaseException, kind: str, status: int | None, after: float | None) -> None:
    failure = classify(exc, NOW.timestamp)
    assert failure is not None
    assert (failure.kind, failure.status, failure.retry_after) == (kind, status, after)


def test_classify_leaves_programming_errors_alone() -> None:
    assert classify(KeyError("id"), NOW.timestamp) is None


@pytest.mark.parametrize(("error", "ja", "en"), [
    (GmailTransientError("x"), "混み合って", "busy"),
    (GmailTransientError("x", detail=NOT_CONFIRMED), "送信済み", "Check Sent"),
    (ConflictError("x"), "見つかりません", "no sent copy"),
    (GmailClientError("x", http_status=413), "35 MB", "35 MB"),
    (GmailClientError("x", http_status=401), "開き直して", "Reopen"),
    (GmailClientError("x", http_status=418), "受け付けません", "refused the request"),
], ids=["busy", "unconfirmed", "vanished", "too-big", "auth", "other-4xx"])
def test_error_texts(error: Any, ja: str, en: str) -> None:
    with using("ja"):
        assert ja in error_text(error)
    with using("en"):
        assert en in error_text(error)


# ---- mailbox rules and the in-memory client -------------------------------------------------

@pytest.mark.parametrize(("raw", "error"), [
    (b"Subject: x\r\n\r\nx", "Recipient address required"),
    (b"To: sato@a.co.jp suzuki@a.co.jp\r\n\r\nx", "Invalid To header"),
    (b"To: ok@example.org\r\nBcc: bad-address\r\n\r\nx", "Invalid Bcc header"),
    (b"To: undisclosed-recipients:;\r\n\r\nx", "Recipient address required"),
], ids=["none", "missing-comma", "bad-bcc", "empty-group"])
def test_check_sendable(raw: bytes, error: str) -> None:
    with pytest.raises(MailboxError, match=error):
        check_sendable(raw)


def test_check_sendable_accepts_encoded_names_with_commas() -> None:
    check_sendable(b"To: =?UTF-8?B?U2F0bywgVGFybw==?= <sato@a.co.jp>\r\n\r\nx")


def test_mailbox_update_replaces_message_and_history_moves() -> None:
    box = Mailbox("a@b.example", Ids(), NOW.timestamp)
    draft_id, first = box.create_draft(message())
    history = box.history_id
    second = box.update_draft(draft_id, message(subject="new"))
    assert first.id not in box.messages and second.thread_id == first.thread_id
    assert box.history_id > history


def test_in_memory_client_behaves_like_gmail() -> None:
    mem = InMemoryGmailClient("me@example.com", clock=NOW.timestamp)
    ref = mem.add_draft(message(subject="one"))
    assert mem.list_drafts() == [ref] and mem.get_draft(ref.draft_id).subject == "one"
    assert mem.draft_info(ref.draft_id).internal_date == NOW
    updated = mem.update_draft(ref.draft_id, message(subject="two"), None)
    sent = mem.send_draft(ref.draft_id)
    assert sent.message_id == updated.message_id and mem.list_drafts() == []
    other = mem.send_message(message(subject="direct"))
    assert [m.subject for m in mem.sent()] == ["two", "direct"]
    assert mem.sent()[1].message_id == other.message_id and mem.sent()[1].rfc822_message_id


@pytest.mark.parametrize(("call", "status"), [
    (lambda m: m.get_draft("r999"), 404),
    (lambda m: m.get_draft("bogus"), 400),
    (lambda m: m.send_draft("r999"), 404),
    (lambda m: m.send_message(b"Subject: nobody\r\n\r\nx"), 400),
    (lambda m: m.send_message(b"To: a@b.example\r\n\r\n" + b"x" * MAX_MESSAGE_BYTES), 400),
    (lambda m: m.update_draft("r999", message(), None), 404),
], ids=["unknown-draft", "malformed-id", "send-unknown", "no-recipients", "too-big",
        "update-unknown"])
def test_in_memory_client_errors(call: Any, status: int) -> None:
    mem = InMemoryGmailClient()
    with pytest.raises(GmailClientError) as err:
        call(mem)
    assert err.value.http_status == status


def test_in_memory_fail_next_scripts_errors() -> None:
    mem = InMemoryGmailClient()
    ref = mem.add_draft(message())
    mem.fail_next("send_draft", GmailTransientError("busy"), times=2)
    for _ in range(2):
        with pytest.raises(GmailTransientError):
            mem.send_draft(ref.draft_id)
    mem.send_draft(ref.draft_id)
    assert len(mem.sent()) == 1 and mem.calls.count("send_draft") == 3
