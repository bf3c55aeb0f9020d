"""Encrypt a draft's attachments, send it, and keep its key for separate delivery.

Order is what makes it safe:

1. read the draft and check the key recipients (only actual recipients of the message,
   or the sender alone in ``sender_only`` mode) — nothing has changed yet;
2. encrypt the attachments with a fresh password (``protect_message``);
3. store the key record (wrapped password, hashed link tokens, hold times) — before the
   draft changes, so no crash can leave a sent ZIP whose password is lost;
4. replace the draft's MIME by the protected one and send the draft;
5. record the sent message's ids: only a package with them is released automatically
   (``release``), so a key never goes out for a message that did not.

A send that certainly failed (the draft is still there) restores the draft and revokes
the key; an uncertain one keeps the key held for the sender to release or revoke.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from service.delivery.material import KeyMaterial, binding, open_package, seal
from service.errors import (
    ConflictError,
    GmailError,
    InputError,
    SecretError,
    SendGuardError,
)
from service.gmail.headers import (
    addresses,
    header,
    header_values,
    normalise_message_id,
    parse_headers,
)
from service.i18n import _
from service.policy.policyfile import Policy
from service.protect.keywrap import KeyWrapper
from service.protect.mime import ProtectResult, protect_message
from service.protect.password import generate_password
from service.storage import Package, hash_token
from service.storage.package_rows import new_package_id
from service.storage.records import ReleaseMode

if TYPE_CHECKING:   # protect imports neither SQLAlchemy (storage.sqlite_keys) nor Gmail's
    import logging

    from service.gmail.model import DraftMessage, GmailClient, SentRef
    from service.storage import Store
    from service.storage.sqlite_keys import KeyRecords


def _log() -> logging.Logger:
    """This module's logger, for the add-on's failure paths only: ``sendguard protect``
    shares the module and starts without importing logging (issue 12)."""
    import logging

    return logging.getLogger(__name__)


def key_grants(mode: str, sender: str, recipients: Sequence[str],
               key_recipients: Sequence[str], *,
               required: bool = True) -> list[str]:
    """The addresses that get a link: checked against the message's actual recipients."""
    if mode == "sender_only":
        return [sender.strip().lower()]
    actual = {r.strip().lower() for r in recipients}
    chosen: list[str] = []
    for addr in key_recipients:
        low = addr.strip().lower()
        if low not in actual:
            raise InputError(_("delivery.error.not_recipient", address=addr.strip()))
        if low not in chosen:
            chosen.append(low)
    if not chosen and required:
        raise InputError(_("delivery.error.no_key_recipient"))
    return chosen


def create_package_for(store: KeyRecords, keywrapper: KeyWrapper, *, sender: str,
                       recipients: Sequence[str], key_recipients: Sequence[str],
                       zip_filename: str, file_names: Sequence[str], password: str,
                       policy: Policy, now: datetime, release_mode: str | None = None,
                       message_id: str | None = None, gmail_message_id: str | None = None,
                       require_grant: bool = True) -> Package:
    """Store the key: password and link seed wrapped (bound to the package id chosen
    here first), tokens hashed, held per policy.

    The blob is opened once right away, so a record that could not give its key back is
    withdrawn before anything depends on it.
    """
    mode = release_mode or policy.release_mode
    grants = key_grants(mode, sender, recipients, key_recipients,
                        required=require_grant)
    material = KeyMaterial.new(password)
    expires = now + timedelta(seconds=policy.key_expiry)
    release_at = None if mode == "manual" else now + timedelta(seconds=policy.release_delay)
    package_id = new_package_id()
    aad = binding(package_id=package_id, sender=sender, recipients=recipients,
                  zip_filename=zip_filename, file_names=file_names, created_at=now,
                  expires_at=expires, release_mode=mode, reveal_limit=policy.reveal_limit)
    typed_mode: ReleaseMode = mode  # type: ignore[assignment]  # checked by the store
    package = store.create_package(
        sender=sender, recipients=recipients, zip_filename=zip_filename,
        file_names=file_names, wrapped_password=seal(keywrapper, material, aad),
        release_mode=typed_mode, now=now, expires_at=expires, release_at=release_at,
        reveal_limit=policy.reveal_limit, message_id=message_id,
        gmail_message_id=gmail_message_id,
        grants=[(a, hash_token(material.link_token(a))) for a in grants],
        package_id=package_id)
    try:
        opened = open_package(keywrapper, package)
    except SecretError:
        opened = None
    if opened != material:
        store.revoke(package.id, sender, now)
        raise SendGuardError("the key record could not be verified; nothing was sent")
    return package


@dataclass(frozen=True)
class Protected:
    """``protect_raw``'s outcome; the password is for ``--reveal-password`` only."""

    package: Package
    result: ProtectResult = field(repr=False)
    password: str = field(repr=False)


def message_sender(raw: bytes, fallback: str) -> str:
    found = sorted(addresses(header_values(parse_headers(raw), "from")))
    return found[0] if found else fallback


def message_recipients(raw: bytes) -> list[str]:
    heads = parse_headers(raw)
    return sorted(addresses(header_values(heads, "to") + header_values(heads, "cc")
                            + header_values(heads, "bcc")))


