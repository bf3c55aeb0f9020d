"""Seeding a sender's history from their Sent folder through the Gmail API (SPEC 10.2),
in bounded, resumable steps that never hold up a compose card.

Each ``import_step`` reads at most ``max_messages`` messages and stops at ``deadline_s``,
then saves the cursor (``storage.history_imports``). The first steps walk the Sent label
(noting the mailbox ``historyId`` first, so nothing sent meanwhile is missed); later steps
read only what ``history.list`` reports after it. A message is counted once by its
Message-ID, so a step repeated after a crash, or the same mail also imported from an mbox
or recorded when SendGuard sent it, changes nothing.

Who runs the steps: ``service.addon.sent_import``, after the user's own add-on requests,
with that request's access token (short-lived, never stored).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from service.errors import GmailClientError, GmailError
from service.gmail.sent_reader import HistoryTooOld, ScopeNotGranted, SentReader, as_raw
from service.storage.history import HistoryCrypto, SentMessage
from service.storage.history_imports import ImportCursor

log = logging.getLogger(__name__)

PAGE = 100                 # ids listed per messages.list call
MAX_MESSAGES = 100         # messages read per step
DEADLINE_S = 5.0           # a step stops reading after this long
FOLLOW_EVERY_S = 600       # after the scan: look for new Sent mail at most this often


class ImportStore(Protocol):
    """What a step needs of the store (``storage.Store`` is one)."""

    def import_cursor(self, sender_hash: bytes) -> ImportCursor | None: ...

    def save_import_cursor(self, sender_hash: bytes, cursor: ImportCursor,
                           now: datetime) -> None: ...

    def record_history_many(self, crypto: HistoryCrypto, sender: str,
                            messages: Iterable[SentMessage], now: datetime) -> int: ...


@dataclass
class StepResult:
    cursor: ImportCursor
    read: int = 0
    error: str | None = None      # "scope", "gmail", "mailbox" (not the user's), or None


def _sent(reader: SentReader, message_id: str) -> SentMessage | None:
    from service.storage.sent import sent_message

    got = reader.message(message_id)
    if got is None:
        return None
    # Any From: what the Sent label holds, Gmail put there when this mailbox sent it,
    # also from a send-as alias (a shared "sales@" address the user writes from). Those
    # recipients are the user's correspondents too; requiring From == the user's address
    # left them out. (The mbox import, whose file may hold anything, still requires it.)
    return sent_message(as_raw(got.headers), None)


def import_step(store: ImportStore, crypto: HistoryCrypto, reader: SentReader, user: str,
                now: datetime, *, max_messages: int = MAX_MESSAGES,
                deadline_s: float = DEADLINE_S,
                clock: Callable[[], float] = time.monotonic) -> StepResult:
    """One bounded step of ``user``'s import; the cursor is saved whatever happens."""
    user = user.strip().lower()
    s = crypto.h("sender", user)
    cursor = store.import_cursor(s) or ImportCursor(started_at=now)
    result = StepResult(cursor)
    end = clock() + deadline_s
    batch: list[SentMessage] = []

    def flush() -> None:
        if batch:
            new = store.record_history_many(crypto, user, batch, now)
            cursor.imported += new
            cursor.skipped += len(batch) - new
            batch.clear()

    try:
        mailbox, newest = reader.profile()
        if mailbox != user:          # the token must open this user's own mailbox
            result.error = "mailbox"
            log.warning("sent import refused: the token opens another mailbox")
            return result
        if cursor.history_id is None:
            cursor.history_id = newest        # noted before listing: nothing is missed
        while result.read < max_messages and clock() < end:
            if not cursor.pending:
                if not _refill(reader, cursor):
                    break
                continue
            try:
                msg = _sent(reader, cursor.pending[0])
            except ScopeNotGranted:
                raise
            except GmailClientError:        # this message only (a 4xx): skipped, not retried
                msg = None                  # a transient failure stops the step: retried
            cursor.pending.pop(0)
            result.read += 1
            cursor.seen += 1
            if msg is None:
                cursor.skipped += 1
            else:
                batch.append(msg)
        cursor.last_error = None
        if cursor.phase == "follow" and not cursor.pending and cursor.finished_at is None:
            cursor.finished_at = now           # the first full scan is complete
    except ScopeNotGranted:
        result.error = cursor.last_error = "scope"
    except GmailError as exc:
        result.error = cursor.last_error = "gmail"
        log.warning("sent import step stopped: %s", getattr(exc, "detail", None) or "gmail")
    finally:
        flush()
        store.save_import_cursor(s, cursor, now)
    return result


def _refill(reader: SentReader, cursor: ImportCursor) -> bool:
    """Next ids into ``pending``; False when there is nothing more for now."""
    if cursor.phase == "scan":
        page = reader.sent_page(cursor.page_token, PAGE)
        cursor.pending = list(page.ids)
        cursor.page_token = page.next_token
        if page.next_token is None:
            cursor.phase = "follow"
        return bool(page.ids)
    try:
        page, newest = reader.sent_since(cursor.history_id or "0", cursor.page_token)
    except HistoryTooOld:
        cursor.phase, cursor.page_token, cursor.history_id = "scan", None, None
        cursor.seen = 0
        return False
    cursor.pending = list(page.ids)
    cursor.page_token = page.next_token
    if page.next_token is None:
        cursor.history_id = newest
    return bool(page.ids)


def needs_step(cursor: ImportCursor | None, now: datetime) -> bool:
    """Whether a step has work: none yet, a scan going on, or time to follow again."""
    if cursor is None or cursor.phase == "scan" or cursor.pending or cursor.page_token:
        return True
    if cursor.updated_at is None:
        return True
    return (now - cursor.updated_at).total_seconds() >= FOLLOW_EVERY_S

