"""Header-only reading of raw RFC 822 messages.

Drafts can be 35 MB; everything that only needs headers (matching the compose draft,
searching, the send-once check by Message-ID) parses the header block alone.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses

Headers = tuple[tuple[str, str], ...]

_HEAD_END = re.compile(rb"\r?\n\r?\n")


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """(header block with its final newline, body); a message without a body is all head."""
    m = _HEAD_END.search(raw)
    if m is None:
        return raw, b""
    eol = b"\r\n" if raw.startswith(b"\r\n", m.start()) else b"\n"
    return raw[: m.start()] + eol, raw[m.end():]


def parse_headers(raw: bytes) -> Headers:
    """Every header as (name, decoded value), in order; encoded words decoded as Gmail does."""
    head, _ = split_head(raw)
    msg = BytesHeaderParser(policy=policy.default).parsebytes(head)
    out = []
    for name, value in msg.raw_items():
        try:
            text = str(msg.policy.header_fetch_parse(name, value))
        except Exception:  # a header the modern parser cannot model: keep it unfolded, raw
            text = re.sub(r"\r?\n[ \t]", " ", str(value)).strip()
        out.append((name, text))
    return tuple(out)


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of ``name`` (case-insensitive), or None."""
    low = name.lower()
    return next((v for k, v in headers if k.lower() == low), None)


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    low = name.lower()
    return [v for k, v in headers if k.lower() == low]


def addresses(values: Sequence[str]) -> frozenset[str]:
    """Lower-case bare addresses named in address headers; unparsable entries are skipped."""
    return frozenset(addr.strip().lower() for _, addr in getaddresses(list(values))
                     if "@" in addr)


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
