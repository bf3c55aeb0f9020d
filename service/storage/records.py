"""The rows the store hands out, as frozen dataclasses (no ORM objects leak out).

Secrets-bearing fields (the wrapped password, token and code hashes) are kept out of
``repr`` so a record that ends up in a log line carries none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

PackageState = Literal["held", "awaiting_release", "released", "revoked", "expired"]
ReleaseMode = Literal["delay", "manual", "sender_only"]

STATES: Final = ("held", "awaiting_release", "released", "revoked", "expired")
RELEASE_MODES: Final = ("delay", "manual", "sender_only")
# States from which a package can still be released, revealed, revoked or expired.
ACTIVE_STATES: Final = ("held", "awaiting_release", "released")

# Actions the store itself appends, in the same transaction as the change they record.
STORE_ACTIONS: Final = ("package.created", "package.released", "package.revoked",
                        "package.expired", "package.purged", "key.revealed")
# Actions callers append with ``Store.append_audit``.
CALLER_ACTIONS: Final = ("compose.checked", "send.confirmed", "finding.overridden",
                         "notice.sent", "code.sent", "code.failed", "keys.rewrapped")

SYSTEM_ACTOR: Final = "system"


def recipient_actor(address: str) -> str:
    """The audit actor for a key-page visitor proven (by code) to hold ``address``."""
    return f"recipient:{address.lower()}"


@dataclass(frozen=True, slots=True)
class Package:
    """A key record: one encrypted ZIP sent in one message.

    After retention (``Store.purge_key_material``) the row stays as evidence but its
    ``wrapped_password`` is empty and ``purged_at`` says when it was erased."""

    id: str
    sender: str
    message_id: str | None
    gmail_message_id: str | None
    subject_hash: bytes | None = field(repr=False)
    zip_filename: str
    file_names: tuple[str, ...]
    recipients: tuple[str, ...]
    wrapped_password: bytes = field(repr=False)
    state: PackageState
    release_mode: ReleaseMode
    created_at: datetime
    release_at: datetime | None
    expires_at: datetime
    reveal_limit: int
    reveal_count: int
    first_retrieved_at: datetime | None
    released_at: datetime | None
    revoked_at: datetime | None
    # Set once the key material is erased (``wrapped_password`` is then empty).
    purged_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Grant:
    """One verified address of a package; holds only hashes of its link token and code."""

    id: int
    package_id: str
    address: str
    token_hash: bytes = field(repr=False)
    created_at: datetime
    notice_sent_at: datetime | None
    code_hash: bytes | None = field(repr=False)
    code_expires_at: datetime | None
    code_attempts: int
    code_sent_count: int
    code_last_sent_at: datetime | None
    revealed_count: int
    last_revealed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Reveal:
    """The outcome of a successful reveal; ``first`` means: mail the sender now."""

    package: Package
    grant: Grant
    first: bool


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One row of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    package_id: str | None
    message_id: str | None
    data: dict[str, Any]
