"""ApiGmailClient against the emulator: the calls, retries, backoff and errors."""

from __future__ import annotations

import logging
import random
import socket
import time

import pytest

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.devtools.gmail_emulator.mailbox import MAX_MESSAGE_BYTES
from service.errors import GmailClientError, GmailTransientError
from service.gmail.client import ApiGmailClient

from .support import Sleeps, User, message


def attempts(emulator: GmailEmulator, user: User, method: str) -> list[int | None]:
    return [r.status for r in emulator.requests(method) if r.user == user.email]


def test_draft_round_trip(client: ApiGmailClient, emulator: GmailEmulator, user: User) -> None:
    raw = message(to="Bob <bob@example.org>", cc="carol@example.net",
                  subject="=?UTF-8?B?5Lya6K2w6LOH5paZ?=")
    ref = client.create_draft(raw)
    assert client.list_drafts() == [ref]
    info = client.draft_info(ref.draft_id)
    assert (info.draft_id, info.message_id, info.thread_id) == (
        ref.draft_id, ref.message_id, ref.thread_id)
    assert info.subject == "会議資料" and info.recipients == {"bob@example.org",
                                                           "carol@example.net"}
    assert info.rfc822_message_id and info.rfc822_message_id.endswith("@sendguard.example")
    draft = client.get_draft(ref.draft_id)
    assert draft.raw.endswith(raw) and draft.internal_date == info.internal_date
    assert "raw" not in repr(draft) and "bob@" not in repr(draft)

    updated = client.update_draft(ref.draft_id, message(subject="v2"), None)
    assert updated.draft_id == ref.draft_id and updated.message_id != ref.message_id
    assert client.get_draft(ref.draft_id).subject == "v2"
    sent = client.send_draft(ref.draft_id)
    assert [s.id for s in emulator.sent(user.email)] == [sent.message_id]
    assert client.list_drafts() == []


def test_update_keeps_or_moves_thread(client: ApiGmailClient, emulator: GmailEmulator,
                                      user: User) -> None:
    _, thread = emulator.put_message(user.email, message(sender="bob@example.org"))
    ref = client.create_draft(message(subject="Re: hi"), thread)
    assert ref.thread_id == thread
    assert client.update_draft(ref.draft_id, message(subject="Re: hi!"), None).thread_id == thread
    assert client.update_draft(ref.draft_id, message(), thread).thread_id == thread


def test_list_drafts_query_and_limit(client: ApiGmailClient) -> None:
    refs = [client.create_draft(message(subject=f"s{i}", to=f"p{i}@example.org"))
            for i in range(3)]
    assert client.list_drafts(max_results=2) == refs[::-1][:2]
    assert client.list_drafts("to:p1@example.org") == [refs[1]]
    assert client.list_drafts("subject:nothing-like-it") == []


def test_thirty_megabyte_draft_round_trip(client: ApiGmailClient, emulator: GmailEmulator,
                                          user: User) -> None:
    blob = random.Random(3).randbytes(22 << 20)      # about 30 MB once base64 in MIME
    raw = message(attachments=(("big.bin", "application/octet-stream", blob),))
    ref = client.create_draft(message(subject="small first"))
    client.update_draft(ref.draft_id, raw, None)
    assert 29e6 < len(raw) < 33e6
    assert client.get_draft(ref.draft_id).raw.endswith(raw)
    chunks = attempts(emulator, user, "drafts.update")
    assert chunks.count(308) >= 3 and chunks[-1] == 200     # resumable, in 8 MB chunks
    sent = client.send_draft(ref.draft_id)
    [record] = emulator.sent(user.email)
    assert record.id == sent.message_id and record.raw.endswith(raw)


def test_over_35_mb_is_a_client_error_before_upload(client: ApiGmailClient,
                                                    emulator: GmailEmulator, user: User) -> None:
    ref = client.create_draft(message())
    with pytest.raises(GmailClientError) as err:
        client.update_draft(ref.draft_id, b"To: a@b.example\r\n\r\n" + b"x" * MAX_MESSAGE_BYTES,
                            None)
    assert err.value.http_status == 413
    assert attempts(emulator, user, "drafts.update") == []


@pytest.mark.parametrize(("status", "retry_after"), [
    (429, None), (429, 3.0), (500, None), (502, None), (503, 1.5), (504, None),
], ids=["429", "429-retry-after", "500", "502", "503-retry-after", "504"])
def test_transient_answer_is_retried_once(status: int, retry_after: float | None,
                                          client: ApiGmailClient, emulator: GmailEmulator,
                                          user: User, sleeps: Sleeps) -> None:
    ref = client.create_draft(message())
    emulator.inject(status, method="drafts.get", retry_after=retry_after)
    assert client.draft_info(ref.draft_id).draft_id == ref.draft_id
    assert attempts(emulator, user, "drafts.get") == [status, 200]
    assert len(sleeps) == 1
    if retry_after is None:
        assert 0.25 <= sleeps[0] <= 0.5                 # backoff 0.5: half fixed, half jitter
    else:
        assert sleeps[0] == retry_after


