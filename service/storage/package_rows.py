"""A new key record's rows, checked, with no SQLAlchemy: ``Store.create_package`` writes
them through SQLAlchemy, and ``sendguard protect`` on a migrated SQLite database through
the standard library (``storage.sqlite_keys``), so both write the same record.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.errors import InputError
from service.storage import checks
from service.storage.records import RELEASE_MODES, ReleaseMode

PACKAGE_ID_BYTES = 16        # 128 bits, 22 URL-safe characters
MIN_PACKAGE_ID_CHARS = 16    # 96 bits of base64url at the least
DEFAULT_REVEAL_LIMIT = 5
_PACKAGE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def hash_token(token: str) -> bytes:
    """The SHA-256 digest stored for a link token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_package_id() -> str:
    """A fresh random id; callers that bind a key blob to the id make it first. It never
    starts with '-', so ``sendguard keys show ID`` cannot mistake it for an option."""
    while True:
        value = secrets.token_urlsafe(PACKAGE_ID_BYTES)
        if not value.startswith("-"):
            return value


def check_package_id(value: object) -> str:
    """A caller-chosen id: URL-safe base64 characters, 96 bits (16 characters) or more,
    at most the column's 64. Its randomness is the caller's duty (``new_package_id``)."""
    if (not isinstance(value, str) or not _PACKAGE_ID.match(value)
            or not MIN_PACKAGE_ID_CHARS <= len(value) <= 64):
        raise InputError(f"package_id must be {MIN_PACKAGE_ID_CHARS} to 64 URL-safe "
                         "characters (A-Z, a-z, 0-9, '-', '_')")
    return value



def _names(values: object, name: str) -> list[str]:
    names = checks.sequence(values, name)
    if not names:
        raise InputError(f"{name} must be a non-empty list of file names")
    return [str(checks.text(v, name, max_len=255)) for v in names]


def _grant_pair(item: object) -> tuple[str, bytes]:
    if not isinstance(item, tuple | list) or len(item) != 2:
        raise InputError("grants must be (address, token_hash) pairs")
    return checks.address(item[0], "grant address"), checks.digest(item[1], "token_hash")


@dataclass(frozen=True)
class NewPackage:
    """Column values of the ``packages`` row, of each ``grants`` row and of the
    ``package.created`` audit event (``audit_data.audit_values`` checks those)."""

    values: dict[str, Any]
    grants: list[dict[str, Any]]
    audit: dict[str, Any]


def prepare_package(*, sender: str, recipients: Iterable[str], zip_filename: str,
                    file_names: Iterable[str], wrapped_password: bytes,
                    release_mode: ReleaseMode, now: datetime, expires_at: datetime,
                    release_at: datetime | None = None,
                    reveal_limit: int = DEFAULT_REVEAL_LIMIT,
                    message_id: str | None = None, gmail_message_id: str | None = None,
                    subject_hash: bytes | None = None,
                    grants: Iterable[tuple[str, bytes]] = (),
                    package_id: str | None = None) -> NewPackage:
    """Check a new key record (``Store.create_package`` says what is allowed)."""
    now = checks.aware(now, "now")
    sender = checks.address(sender, "sender")
    rcpts = checks.addresses(recipients, "recipients")
    names = _names(file_names, "file_names")
    zip_name = str(checks.text(zip_filename, "zip_filename", max_len=255))
    if not isinstance(wrapped_password, bytes) or not wrapped_password:
        raise InputError("wrapped_password must be non-empty bytes")
    if release_mode not in RELEASE_MODES:
        raise InputError(f"release_mode must be one of {', '.join(RELEASE_MODES)}")
    expires = checks.aware(expires_at, "expires_at")
    if expires <= now:
        raise InputError("expires_at must be in the future")
    if release_mode == "manual":
        if release_at is not None:
            raise InputError("a manual release has no release_at")
        release, state = None, "awaiting_release"
    else:
        if release_at is None:
            raise InputError(f"release mode {release_mode} needs release_at")
        release, state = checks.aware(release_at, "release_at"), "held"
        if release >= expires:
            raise InputError("release_at must come before expires_at")
    checks.positive(reveal_limit, "reveal_limit", at_most=1000)
    if subject_hash is not None:
        checks.digest(subject_hash, "subject_hash")
    pairs = [_grant_pair(item) for item in checks.sequence(grants, "grants")]
    allowed = {sender} if release_mode == "sender_only" else set(rcpts)
    for addr, _ in pairs:
        if addr not in allowed:
            raise InputError("a key can only go to an actual recipient of the message"
                             if release_mode != "sender_only"
                             else "this package's key goes to the sender only")
    package_id = new_package_id() if package_id is None else check_package_id(package_id)
    msg_id = checks.text(message_id, "message_id", max_len=998, required=False)
    values = dict(
        id=package_id, sender=sender, message_id=msg_id,
        gmail_message_id=checks.text(gmail_message_id, "gmail_message_id", max_len=64,
                                     required=False),
        subject_hash=subject_hash, zip_filename=zip_name, file_names=names,
        recipients=rcpts, wrapped_password=wrapped_password, state=state,
        release_mode=release_mode, created_at=now, release_at=release,
        expires_at=expires, reveal_limit=reveal_limit, reveal_count=0,
    )
    return NewPackage(
        values=values,
        grants=[dict(package_id=package_id, address=addr, token_hash=token_hash,
                     created_at=now) for addr, token_hash in pairs],
        audit=dict(at=now, actor=sender, action="package.created", package_id=package_id,
                   message_id=msg_id,
                   data={"recipients": rcpts, "grants": [a for a, _ in pairs],
                         "files": names, "zip_filename": zip_name,
                         "release_mode": release_mode,
                         "release_at": release.isoformat() if release else None,
                         "expires_at": expires.isoformat(),
                         "reveal_limit": reveal_limit}))
