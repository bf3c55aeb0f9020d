"""Nothing sent twice, nothing lost: sends under every failure the emulator can stage."""

from __future__ import annotations

import pytest

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.errors import GmailClientError, GmailTransientError
from service.gmail.client import RESUMABLE_ABOVE, ApiGmailClient
from service.gmail.retry import NOT_CONFIRMED

from .support import Sleeps, User, message

# (id, fault arguments for emulator.inject on drafts.send, drafts.send requests expected,
#  confirmed: whether the caller learns it was sent; the token has only the add-on's scopes,
#  so a draft gone after an ambiguous failure is "not confirmed", never sent again)
SEND_FAULTS = [
    ("500-before-work", {"status": 500}, 2, True),
    ("503-before-work", {"status": 503}, 2, True),
    ("429-retry-after", {"status": 429, "retry_after": 1}, 2, True),
    ("500-after-send", {"status": 500, "after_commit": True}, 1, False),
    ("503-after-send-twice", {"status": 503, "after_commit": True, "times": 2}, 1, False),
    ("drop-after-send", {"drop": True, "after_commit": True}, 2, False),  # httplib2 repeats
    ("drop-before-work", {"drop": True}, 2, True),
    ("timeout-after-send", {"delay": 2.0, "after_commit": True}, 1, False),
]


@pytest.mark.parametrize(("fault", "expected_calls", "confirmed"),
                         [f[1:] for f in SEND_FAULTS], ids=[f[0] for f in SEND_FAULTS])
def test_send_draft_sends_exactly_once(fault: dict[str, object], expected_calls: int,
                                       confirmed: bool, user: User, url: str,
                                       emulator: GmailEmulator, sleeps: Sleeps) -> None:
    with ApiGmailClient(user.token, url, sleep=sleeps, timeout=1.0) as client:
        ref = client.create_draft(message(subject="once"))
        emulator.inject(method="drafts.send", **fault)  # type: ignore[arg-type]
        if confirmed:
            sent = client.send_draft(ref.draft_id)
        else:
            with pytest.raises(GmailTransientError) as err:
                client.send_draft(ref.draft_id)
            assert err.value.detail == NOT_CONFIRMED
    [record] = emulator.sent(user.email)
    if confirmed:
        assert (record.id, record.thread_id) == (sent.message_id, sent.thread_id)
    calls = [r for r in emulator.requests("drafts.send") if r.user == user.email]
    assert len(calls) == expected_calls
    assert emulator.faults() == [] or fault.get("times") == 2
    assert not [r for r in emulator.requests() if r.user == user.email and r.status == 403]


def test_send_message_goes_once_through_a_draft(client: ApiGmailClient, emulator: GmailEmulator,
                                                user: User) -> None:
    emulator.inject(500, method="drafts.create", after_commit=True)
    emulator.inject(500, method="drafts.send")
    sent = client.send_message(message(subject="via draft"))
    assert [s.id for s in emulator.sent(user.email)] == [sent.message_id]
    assert client.list_drafts() == []                 # the lost answer left no stray draft


def test_big_send_message_resumes_its_upload_session(client: ApiGmailClient,
                                                     emulator: GmailEmulator,
                                                     user: User) -> None:
    raw = message(attachments=(("a.bin", "application/octet-stream",
                                b"\x07" * (RESUMABLE_ABOVE + 1)),))
    emulator.inject(500, method="drafts.create", after_commit=True)
    sent = client.send_message(raw)
    [record] = emulator.sent(user.email)
    assert record.id == sent.message_id and record.raw.endswith(raw)
    assert client.list_drafts() == []


def test_vanished_draft_is_unconfirmed_not_resent(client: ApiGmailClient,
                                                  emulator: GmailEmulator, user: User) -> None:
    """Deleted elsewhere after the first read: gmail.compose cannot tell that apart from
    a send, so the answer is "not confirmed" (the add-on says: check Sent)."""
    ref = client.create_draft(message())
    emulator.inject(500, method="drafts.send")
    emulator.inject(404, method="drafts.get", skip=1)
    with pytest.raises(GmailTransientError) as err:
        client.send_draft(ref.draft_id)
    assert err.value.detail == NOT_CONFIRMED
    assert emulator.sent(user.email) == []
    assert len([r for r in emulator.requests("drafts.send") if r.user == user.email]) == 1


def test_unconfirmed_outcome_is_never_resent(client: ApiGmailClient, emulator: GmailEmulator,
                                             user: User) -> None:
    ref = client.create_draft(message())
    emulator.inject(500, method="drafts.send", after_commit=True)
    emulator.inject(503, method="drafts.get", skip=1, times=20)
    with pytest.raises(GmailTransientError) as err:
        client.send_draft(ref.draft_id)
    assert err.value.detail == NOT_CONFIRMED
    assert len(emulator.sent(user.email)) == 1
    assert len([r for r in emulator.requests("drafts.send") if r.user == user.email]) == 1


def test_a_second_send_of_a_sent_draft_is_404(client: ApiGmailClient,
                                              emulator: GmailEmulator, user: User) -> None:
    ref = client.create_draft(message())
    first = client.send_draft(ref.draft_id)
    with pytest.raises(GmailClientError) as err:    # a second send of the same draft: 404
        client.send_draft(ref.draft_id)
    assert err.value.http_status == 404
    assert [s.id for s in emulator.sent(user.email)] == [first.message_id]


def test_send_refused_by_gmail_is_a_client_error(client: ApiGmailClient,
                                                 emulator: GmailEmulator, user: User) -> None:
    ref = client.create_draft(b"Subject: nobody to send to\r\n\r\nx\r\n")
    with pytest.raises(GmailClientError) as err:
        client.send_draft(ref.draft_id)
    assert err.value.http_status == 400 and emulator.sent(user.email) == []


@pytest.mark.parametrize("body", [
    pytest.param(b"plain ascii body\r\n", id="json-raw"),
    pytest.param("8ビットの本文\r\n".encode(), id="8bit-resumable"),
    pytest.param(b"x" * (RESUMABLE_ABOVE + 10), id="large-resumable"),
])
def test_send_draft_carries_exactly_the_given_bytes(body: bytes, client: ApiGmailClient,
                                                    emulator: GmailEmulator,
                                                    user: User) -> None:
    """drafts.send with the message in its request: Gmail sends those bytes, whatever
    the draft held a moment before (an autosave)."""
    ref = client.create_draft(message(to="old@example.org", subject="before"))
    client.update_draft(ref.draft_id, message(to="spy@example.org", subject="autosave"), None)
    checked = (b"From: alice@sendguard.example\r\nTo: bob@example.org\r\n"
               b"Subject: checked\r\nMessage-ID: <c1@sendguard.example>\r\n"
               b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body)
    sent = client.send_draft(ref.draft_id, checked)
    [record] = emulator.sent(user.email)
    assert record.raw == checked and record.id == sent.message_id
    assert record.recipients == {"bob@example.org"}
    assert client.list_drafts() == []


def test_a_reply_sent_with_its_bytes_stays_in_its_thread(client: ApiGmailClient,
                                                         emulator: GmailEmulator,
                                                         user: User) -> None:
    _, thread = emulator.put_message(user.email, message(sender="bob@example.org"))
    ref = client.create_draft(message(subject="Re: hi"), thread)
    sent = client.send_draft(ref.draft_id, message(subject="Re: hi", body="checked\n"))
    assert sent.thread_id == thread
