"""The draft the checks read and the findings they return (SPEC section 2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARN = "warn"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARN: 1, Severity.BLOCK: 2}

FIELDS = ("to", "cc", "bcc")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str = "application/octet-stream"
    data: bytes = b""

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Draft:
    """A message as the user typed it: recipient entries are raw strings, unparsed."""

    sender: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: tuple[Attachment, ...] = ()
    message_id: str = ""
    # In-Reply-To and References ids (angle brackets kept): the thread, for replies
    references: tuple[str, ...] = ()
    # What parsing left unchecked, as "code:where" (too many parts, nesting too deep, ...)
    notes: tuple[str, ...] = ()

    def entries(self, name: str) -> tuple[str, ...]:
        return {"to": self.to, "cc": self.cc, "bcc": self.bcc}[name]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    addresses: tuple[str, ...] = ()
    where: str | None = None
    # Values the message was built from, so a card can re-render it in another locale.
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "addresses": list(self.addresses),
            "where": self.where,
        }
