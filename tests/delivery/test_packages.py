"""Encrypt & send on the in-memory Gmail client: the ZIP opens with the stored key in
7-Zip, the key is stored before anything is sent, key recipients are checked, and every
failure leaves either nothing sent or the key kept."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from service.delivery.material import open_package
from service.delivery.packages import encrypt_and_send
from service.devtools.gmail_emulator.memory import InMemoryGmailClient
from service.errors import (
    AttachmentError,
    GmailClientError,
    GmailTransientError,
    InputError,
    SecretError,
)
from service.gmail.model import DraftRef, SentRef
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.storage import Package, Store

from .conftest import SendDraft
from .helpers import (
    BCC,
    FILES,
    OTHER,
    PARTNER,
    SENDER,
    Clock,
    draft_bytes,
    open_zip,
    sevenzip,
    zip_of,
)


def test_encrypt_and_send_stores_a_held_key_that_opens_the_sent_zip(
        send_draft: SendDraft, gmail: InMemoryGmailClient, store: Store,
        keywrapper: LocalKeyWrapper, clock: Clock, tmp_path: Path) -> None:
    package = send_draft((PARTNER, "Suzuki@Other.Example.NET"))
    assert package.state == "held" and package.release_mode == "delay"
    assert package.release_at == clock.now + timedelta(seconds=300)
    assert package.expires_at == clock.now + timedelta(days=7)
    assert package.gmail_message_id and package.message_id == "draft-1@corp.example.jp"
    assert sorted(package.recipients) == sorted([PARTNER, OTHER, BCC])
    assert [g.address for g in store.list_grants(package.id)] == [PARTNER, OTHER]

    [sent] = gmail.sent()
    assert sent.message_id == package.gmail_message_id
    name, data = zip_of(sent.raw)
    assert name == package.zip_filename and "見積" not in name
    password = open_package(keywrapper, package).password
    assert password.encode() not in sent.raw
    for content in FILES.values():
        assert content[:64] not in sent.raw
    files = open_zip(sevenzip(), data, password, tmp_path)
    assert files == FILES
    assert sorted(package.file_names) == sorted(FILES)
    actions = [e.action for e in store.search_audit(package_id=package.id)]
    assert actions == ["package.created", "package.sent"]


def test_key_is_stored_before_the_draft_is_sent(store: Store, keywrapper: LocalKeyWrapper,
                                                policy: Policy, clock: Clock) -> None:
    seen: list[list[Package]] = []

    class Watching(InMemoryGmailClient):
        """The real in-memory client; it only looks at the store when asked to send."""

        def update_draft(self, draft_id: str, raw: bytes, thread_id: str | None) -> DraftRef:
            seen.append(store.list_packages(SENDER))
            return super().update_draft(draft_id, raw, thread_id)

        def send_draft(self, draft_id: str, raw: bytes | None = None) -> SentRef:
            seen.append(store.list_packages(SENDER))
            return super().send_draft(draft_id, raw)

    gmail = Watching(SENDER)
    ref = gmail.add_draft(draft_bytes())
    package = encrypt_and_send(gmail, draft_id=ref.draft_id, sender=SENDER,
                               key_recipients=[PARTNER], policy=policy, store=store,
                               keywrapper=keywrapper, now=clock())
    assert [[p.id for p in snapshot] for snapshot in seen] == [[package.id], [package.id]]
    assert seen[1][0].gmail_message_id is None     # ids are recorded only after the send
    assert gmail.calls == ["get_draft", "update_draft", "send_draft"]


@pytest.mark.parametrize("key_recipients,why", [
    pytest.param(("stranger@elsewhere.example",), "not_recipient", id="not-a-recipient"),
    pytest.param((PARTNER, "tanaka@partner.example.co"), "not_recipient", id="look-alike"),
    pytest.param((SENDER,), "not_recipient", id="sender-is-not-a-recipient"),
    pytest.param((), "none", id="nobody"),
])
def test_key_recipients_must_be_actual_recipients(
        send_draft: SendDraft, gmail: InMemoryGmailClient, store: Store,
        key_recipients: tuple[str, ...], why: str) -> None:
    with pytest.raises(InputError) as err:
        send_draft(key_recipients)
    assert ("recipient" in err.value.public_message)
    assert gmail.sent() == [] and store.list_packages(SENDER) == []
    assert gmail.calls == ["get_draft"]


@pytest.mark.parametrize("key_recipients", [(BCC,), ("TANAKA@PARTNER.EXAMPLE.COM", PARTNER)],
                         ids=["bcc-recipient", "case-and-duplicates"])
def test_any_actual_recipient_may_get_the_key(send_draft: SendDraft, store: Store,
                                              key_recipients: tuple[str, ...]) -> None:
    package = send_draft(key_recipients)
    assert [g.address for g in store.list_grants(package.id)] == [key_recipients[-1].lower()]


def test_sender_only_mode_gives_the_key_to_the_sender_alone(send_draft: SendDraft,
                                                             store: Store) -> None:
    package = send_draft((PARTNER,), pol=Policy(release_mode="sender_only"))
    assert package.state == "held" and package.release_mode == "sender_only"
    assert [g.address for g in store.list_grants(package.id)] == [SENDER]


def test_manual_mode_waits_for_the_sender(send_draft: SendDraft) -> None:
    package = send_draft(pol=Policy(release_mode="manual", release_delay=60))
    assert package.state == "awaiting_release" and package.release_at is None


@pytest.mark.parametrize("files,error", [
    pytest.param({"setup.exe": b"MZ" + bytes(100)}, AttachmentError, id="blocked-type"),
    pytest.param({}, AttachmentError, id="no-attachments"),
])
def test_bad_drafts_change_nothing(send_draft: SendDraft, gmail: InMemoryGmailClient,
                                   store: Store, files: dict[str, bytes],
                                   error: type[Exception]) -> None:
    with pytest.raises(error):
        send_draft(raw=draft_bytes(files))
    assert gmail.sent() == [] and store.list_packages(SENDER) == []


def _draft_raw(gmail: InMemoryGmailClient, draft_id: str) -> bytes:
    return gmail.get_draft(draft_id).raw


@pytest.mark.parametrize("operation,error", [
    pytest.param("send_draft", GmailClientError("bad request", http_status=400), id="send-400"),
    pytest.param("send_draft", GmailTransientError("unavailable"), id="send-503"),
    pytest.param("update_draft", GmailTransientError("unavailable"), id="update-503"),
])
def test_failed_send_restores_the_draft_and_withdraws_the_key(
        gmail: InMemoryGmailClient, store: Store, keywrapper: LocalKeyWrapper,
        policy: Policy, clock: Clock, operation: str, error: Exception) -> None:
    original = draft_bytes()
    ref = gmail.add_draft(original)
    before = _draft_raw(gmail, ref.draft_id)
    gmail.fail_next(operation, error)   # type: ignore[arg-type]
    with pytest.raises(type(error)):
        encrypt_and_send(gmail, draft_id=ref.draft_id, sender=SENDER,
                         key_recipients=[PARTNER], policy=policy, store=store,
                         keywrapper=keywrapper, now=clock())
    assert gmail.sent() == []
    assert _draft_raw(gmail, ref.draft_id) == before      # the originals are back
    [package] = store.list_packages(SENDER)
    assert package.state == "revoked"
    actions = [e.action for e in store.search_audit(package_id=package.id)]
    assert actions == ["package.created", "package.send_failed", "package.revoked"]


def test_uncertain_send_keeps_the_key_held_without_message_ids(
        gmail: InMemoryGmailClient, store: Store, keywrapper: LocalKeyWrapper,
        policy: Policy, clock: Clock) -> None:
    ref = gmail.add_draft(draft_bytes())
    gmail.fail_next("send_draft", GmailTransientError("timeout"))
    gmail.fail_next("draft_info", GmailTransientError("timeout"))   # cannot tell: uncertain
    with pytest.raises(GmailTransientError):
        encrypt_and_send(gmail, draft_id=ref.draft_id, sender=SENDER,
                         key_recipients=[PARTNER], policy=policy, store=store,
                         keywrapper=keywrapper, now=clock())
    [package] = store.list_packages(SENDER)
    assert package.state == "held" and package.gmail_message_id is None
    assert [e.action for e in store.search_audit(package_id=package.id)] == [
        "package.created", "package.send_uncertain"]


def test_wrapped_key_is_bound_to_its_record(send_draft: SendDraft, clock: Clock,
                                            keywrapper: LocalKeyWrapper) -> None:
    first = send_draft()
    clock.advance(0.000001)      # the creation time (to the microsecond) is part of the AAD
    second = send_draft()
    assert open_package(keywrapper, first).password != open_package(keywrapper, second).password
    swapped = dataclasses.replace(first, wrapped_password=second.wrapped_password)
    edited = dataclasses.replace(first, recipients=(*first.recipients, "evil@attacker.example"))
    later = dataclasses.replace(first, expires_at=first.expires_at + timedelta(days=30))
    renamed = dataclasses.replace(first, id=second.id)   # the AAD names the package id
    for tampered in (swapped, edited, later, renamed):
        with pytest.raises(SecretError):
            open_package(keywrapper, tampered)
    other_key = LocalKeyWrapper("ab" * 32)
    with pytest.raises(SecretError):
        open_package(other_key, first)


def test_encrypt_and_send_through_the_gmail_emulator(store: Store, keywrapper: LocalKeyWrapper,
                                                     policy: Policy, clock: Clock,
                                                     tmp_path: Path) -> None:
    """The real google-api-python-client over HTTP against the local Gmail emulator.

    The body is quoted-printable, as Gmail writes it: the adapter's upload cannot carry an
    8-bit body yet (reported; not a delivery matter)."""
    from service.devtools.gmail_emulator.emulator import GmailEmulator, emulator_url, serve_emulator
    from service.gmail.client import ApiGmailClient

    emulator = GmailEmulator(default_user=None)
    emulator.add_user(SENDER, "ya29.sender-token")
    server, _ = serve_emulator(emulator=emulator)
    try:
        draft_id, _, _ = emulator.put_draft(SENDER, draft_bytes(cte="quoted-printable"))
        with ApiGmailClient("ya29.sender-token", emulator_url(server)) as gmail:
            package = encrypt_and_send(gmail, draft_id=draft_id, sender=SENDER,
                                       key_recipients=[PARTNER], policy=policy, store=store,
                                       keywrapper=keywrapper, now=clock())
        [sent] = emulator.sent(SENDER)
        assert sent.id == package.gmail_message_id
        assert sent.message_id_header is not None
        assert package.message_id == sent.message_id_header.strip("<>")
        assert PARTNER in sent.recipients
        _, data = zip_of(sent.raw)
        password = open_package(keywrapper, package).password
        assert open_zip(sevenzip(), data, password, tmp_path) == FILES
    finally:
        server.shutdown()
        server.server_close()
