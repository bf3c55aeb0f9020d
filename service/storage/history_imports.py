"""The Sent-folder import's cursor (SPEC 10.2): where a sender's import through the Gmail
API stands, so that bounded steps run on separate requests (any instance) and a crash
loses nothing but one step's work (which is idempotent: messages are counted once by
their Message-ID).

Phases: ``scan`` walks ``messages.list(labelIds=SENT)`` page by page (``page_token``; the
ids of the page being read in ``pending``), having noted the mailbox's ``historyId`` first;
``follow`` then reads only what ``history.list`` reports after ``history_id``. Only Gmail's
opaque ids are kept here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from service.storage import checks
from service.storage.database import Database
from service.storage.schema import history_imports, history_threads

MAX_PENDING = 500          # one messages.list page at most


@dataclass
class ImportCursor:
    phase: str = "scan"
    page_token: str | None = None
    pending: list[str] = field(default_factory=list)
    history_id: str | None = None
    seen: int = 0
    imported: int = 0
    skipped: int = 0
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None     # the first full scan's end
    last_error: str | None = None
    new: bool = True                        # no row yet

    @property
    def scanning(self) -> bool:
        return self.finished_at is None


class HistoryImportStore(Database):
    def import_cursor(self, sender_hash: bytes) -> ImportCursor | None:
        t = history_imports.c
        with self._read() as conn:
            row = conn.execute(sa.select(history_imports)
                               .where(t.sender_hash == sender_hash)).mappings().first()
        if row is None:
            return None
        return ImportCursor(phase=row["phase"], page_token=row["page_token"],
                            pending=list(json.loads(row["pending"] or "[]")),
                            history_id=row["history_id"], seen=row["seen"],
                            imported=row["imported"], skipped=row["skipped"],
                            started_at=row["started_at"], updated_at=row["updated_at"],
                            finished_at=row["finished_at"], last_error=row["last_error"],
                            new=False)

    def save_import_cursor(self, sender_hash: bytes, cursor: ImportCursor,
                           now: datetime) -> None:
        now = checks.aware(now, "now")
        values = {"phase": cursor.phase, "page_token": cursor.page_token,
                  "pending": json.dumps(cursor.pending[:MAX_PENDING]),
                  "history_id": cursor.history_id, "seen": cursor.seen,
                  "imported": cursor.imported, "skipped": cursor.skipped,
                  "updated_at": now, "finished_at": cursor.finished_at,
                  "last_error": (cursor.last_error or None) and cursor.last_error[:64]}
        t = history_imports.c
        with self._write() as conn:
            done = conn.execute(sa.update(history_imports)
                                .where(t.sender_hash == sender_hash).values(**values)).rowcount
            if not done:
                conn.execute(sa.insert(history_imports).values(
                    sender_hash=sender_hash, started_at=cursor.started_at or now, **values))
        cursor.new = False
        cursor.updated_at = now

    def forget_import_cursor(self, sender_hash: bytes) -> int:
        t = history_imports.c
        with self._write() as conn:
            return int(conn.execute(sa.delete(history_imports)
                                    .where(t.sender_hash == sender_hash)).rowcount)

    def record_thread_orgs(self, crypto: Any, sender: str, ref: str, orgs: Iterable[str],
                           now: datetime) -> int:
        """Note that messages of thread ``ref`` (``history_threads.thread_ref``) went to
        ``orgs`` (registrable domains); rows only ever added. How many were new."""
        now = checks.aware(now, "now")
        s = crypto.h("sender", sender.strip().lower())
        m = crypto.h("message", ref)
        insert = (postgresql.insert if self.backend == "postgresql" else sqlite.insert)
        n = 0
        with self._write() as conn:
            for org in sorted(set(orgs)):
                # RETURNING, not rowcount: some drivers report -1 for INSERT ... DO NOTHING
                n += conn.execute(insert(history_threads).values(
                    sender_hash=s, message_hash=m, domain_hash=crypto.h("org", org),
                    last_used=now).on_conflict_do_nothing()
                    .returning(history_threads.c.last_used)).first() is not None
        return n
