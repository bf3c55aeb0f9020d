"""A GmailClient over an in-process mailbox, for fast tests of the code that calls Gmail.

It keeps Gmail's rules (the emulator's ``Mailbox``: ids, threads, the 35 MB limit, no send
without recipients) and raises the adapter's errors, so callers see what they would see from
``ApiGmailClient``. ``fail_next`` scripts errors for their error paths.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from service.devtools.gmail_emulator.mailbox import Ids, Mailbox, MailboxError, StoredMessage
from service.errors import GmailClientError, GmailError
from service.gmail.headers import ensure_message_id
from service.gmail.model import (
    DraftInfo,
    DraftMessage,
    DraftRef,
    GmailClient,
    SentRef,
    from_epoch_ms,
)

T = TypeVar("T")


class InMemoryGmailClient(GmailClient):
    def __init__(self, user: str = "user@example.com", *,
                 clock: Callable[[], float] = time.time) -> None:
        self._box = Mailbox(user.lower(), Ids(), clock)
        self._lock = threading.Lock()
        self._failures: dict[str, deque[GmailError]] = defaultdict(deque)
        self.calls: list[str] = []

    # ---- test set-up -------------------------------------------------------------------
    def add_draft(self, raw: bytes, *, thread_id: str | None = None,
                  saved_at: datetime | None = None) -> DraftRef:
        """A draft as Gmail's compose window saves it, optionally at a given time."""
        at = None if saved_at is None else int(saved_at.timestamp() * 1000)
        with self._lock:
            draft_id, msg = self._box.create_draft(raw, thread_id, at)
            return DraftRef(draft_id, msg.id, msg.thread_id)

    def add_message(self, raw: bytes, *, labels: Iterable[str] = ("INBOX",),
                    thread_id: str | None = None) -> SentRef:
        """A message already in the mailbox (say, the one a reply draft answers)."""
        with self._lock:
            msg = self._box.insert(raw, list(labels), thread_id)
            return SentRef(msg.id, msg.thread_id)

    def fail_next(self, operation: str, error: GmailError, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` (a method name, e.g. "send_draft") raise."""
        self._failures[operation].extend([error] * times)

    def sent(self) -> list[DraftMessage]:
        with self._lock:
            return [_message("", m) for m in self._box.sent]

    # ---- GmailClient -------------------------------------------------------------------
    def _run(self, operation: str, work: Callable[[], T]) -> T:
        self.calls.append(operation)
        if self._failures[operation]:
            raise self._failures[operation].popleft()
        with self._lock:
            try:
                return work()
            except MailboxError as exc:
                raise GmailClientError(exc.message, http_status=exc.status) from None

    def list_drafts(self, query: str | None = None, max_results: int = 50) -> list[DraftRef]:
        return self._run("list_drafts", lambda: [
            DraftRef(d, m.id, m.thread_id)
            for d, m in self._box.list_drafts(query)[: max(1, min(500, max_results))]])

    def draft_info(self, draft_id: str) -> DraftInfo:
        def work() -> DraftInfo:
            msg = self._box.draft(draft_id)
            return DraftInfo(draft_id, msg.id, msg.thread_id, from_epoch_ms(msg.internal_date),
                             msg.headers)
        return self._run("draft_info", work)

    def get_draft(self, draft_id: str) -> DraftMessage:
        return self._run("get_draft", lambda: _message(draft_id, self._box.draft(draft_id)))

    def update_draft(self, draft_id: str, raw: bytes, thread_id: str | None) -> DraftRef:
        def work() -> DraftRef:
            msg = self._box.update_draft(draft_id, raw, thread_id)
            return DraftRef(draft_id, msg.id, msg.thread_id)
        return self._run("update_draft", work)

    def send_draft(self, draft_id: str, raw: bytes | None = None) -> SentRef:
        def work() -> SentRef:
            msg = self._box.send_draft(draft_id, raw)
            return SentRef(msg.id, msg.thread_id)
        return self._run("send_draft", work)

    def send_message(self, raw: bytes, thread_id: str | None = None) -> SentRef:
        def work() -> SentRef:
            msg = self._box.send_message(ensure_message_id(raw)[0], thread_id)
            return SentRef(msg.id, msg.thread_id)
        return self._run("send_message", work)


def _message(draft_id: str, msg: StoredMessage) -> DraftMessage:
    return DraftMessage(draft_id, msg.id, msg.thread_id, from_epoch_ms(msg.internal_date),
                        msg.headers, msg.raw)
