"""Header-only reading of raw RFC 822 messages.

Drafts can be 35 MB; everything that only needs headers (matching the compose draft,
searching, the send-once check by Message-ID) parses the header block alone.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32

Headers = tuple[tuple[str, str], ...]

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_ADDR = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+")
_ANGLE = re.compile(r"<\s*(" + _ADDR.pattern + r")\s*>")
_NOT_BARE = re.compile(r'"(?:[^"\\]|\\.)*"|<[^<>]*>|\([^()]*\)')


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """(header block with its final newline, body); a message without a body is all head."""
    m = _HEAD_END.search(raw)
    if m is None:
        return raw, b""
    eol = b"\r\n" if raw.startswith(b"\r\n", m.start()) else b"\n"
    return raw[: m.start()] + eol, raw[m.end():]


def head_of(raw: bytes) -> bytes:
    """``split_head(raw)[0]`` without copying the body (a draft can be 35 MB)."""
    m = _HEAD_END.search(raw)
    if m is None:
        return raw
    return raw[: m.start()] + (b"\r\n" if raw.startswith(b"\r\n", m.start()) else b"\n")


def _items(raw: bytes) -> list[tuple[str, str]]:
    """(name, unfolded value) as written; 8-bit bytes read as UTF-8, encoded words intact."""
    head = head_of(raw)
    msg = BytesHeaderParser(policy=compat32).parsebytes(head)
    out = []
    for name, value in msg.raw_items():
        text = str(value)
        if any("\udc80" <= ch <= "\udcff" for ch in text):
            text = text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        out.append((name, _FOLD.sub("", text).strip()))
    return out


def _decoded(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):  # a bad charset or encoding: keep as written
        return value


def parse_headers(raw: bytes) -> Headers:
    """Every header as (name, value) in order, encoded words decoded, as Gmail shows them.

    Values are decoded text, not parsed: the stdlib's structured address parser silently
    drops entries (``a@x b@x`` becomes ``a@x``), which must never hide a recipient.
    """
    return tuple((name, _decoded(value)) for name, value in _items(raw))


def raw_headers(raw: bytes) -> Headers:
    """As ``parse_headers`` but with encoded words left encoded, for strict address parsing
    (a decoded display name may contain a comma)."""
    return tuple(_items(raw))


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of ``name`` (case-insensitive), or None."""
    low = name.lower()
    return next((v for k, v in headers if k.lower() == low), None)


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    low = name.lower()
    return [v for k, v in headers if k.lower() == low]


def addresses(values: Sequence[str]) -> frozenset[str]:
    """Lower-case addr-specs found in address header values, leniently.

    Used to match drafts, so it reads decoded values (display names may hold commas) and
    finds every ``local@domain``: ``<a@x>`` forms and bare tokens outside quotes, comments
    and angle brackets; a missing comma between two addresses still yields both.
    """
    found: set[str] = set()
    for value in values:
        found.update(m.group(1) for m in _ANGLE.finditer(value))
        rest = _NOT_BARE.sub(" ", value)
        found.update(tok for tok in re.split(r"[,;\s]+", rest) if _ADDR.fullmatch(tok))
    return frozenset(a.lower() for a in found)


def normalise_message_id(value: str) -> str:
    """``<a@b>`` and ``a@b`` compare equal."""
    return value.strip().strip("<>").strip()


def ensure_message_id(raw: bytes, domain: str = "sendguard.invalid") -> tuple[bytes, str]:
    """The message with a Message-ID header (added at the top when missing) and that id.

    The id is what lets a sender prove, after an ambiguous failure, whether a send happened.
    """
    existing = header(parse_headers(raw), "Message-ID")
    if existing and normalise_message_id(existing):
        return raw, normalise_message_id(existing)
    mid = f"{secrets.token_hex(16)}@{domain}"
    newline = b"\r\n" if b"\r\n" in raw[:2048] or not raw else b"\n"
    return f"Message-ID: <{mid}>".encode("ascii") + newline + raw, mid
