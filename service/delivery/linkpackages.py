"""Link-mode packages: store the sealed files, keep the manifest as the package's key,
erase the files on recall or expiry.

Order: files first (under random names, sealed with a fresh key), then the key record;
a failure in between erases what was stored, so no object outlives a package that does
not exist. Erasing needs the manifest, i.e. the master key: it happens when the package
is revoked or expires, before retention purges the blob; the bucket's lifecycle rule
(deploy.sh) deletes anything older than expiry + retention as the backstop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from service.delivery.material import open_package
from service.delivery.packages import (
    _draft_still_there,
    create_package_for,
    message_recipients,
    record_sent,
)
from service.errors import ConflictError, GmailError, SecretError
from service.files.crypt import encrypt_stream, file_key
from service.files.linkmime import Extracted, extract_attachments
from service.files.manifest import LINK_ZIP_NAME, Manifest, StoredFile, decode
from service.files.store import FileStore, new_object_name
from service.gmail.headers import header, normalise_message_id, parse_headers
from service.gmail.model import DraftMessage, SentRef
from service.policy.policyfile import Policy
from service.protect.keywrap import KeyWrapper
from service.storage import SYSTEM_ACTOR, Package, Store

if TYPE_CHECKING:
    from service.gmail.model import GmailClient

log = logging.getLogger(__name__)


def is_link(package: Package) -> bool:
    return package.zip_filename == LINK_ZIP_NAME


def open_manifest(keywrapper: KeyWrapper, package: Package) -> Manifest:
    """The package's files and key; ``SecretError`` when it does not open."""
    if not is_link(package):
        raise SecretError()
    return decode(open_package(keywrapper, package).password)


@dataclass(frozen=True)
class Stored:
    manifest: Manifest = field(repr=False)
    extracted: Extracted = field(repr=False)


def store_attachments(raw: bytes, files: FileStore, *, policy: Policy) -> Stored:
    key = Manifest.new_key()
    stored: list[StoredFile] = []

    def put(n: int, name: str, data: bytes) -> None:
        obj = new_object_name()
        files.put(obj, encrypt_stream(file_key(key, n), [data]))
        stored.append(StoredFile(name, len(data), obj))

    try:
        extracted = extract_attachments(raw, put, blocked_extensions=policy.blocked_extensions,
                                        max_size=policy.max_link_size)
    except BaseException:
        _erase(files, stored)
        raise
    return Stored(Manifest(key, tuple(stored)), extracted)


def _erase(files: FileStore, stored: Sequence[StoredFile]) -> int:
    gone = 0
    for f in stored:
        try:
            gone += files.delete(f.object_name)
        except Exception:
            log.warning("could not erase a stored file (object %s)", f.object_name)
    return gone


@dataclass(frozen=True)
class LinkProtected:
    package: Package
    message: bytes = field(repr=False)
    files: list[str]
    sizes: list[int]


def protect_link_raw(raw: bytes, *, store: Store, keywrapper: KeyWrapper, files: FileStore,
                     policy: Policy, now: datetime, sender: str,
                     key_recipients: Sequence[str] = (), locale: str = "en"
                     ) -> LinkProtected:
    """``sendguard protect --method link``: attachments out to the file store, key record
    holding the manifest, held per policy like a ZIP key (see ``protect_raw``)."""
    from service.delivery.packages import key_grants

    rcpts = message_recipients(raw)
    key_grants(policy.release_mode, sender, rcpts, key_recipients, required=False)
    done = store_attachments(raw, files, policy=policy)
    rfc_id = header(parse_headers(raw), "Message-ID")
    shared = bool(key_recipients) or policy.release_mode == "sender_only"
    try:
        package = create_package_for(
            store, keywrapper, sender=sender, recipients=rcpts or [sender],
            key_recipients=key_recipients, zip_filename=LINK_ZIP_NAME,
            file_names=done.extracted.names, password=done.manifest.encode(), policy=policy,
            now=now, release_mode=policy.release_mode if shared else "manual",
            message_id=normalise_message_id(rfc_id) if rfc_id else None,
            require_grant=False)
    except BaseException:
        _erase(files, done.manifest.files)
        raise
    audit_uploads(store, sender, package, done.manifest, now)
    return LinkProtected(package, done.extracted.message, done.extracted.names,
                         [f.size for f in done.manifest.files])


def audit_uploads(store: Store, actor: str, package: Package, manifest: Manifest,
                  now: datetime) -> None:
    store.append_audit(actor, "files.uploaded", now=now, package_id=package.id,
                       message_id=package.message_id,
                       data={"files": len(manifest.files),
                             "bytes": sum(f.size for f in manifest.files)})


def erase_package_files(store: Store, keywrapper: KeyWrapper, files: FileStore,
                        package: Package, actor: str, now: datetime, why: str) -> int:
    """Delete a link package's stored files (recall or expiry); audited. 0 for a ZIP
    package or one whose manifest no longer opens (purged)."""
    if not is_link(package):
        return 0
    try:
        manifest = open_manifest(keywrapper, package)
    except SecretError:
        return 0
    gone = _erase(files, manifest.files)
    store.append_audit(actor or SYSTEM_ACTOR, "files.erased", now=now, package_id=package.id,
                       message_id=package.message_id,
                       data={"why": why, "files": len(manifest.files), "erased": gone})
    return gone


def encrypt_and_send_link(gmail: GmailClient, *, draft_id: str, sender: str,
                          key_recipients: Sequence[str], policy: Policy, store: Store,
                          keywrapper: KeyWrapper, files: FileStore, now: datetime,
                          draft: DraftMessage, send: Callable[[bytes, Package], SentRef]
                          ) -> tuple[Package, list[str]]:
    """The add-on's Encrypt & send in link mode: files to the store, key record held,
    then the message without attachments (the note in their place) sent through
    ``send`` (the add-on's ``send_checked``: exactly the checked bytes). A send that
    certainly failed withdraws the package and erases its files."""
    from service.delivery.packages import key_grants

    recipients = sorted(draft.recipients)
    key_grants(policy.release_mode, sender, recipients, key_recipients)
    done = store_attachments(draft.raw, files, policy=policy)
    try:
        package = create_package_for(
            store, keywrapper, sender=sender, recipients=recipients or [sender],
            key_recipients=key_recipients, zip_filename=LINK_ZIP_NAME,
            file_names=done.extracted.names, password=done.manifest.encode(),
            policy=policy, now=now)
    except BaseException:
        _erase(files, done.manifest.files)
        raise
    audit_uploads(store, sender, package, done.manifest, now)
    try:
        sent = send(done.extracted.message, package)
    except (GmailError, ConflictError) as exc:
        if _draft_still_there(gmail, draft_id):
            store.append_audit(sender, "package.send_failed", now=now, package_id=package.id,
                               data={"stage": "send", "error": type(exc).__name__})
            with contextlib.suppress(ConflictError):
                package = store.revoke(package.id, sender, now)
            erase_package_files(store, keywrapper, files, package, sender, now, "failed")
        else:
            store.append_audit(sender, "package.send_uncertain", now=now,
                               package_id=package.id, data={"error": type(exc).__name__})
        raise
    package = record_sent(store, package, done.extracted.message, sent, sender, now,
                          {"recipients": len(recipients), "files": len(done.manifest.files),
                           "method": "link"})
    return package, done.extracted.names