def protect_raw(raw: bytes, *, store: KeyRecords, keywrapper: KeyWrapper, policy: Policy,
                now: datetime, sender: str, key_recipients: Sequence[str] = ()) -> Protected:
    """``sendguard protect``: the add-on's transformation on a file, key record included.

    The caller sends the result itself, so its Message-ID marks it as sent and the key is
    held per policy; with nobody to give the key to it waits in manual mode, and without
    a Message-ID it waits for an explicit ``keys release`` after the delay.
    """
    rcpts = message_recipients(raw)
    key_grants(policy.release_mode, sender, rcpts, key_recipients, required=False)
    password = generate_password()
    result = protect_message(raw, password, blocked_extensions=policy.blocked_extensions,
                             now=now, hide_names=policy.hide_names)
    rfc_id = header(parse_headers(raw), "Message-ID")
    message_id = normalise_message_id(rfc_id) if rfc_id else None
    shared = bool(key_recipients) or policy.release_mode == "sender_only"
    mode = policy.release_mode if shared else "manual"
    package = create_package_for(
        store, keywrapper, sender=sender, recipients=rcpts or [sender],
        key_recipients=key_recipients, zip_filename=result.zip_filename,
        file_names=result.files, password=password, policy=policy, now=now,
        release_mode=mode, message_id=message_id or None,
        require_grant=False)
    return Protected(package, result, password)


def _draft_still_there(gmail: GmailClient, draft_id: str) -> bool:
    """True only when Gmail says the draft exists, i.e. it was certainly not sent."""
    try:
        gmail.draft_info(draft_id)
    except Exception:   # 404 (gone) or unknown: not certain
        return False
    return True


def _restore(gmail: GmailClient, draft_id: str, raw: bytes, thread_id: str | None) -> None:
    """Best effort: the draft as the user left it, original attachments included."""
    try:
        gmail.update_draft(draft_id, raw, thread_id)
    except Exception:
        _log().warning("could not restore the draft after a failed encrypt & send")


def _withdraw(store: Store, package: Package, sender: str, now: datetime, stage: str,
              exc: BaseException) -> None:
    try:
        store.append_audit(sender, "package.send_failed", now=now, package_id=package.id,
                           data={"stage": stage, "error": type(exc).__name__})
        store.revoke(package.id, sender, now)
    except ConflictError:
        pass
    except Exception:
        _log().exception("could not withdraw package %s after a failed send", package.id)


def encrypt_and_send(gmail: GmailClient, *, draft_id: str, sender: str,
                     key_recipients: Sequence[str], policy: Policy, store: Store,
                     keywrapper: KeyWrapper, now: datetime,
                     blocked_extensions: Sequence[str] | None = None,
                     draft: DraftMessage | None = None,
                     send: Callable[[bytes, Package], SentRef] | None = None) -> Package:
    """Encrypt the draft's attachments into one AES-256 ZIP, send it, hold its key.

    ``draft``: the draft as already read and confirmed (else it is read here); ``send``:
    sends the encrypted bytes as the draft in one ``drafts.send`` that carries them (the
    add-on's ``send_checked``), instead of updating the draft and sending it in two calls.
    """
    draft = draft if draft is not None else gmail.get_draft(draft_id)
    recipients = sorted(draft.recipients)
    mode = policy.release_mode
    key_grants(mode, sender, recipients, key_recipients)   # fail before any change
    password = generate_password()
    blocked = policy.blocked_extensions if blocked_extensions is None else blocked_extensions
    result = protect_message(draft.raw, password, blocked_extensions=blocked, now=now,
                             hide_names=policy.hide_names)
    package = create_package_for(
        store, keywrapper, sender=sender, recipients=recipients or [sender],
        key_recipients=key_recipients, zip_filename=result.zip_filename,
        file_names=result.files, password=password, policy=policy, now=now)
    del password
    if send is None:
        try:
            gmail.update_draft(draft_id, result.message, draft.thread_id)
        except Exception as exc:   # nothing was sent: put the draft back, withdraw the key
            _restore(gmail, draft_id, draft.raw, draft.thread_id)
            _withdraw(store, package, sender, now, "update", exc)
            raise
    try:
        sent = send(result.message, package) if send else gmail.send_draft(draft_id)
    except (GmailError, ConflictError) as exc:
        if _draft_still_there(gmail, draft_id):
            _restore(gmail, draft_id, draft.raw, draft.thread_id)
            _withdraw(store, package, sender, now, "send", exc)
        else:
            store.append_audit(sender, "package.send_uncertain", now=now,
                               package_id=package.id, data={"error": type(exc).__name__})
        raise
    return record_sent(store, package, result.message, sent, sender, now,
                       {"recipients": len(recipients), "files": len(result.files),
                        "zip_filename": result.zip_filename})


def record_sent(store: Store, package: Package, message: bytes, sent: SentRef, sender: str,
                now: datetime, data: dict[str, object]) -> Package:
    """After Gmail sent a package's message: its ids on the package, and the audit line."""
    rfc_id = header(parse_headers(message), "Message-ID")
    package = store.set_message_ids(
        package.id, message_id=normalise_message_id(rfc_id) if rfc_id else None,
        gmail_message_id=sent.message_id)
    store.append_audit(sender, "package.sent", now=now, package_id=package.id,
                       message_id=package.message_id,
                       data={"gmail_message": sent.message_id, "thread": sent.thread_id,
                             **data, "release_mode": package.release_mode})
    return package