def test_too_many_failures_raise_transient(client: ApiGmailClient, emulator: GmailEmulator,
                                           user: User, sleeps: Sleeps) -> None:
    emulator.inject(500, times=10, method="drafts.list")
    with pytest.raises(GmailTransientError) as err:
        client.list_drafts()
    assert attempts(emulator, user, "drafts.list") == [500] * 5      # 1 + retries=4
    assert len(sleeps) == 4
    assert all(0.5 * 2 ** i / 2 <= s <= 0.5 * 2 ** i for i, s in enumerate(sleeps))
    assert "after 5 attempt" in (err.value.detail or "")
    assert err.value.public_message


def test_retry_after_beyond_the_limit_gives_up_at_once(client: ApiGmailClient,
                                                      emulator: GmailEmulator,
                                                      sleeps: Sleeps) -> None:
    emulator.inject(429, method="drafts.list", retry_after=3600)
    with pytest.raises(GmailTransientError):
        client.list_drafts()
    assert sleeps == []


@pytest.mark.parametrize(("inject", "expected"), [
    (400, 400), (403, 403), (404, 404), (409, 409),
], ids=["400", "403", "404", "409"])
def test_client_errors_are_not_retried(inject: int, expected: int, client: ApiGmailClient,
                                       emulator: GmailEmulator, user: User,
                                       sleeps: Sleeps) -> None:
    emulator.inject(inject, method="drafts.list")
    with pytest.raises(GmailClientError) as err:
        client.list_drafts()
    assert err.value.http_status == expected
    assert attempts(emulator, user, "drafts.list") == [inject]
    assert sleeps == []


@pytest.mark.parametrize("draft_id", ["r404404404", "not-an-id"], ids=["unknown", "malformed"])
def test_bad_draft_ids(draft_id: str, client: ApiGmailClient) -> None:
    with pytest.raises(GmailClientError) as err:
        client.get_draft(draft_id)
    assert err.value.http_status == (404 if draft_id.startswith("r") else 400)


def test_slow_answer_times_out_and_is_retried(user: User, url: str, emulator: GmailEmulator,
                                              sleeps: Sleeps) -> None:
    with ApiGmailClient(user.token, url, sleep=sleeps, timeout=0.5) as slow:
        ref = slow.create_draft(message())
        emulator.inject(method="drafts.get", delay=4)
        started = time.monotonic()
        assert slow.draft_info(ref.draft_id).draft_id == ref.draft_id
        assert time.monotonic() - started < 4, "the slow answer was not waited for"
    assert len(sleeps) == 1


def test_unreachable_server_is_transient(user: User, sleeps: Sleeps) -> None:
    with socket.socket() as s:   # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with ApiGmailClient(user.token, f"http://127.0.0.1:{port}/", sleep=sleeps,
                        retries=2) as dead, pytest.raises(GmailTransientError) as err:
        dead.list_drafts()
    assert len(sleeps) == 2 and "ConnectionRefusedError" in (err.value.detail or "")


def test_rejected_token_is_401_without_retry(url: str, sleeps: Sleeps) -> None:
    with ApiGmailClient("ya29.revoked", url, sleep=sleeps) as bad, \
            pytest.raises(GmailClientError) as err:
        bad.list_drafts()
    assert err.value.http_status == 401 and sleeps == []


def test_empty_token_is_refused_up_front(url: str) -> None:
    with pytest.raises(GmailClientError) as err:
        ApiGmailClient("", url)
    assert err.value.http_status == 401


def test_no_token_or_content_in_logs_or_repr(client: ApiGmailClient, emulator: GmailEmulator,
                                             user: User, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.inject(503, times=2)
    raw = message(to="secret.person@example.org", subject="極秘の件名", body="body-secret-text")
    client.send_message(raw)
    assert caplog.records, "retries are logged"
    logged = caplog.text + repr(client)
    for secret in (user.token, "secret.person", "極秘", "body-secret-text"):
        assert secret not in logged


EIGHT_BIT = ("From: taro@example.co.jp\r\nTo: bob@example.org\r\nSubject: 8bit\r\n"
             "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\nお見積りをお送りします。\r\n").encode()


@pytest.mark.parametrize("op", ["create", "update"])
def test_eight_bit_drafts_upload_unchanged(client: ApiGmailClient, emulator: GmailEmulator,
                                           op: str) -> None:
    """googleapiclient's multipart upload cannot carry 8-bit bodies; the client must."""
    if op == "create":
        ref = client.create_draft(EIGHT_BIT)
    else:
        ref = client.create_draft(message(subject="ascii first"))
        client.update_draft(ref.draft_id, EIGHT_BIT, None)
    got = client.get_draft(ref.draft_id).raw
    assert got.endswith(EIGHT_BIT.split(b"\r\n\r\n", 1)[1])
    assert "お見積り".encode() in got
