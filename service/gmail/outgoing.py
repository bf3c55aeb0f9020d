"""The one place where the bytes of a send are fixed: what was analysed is what goes out.

``drafts.send`` may carry the message itself (its request body is a ``Draft``, with
``message.raw`` or a media upload): Gmail replaces the draft with those bytes and sends
them in one call. SendGuard always sends that way, with the bytes it read, analysed and
had confirmed, so an autosave landing between the check and the send cannot slip an
unseen recipient or attachment into the message. ``final_message`` is the single function
that produces those bytes: with a ``Stamper`` it writes the signed ``X-SendGuard-Checked``
header into them (SPEC 10.5), so the stamp covers exactly what is sent. Every sending path
(Check & send, Encrypt & send, link mode when it lands) goes through ``outgoing``.
``Outgoing`` is what the audit log records about those bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from service.gmail.headers import (
    addresses,
    header,
    header_values,
    normalise_message_id,
    parse_headers,
)


class Stamped(Protocol):
    """What a stamper returns (``service.stamp.header.Minted``): the stamped bytes."""

    @property
    def raw(self) -> bytes: ...


Stamper = Callable[[bytes], Stamped]


def final_message(raw: bytes, stamper: Stamper | None = None) -> tuple[bytes, Stamped | None]:
    """The exact bytes ``drafts.send`` will carry for a message built from ``raw`` (the
    draft as analysed, or its encrypted form): ``raw`` with one fresh stamp when a
    ``stamper`` is given (and what was minted), else ``raw`` unchanged."""
    if stamper is None:
        return raw, None
    minted = stamper(raw)
    return minted.raw, minted


@dataclass(frozen=True)
class Outgoing:
    """A message ready to send, and what the audit log keeps of it (never the body)."""

    raw: bytes = field(repr=False)
    sha256: str
    size: int
    recipients: tuple[str, ...]          # envelope: To, Cc and Bcc addresses, lower-case
    message_id: str | None               # its Message-ID, without angle brackets
    minted: Stamped | None = field(default=None, repr=False)  # the stamp written into ``raw``

    def audit(self) -> dict[str, object]:
        return {"sha256": self.sha256, "size": self.size,
                "recipients": list(self.recipients), "rfc822_id": self.message_id}


def outgoing(raw: bytes, stamper: Stamper | None = None) -> Outgoing:
    """Fix the bytes of a send (``final_message``) and describe them."""
    final, minted = final_message(raw, stamper)
    heads = parse_headers(final)
    rcpts = sorted(addresses([v for name in ("To", "Cc", "Bcc")
                              for v in header_values(heads, name)]))
    mid = header(heads, "Message-ID")
    return Outgoing(final, hashlib.sha256(final).hexdigest(), len(final), tuple(rcpts),
                    normalise_message_id(mid) if mid else None, minted)


def digest(raw: bytes) -> str:
    """A short digest of draft bytes, for binding a confirmation to exactly them."""
    return hashlib.sha256(raw).hexdigest()[:24]
