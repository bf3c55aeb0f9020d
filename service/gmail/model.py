"""What the Gmail adapter hands to its callers, and the narrow interface they depend on.

Message contents (raw bytes, headers) are kept out of ``repr`` so that a logged object
never carries a message body or its recipients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from service.gmail.headers import Headers, addresses, header, header_values, normalise_message_id


@dataclass(frozen=True)
class DraftRef:
    draft_id: str
    message_id: str
    thread_id: str


@dataclass(frozen=True)
class SentRef:
    message_id: str
    thread_id: str


@dataclass(frozen=True)
class DraftInfo:
    """A draft's ids, save time and headers, without its body."""

    draft_id: str
    message_id: str
    thread_id: str
    internal_date: datetime                  # when Gmail last saved it, UTC
    headers: Headers = field(repr=False)

    @property
    def ref(self) -> DraftRef:
        return DraftRef(self.draft_id, self.message_id, self.thread_id)

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    @property
    def subject(self) -> str:
        return self.header("Subject") or ""

    @property
    def rfc822_message_id(self) -> str | None:
        value = self.header("Message-ID")
        return normalise_message_id(value) if value else None

    def field_addresses(self, name: str) -> frozenset[str]:
        """Lower-case addresses of one of "to", "cc", "bcc"."""
        return addresses(header_values(self.headers, name))

    @property
    def recipients(self) -> frozenset[str]:
        return self.field_addresses("to") | self.field_addresses("cc") | self.field_addresses("bcc")


@dataclass(frozen=True)
class DraftMessage(DraftInfo):
    """A draft with its complete RFC 822 bytes, as the policy engine reads them."""

    raw: bytes = field(default=b"", repr=False)


def from_epoch_ms(value: str | int) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


class GmailClient(Protocol):
    """The Gmail operations SendGuard needs; one instance acts for one user."""

    def list_drafts(self, query: str | None = None, max_results: int = 50) -> list[DraftRef]:
        """Newest first; ``query`` is Gmail search syntax."""
        ...

    def draft_info(self, draft_id: str) -> DraftInfo:
        """Headers and save time only: cheap even for a 35 MB draft."""
        ...

    def get_draft(self, draft_id: str) -> DraftMessage:
        ...

    def update_draft(self, draft_id: str, raw: bytes, thread_id: str | None) -> DraftRef:
        ...

    def send_draft(self, draft_id: str, raw: bytes | None = None) -> SentRef:
        """Sends at most once, even when retried after an ambiguous failure; with ``raw``,
        exactly those bytes (the request carries the message)."""
        ...

    def send_message(self, raw: bytes, thread_id: str | None = None) -> SentRef:
        ...
