"""The subset of Gmail's search language the emulator and the in-memory client understand.

Operators: ``from: to: cc: bcc: subject: rfc822msgid: in: label: is: has:attachment
after: before: newer_than: older_than:``, quoted phrases, ``-`` for negation; any other
word matches headers and snippet as text, as Gmail treats unknown operators. Dates in
``after:``/``before:`` are epoch seconds or ``YYYY/MM/DD`` (read as UTC; Gmail reads Pacific
time, which is why callers should pass epoch seconds).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from service.gmail.headers import header_values, normalise_message_id

_TOKEN = re.compile(r'(-?)(?:([A-Za-z_][A-Za-z0-9_]*):)?("([^"]*)"|\S+)')
_AGE = re.compile(r"^(\d+)([dmy])$")
_AGE_SECONDS = {"d": 86400, "m": 30 * 86400, "y": 365 * 86400}
_FOLDERS = {"drafts": "DRAFT", "sent": "SENT", "inbox": "INBOX", "trash": "TRASH",
            "spam": "SPAM", "starred": "STARRED", "unread": "UNREAD", "draft": "DRAFT"}


class Searchable(Protocol):
    """What a query looks at; snippet and attachments may be computed lazily."""

    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...
    @property
    def labels(self) -> Collection[str]: ...
    @property
    def internal_date_ms(self) -> int: ...
    @property
    def snippet(self) -> str: ...
    @property
    def has_attachment(self) -> bool: ...


@dataclass(frozen=True)
class Term:
    op: str          # "" for free text
    value: str
    negate: bool = False


def parse_query(query: str | None) -> list[Term]:
    terms = []
    for m in _TOKEN.finditer(query or ""):
        quoted = m.group(4)
        value = quoted if quoted is not None else m.group(3)
        terms.append(Term((m.group(2) or "").lower(), value, m.group(1) == "-"))
    return terms


def _epoch_ms(value: str) -> int | None:
    if value.isdigit():
        return int(value) * 1000
    for fmt in ("%Y/%m/%d", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            continue
    return None


def _text_of(doc: Searchable) -> str:
    return " ".join(v for _, v in doc.headers).lower() + " " + doc.snippet.lower()


def _addr_match(doc: Searchable, names: Sequence[str], value: str) -> bool:
    want = value.lower()
    return any(want in v.lower() for n in names for v in header_values(doc.headers, n))


def _term(term: Term, doc: Searchable, now_ms: int) -> bool:
    op, value = term.op, term.value
    labels = {label.upper() for label in doc.labels}
    if op in ("from", "to", "cc", "bcc"):
        return _addr_match(doc, [op], value)
    if op == "subject":
        return any(value.lower() in v.lower() for v in header_values(doc.headers, "Subject"))
    if op == "rfc822msgid":
        want = normalise_message_id(value)
        ids = header_values(doc.headers, "Message-ID")
        return any(normalise_message_id(v) == want for v in ids)
    if op in ("in", "is"):
        if value.lower() == "anywhere":
            return True
        return _FOLDERS.get(value.lower(), value.upper()) in labels
    if op == "label":
        return value.upper() in labels
    if op == "has" and value.lower() == "attachment":
        return doc.has_attachment
    if op in ("after", "before") and (at := _epoch_ms(value)) is not None:
        return doc.internal_date_ms >= at if op == "after" else doc.internal_date_ms < at
    if op in ("newer_than", "older_than") and (m := _AGE.match(value.lower())):
        edge = now_ms - int(m.group(1)) * _AGE_SECONDS[m.group(2)] * 1000
        return doc.internal_date_ms >= edge if op == "newer_than" else doc.internal_date_ms < edge
    text = f"{op}:{value}" if op else value
    return text.lower() in _text_of(doc)


def matches(query: str | None, doc: Searchable, now_ms: int) -> bool:
    """True when every term holds (Gmail joins terms with AND)."""
    return all(_term(t, doc, now_ms) != t.negate for t in parse_query(query))
