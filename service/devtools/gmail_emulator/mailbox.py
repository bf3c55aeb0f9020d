"""One user's mail as Gmail keeps it: drafts, messages, threads, labels, history ids.

Shared by the HTTP emulator and the in-memory client so both behave alike. Not
thread-safe by itself: owners hold one lock around every call.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from service.devtools.gmail_emulator import search
from service.devtools.gmail_emulator.payload import MessageView, view_of
from service.gmail.headers import (
    Headers,
    ensure_message_id,
    header_values,
    parse_headers,
    raw_headers,
)

MAX_MESSAGE_BYTES = 36_700_160  # 35 MB, the discovery document's maxSize for uploads
NOT_FOUND = "Requested entity was not found."
TOO_LARGE = f"Request payload size exceeds the limit: {MAX_MESSAGE_BYTES} bytes."

MESSAGE_ID = re.compile(r"^[0-9a-f]{16}$")
DRAFT_ID = re.compile(r"^r-?\d{1,20}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_HIDDEN_UNLESS_ASKED = {"SPAM", "TRASH"}


class MailboxError(Exception):
    """A request Gmail would refuse, with the HTTP status it would answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Ids:
    """Gmail-shaped ids from counters: 16 hex digits for messages, ``r<digits>`` for drafts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = itertools.count(1)

    def _next(self) -> int:
        with self._lock:
            return next(self._count)

    def message_id(self) -> str:
        return f"{0x18F3A0C000000000 + self._next() * 0x1F1:016x}"

    def draft_id(self) -> str:
        return f"r{5_000_000_000_000_000_000 + self._next() * 7919}"


@dataclass(eq=False)
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes = field(repr=False)
    label_ids: list[str]
    internal_date: int                      # epoch milliseconds
    history_id: int
    headers: Headers = field(repr=False)
    _view: MessageView | None = field(default=None, repr=False)

    def view(self) -> MessageView:
        if self._view is None:
            self._view = view_of(self.raw, self.id)
        return self._view

    # search.Searchable
    @property
    def labels(self) -> Collection[str]:
        return self.label_ids

    @property
    def internal_date_ms(self) -> int:
        return self.internal_date

    @property
    def snippet(self) -> str:
        return self.view().snippet

    @property
    def has_attachment(self) -> bool:
        return bool(self.view().attachments)

    def meta(self) -> dict[str, Any]:
        """The fields of ``format=minimal``."""
        return {
            "id": self.id,
            "threadId": self.thread_id,
            "labelIds": list(self.label_ids),
            "snippet": self.snippet,
            "sizeEstimate": len(self.raw),
            "historyId": str(self.history_id),
            "internalDate": str(self.internal_date),
        }


def check_size(raw: bytes) -> None:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MailboxError(400, TOO_LARGE)


def check_sendable(raw: bytes) -> None:
    """Gmail refuses a send with no recipient or with an address it cannot parse."""
    headers = raw_headers(raw)   # encoded display names stay atoms: their commas don't split
    count = 0
    for name in ("To", "Cc", "Bcc"):
        values = header_values(headers, name)
        for display, addr in getaddresses(values):
            if not addr and not display:
                continue
            if not _ADDRESS.match(addr):
                raise MailboxError(400, f"Invalid {name} header")
            count += 1
    if count == 0:
        raise MailboxError(400, "Recipient address required")


class Mailbox:
    def __init__(self, email: str, ids: Ids, clock: Callable[[], float]) -> None:
        self.email = email
        self._ids = ids
        self._clock = clock
        self.messages: dict[str, StoredMessage] = {}
        self.drafts: dict[str, str] = {}            # draft id -> message id
        self.sent: list[StoredMessage] = []
        self.history_id = 1000
        self.oldest_history_id = 1000     # history.list answers 404 before this (tests move it)

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _bump(self) -> int:
        self.history_id += 1
        return self.history_id

    def _thread(self, thread_id: str | None, new_id: str) -> str:
        if not thread_id:
            return new_id
        if not MESSAGE_ID.match(thread_id):
            raise MailboxError(400, "Invalid thread_id value")
        if not any(m.thread_id == thread_id for m in self.messages.values()):
            raise MailboxError(404, NOT_FOUND)
        return thread_id

    def _store(self, raw: bytes, labels: Sequence[str], thread_id: str | None,
               internal_date: int | None = None) -> StoredMessage:
        check_size(raw)
        raw, _ = ensure_message_id(raw, "mail.emulator.invalid")
        mid = self._ids.message_id()
        msg = StoredMessage(
            id=mid, thread_id=self._thread(thread_id, mid), raw=raw, label_ids=list(labels),
            internal_date=self.now_ms() if internal_date is None else internal_date,
            history_id=self._bump(), headers=parse_headers(raw))
        self.messages[mid] = msg
        return msg

    # reading
    def message(self, message_id: str) -> StoredMessage:
        if not MESSAGE_ID.match(message_id):
            raise MailboxError(400, "Invalid id value")
        msg = self.messages.get(message_id)
        if msg is None:
            raise MailboxError(404, NOT_FOUND)
        return msg

    def draft(self, draft_id: str) -> StoredMessage:
        if not DRAFT_ID.match(draft_id):
            raise MailboxError(400, "Invalid id value")
        mid = self.drafts.get(draft_id)
        if mid is None:
            raise MailboxError(404, NOT_FOUND)
        return self.messages[mid]

    def thread(self, thread_id: str) -> list[StoredMessage]:
        if not MESSAGE_ID.match(thread_id):
            raise MailboxError(400, "Invalid id value")
        found = [m for m in self.messages.values() if m.thread_id == thread_id]
        if not found:
            raise MailboxError(404, NOT_FOUND)
        return sorted(found, key=lambda m: (m.internal_date, m.id))

    def attachment(self, message_id: str, attachment_id: str) -> bytes:
        data = self.message(message_id).view().attachments.get(attachment_id)
        if data is None:
            raise MailboxError(400, "Invalid attachment token")
        return data

    def list_drafts(self, query: str | None) -> list[tuple[str, StoredMessage]]:
        now = self.now_ms()
        found = [(d, self.messages[m]) for d, m in self.drafts.items()]
        found = [(d, m) for d, m in found if search.matches(query, m, now)]
        return sorted(found, key=lambda dm: (dm[1].internal_date, dm[1].id), reverse=True)

    def list_messages(self, query: str | None, label_ids: Sequence[str] = (),
                      include_spam_trash: bool = False) -> list[StoredMessage]:
        now = self.now_ms()
        wanted = {label.upper() for label in label_ids}
        found = [m for m in self.messages.values()
                 if wanted <= set(m.label_ids)
                 and (include_spam_trash or not _HIDDEN_UNLESS_ASKED & set(m.label_ids))
                 and search.matches(query, m, now)]
        return sorted(found, key=lambda m: (m.internal_date, m.id), reverse=True)

    # writing
    def insert(self, raw: bytes, labels: Sequence[str] = ("INBOX",), thread_id: str | None = None,
               internal_date: int | None = None) -> StoredMessage:
        """A message that arrived by other means (a received mail a draft replies to)."""
        return self._store(raw, labels, thread_id, internal_date)

    def create_draft(self, raw: bytes, thread_id: str | None = None,
                     internal_date: int | None = None) -> tuple[str, StoredMessage]:
        msg = self._store(raw, ["DRAFT"], thread_id, internal_date)
        draft_id = self._ids.draft_id()
        self.drafts[draft_id] = msg.id
        return draft_id, msg

    def update_draft(self, draft_id: str, raw: bytes, thread_id: str | None = None,
                     internal_date: int | None = None) -> StoredMessage:
        """Gmail replaces the draft's message: a new message id, the same draft id."""
        old = self.draft(draft_id)
        msg = self._store(raw, ["DRAFT"], thread_id or old.thread_id, internal_date)
        del self.messages[old.id]
        self.drafts[draft_id] = msg.id
        return msg

    def delete_draft(self, draft_id: str) -> None:
        msg = self.draft(draft_id)
        del self.drafts[draft_id]
        del self.messages[msg.id]
        self._bump()

    def send_draft(self, draft_id: str, raw: bytes | None = None,
                   thread_id: str | None = None) -> StoredMessage:
        """Atomic: the draft is consumed by the one send that succeeds."""
        msg = self.draft(draft_id)
        if raw is not None:
            check_sendable(raw)
            msg = self.update_draft(draft_id, raw, thread_id)
        check_sendable(msg.raw)
        del self.drafts[draft_id]
        msg.label_ids = ["SENT"]
        msg.internal_date = self.now_ms()
        msg.history_id = self._bump()
        self.sent.append(msg)
        return msg

    def send_message(self, raw: bytes, thread_id: str | None = None) -> StoredMessage:
        check_size(raw)
        check_sendable(raw)
        msg = self._store(raw, ["SENT"], thread_id)
        self.sent.append(msg)
        return msg
