"""The emulator's outbound pipeline: Gmail content compliance rules of the documented shape
(support.google.com/a/answer/1346934, answer/6104172), for tests and ``make run``.

A rule matches on the message's *Full headers* (an advanced content match: contains text,
not contains text, matches regex, not matches regex) and applies to "Outbound" mail, i.e.
recipients outside the sender's domain; mail to colleagues is delivered as before. Its action:

- ``reject``: nothing is delivered to those recipients; the sender finds a rejection
  notice (the rule's custom text) in their inbox. The message stays in Sent.
- ``quarantine``: held in the named quarantine; in Sent, not delivered.
- ``modify``: delivered with the rule's custom headers added, and a copy (with them)
  also delivered to each "Also deliver to" address.

As Gmail does, delivered copies lose their Bcc header. Pure: the emulator stores results.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from service.gmail.headers import addresses, header_values, raw_headers, split_head

MATCHES = ("contains", "not_contains", "regex", "not_regex")
ACTIONS = ("reject", "quarantine", "modify")
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_FIELDS = {"description", "match", "content", "action", "notice", "quarantine",
           "add_headers", "also_deliver_to"}
NOTICE_FROM = "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"


@dataclass(frozen=True)
class Rule:
    description: str
    match: str                                  # one of MATCHES, on Full headers
    content: str
    action: str                                 # one of ACTIONS
    notice: str = ""                            # reject: the custom rejection notice
    quarantine: str = ""                        # quarantine: its name
    add_headers: tuple[tuple[str, str], ...] = ()
    also_deliver_to: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        """Validate as the Admin console would refuse to save a broken rule."""
        if not isinstance(data, Mapping):
            raise ValueError("a rule is a JSON object")
        unknown = set(data) - _FIELDS
        if unknown:
            raise ValueError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        match, action = str(data.get("match", "")), str(data.get("action", ""))
        if match not in MATCHES:
            raise ValueError(f"match must be one of {', '.join(MATCHES)}")
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        content = str(data.get("content", ""))
        if not content:
            raise ValueError("content is required")
        if match in ("regex", "not_regex"):
            try:
                re.compile(content)
            except re.error as exc:
                raise ValueError(f"content is not a valid regular expression: {exc}") from None
        heads = tuple((str(k), str(v)) for k, v in (data.get("add_headers") or {}).items())
        if any(not _HEADER_NAME.fullmatch(k) or "\n" in v or "\r" in v for k, v in heads):
            raise ValueError("add_headers: header keys and values must be single lines")
        copies = tuple(str(a) for a in data.get("also_deliver_to") or ())
        if any("@" not in a for a in copies):
            raise ValueError("also_deliver_to holds e-mail addresses")
        if action == "quarantine" and not data.get("quarantine"):
            raise ValueError("a quarantine rule names its quarantine")
        if action == "modify" and not (heads or copies):
            raise ValueError("a modify rule adds a header or a recipient")
        return cls(str(data.get("description") or "rule"), match, content, action,
                   str(data.get("notice") or ""), str(data.get("quarantine") or ""),
                   heads, copies)

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "match": self.match, "content": self.content,
                "action": self.action, "notice": self.notice, "quarantine": self.quarantine,
                "add_headers": dict(self.add_headers),
                "also_deliver_to": list(self.also_deliver_to)}

    def matches(self, full_headers: str) -> bool:
        if self.match in ("contains", "not_contains"):
            found = self.content.lower() in full_headers.lower()
        else:
            found = re.search(self.content, full_headers, re.MULTILINE) is not None
        return found if self.match in ("contains", "regex") else not found


@dataclass
class Outcome:
    """What the pipeline did with one sent message."""

    delivered: dict[str, bytes] = field(default_factory=dict)     # recipient -> bytes
    rejected: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    copies: dict[str, bytes] = field(default_factory=dict)        # also-deliver-to address
    notice: bytes | None = None                                   # to the sender's inbox
    rule: str | None = None
    quarantine: str | None = None

    def disposition(self) -> str:
        if self.rejected:
            return "rejected"
        if self.quarantined:
            return "quarantined"
        return "delivered"


def full_headers(raw: bytes) -> str:
    head, _ = split_head(raw)
    return head.decode("utf-8", "replace")


def without_bcc(raw: bytes) -> bytes:
    head, body = split_head(raw)
    eol = b"\r\n" if head.endswith(b"\r\n") else b"\n"
    kept: list[bytes] = []
    skipping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.split(b":", 1)[0].strip().lower() == b"bcc"
        if not skipping:
            kept.append(line)
    return b"".join(kept) + eol + body


def with_headers(raw: bytes, extra: Sequence[tuple[str, str]]) -> bytes:
    if not extra:
        return raw
    eol = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
    return b"".join(f"{k}: {v}".encode() + eol for k, v in extra) + raw


def _outbound(sender: str, recipient: str) -> bool:
    return recipient.rpartition("@")[2] != sender.rpartition("@")[2]


def run(rules: Sequence[Rule], sender: str, raw: bytes, now: float) -> Outcome:
    """Apply the first matching rule to the outbound recipients of ``raw``."""
    heads = raw_headers(raw)
    rcpts = sorted(addresses([v for n in ("To", "Cc", "Bcc") for v in header_values(heads, n)]))
    delivered = without_bcc(raw)
    outcome = Outcome()
    text = full_headers(raw)
    rule = next((r for r in rules if r.matches(text)), None) \
        if any(_outbound(sender, r) for r in rcpts) else None
    for rcpt in rcpts:
        if rule is None or not _outbound(sender, rcpt):
            outcome.delivered[rcpt] = delivered
        elif rule.action == "reject":
            outcome.rejected.append(rcpt)
        elif rule.action == "quarantine":
            outcome.quarantined.append(rcpt)
        else:
            outcome.delivered[rcpt] = with_headers(delivered, rule.add_headers)
    if rule is None:
        return outcome
    outcome.rule = rule.description
    if rule.action == "modify":
        for addr in rule.also_deliver_to:
            outcome.copies[addr.lower()] = with_headers(delivered, rule.add_headers)
    elif rule.action == "quarantine":
        outcome.quarantine = rule.quarantine
    elif outcome.rejected:
        outcome.notice = rejection_notice(sender, outcome.rejected, rule.notice, heads, now)
    return outcome


def rejection_notice(sender: str, rejected: Sequence[str], notice: str, heads: Any,
                     now: float) -> bytes:
    """The bounce Gmail puts in the sender's inbox (modelled on its "Message blocked")."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = NOTICE_FROM
    msg["To"] = sender
    msg["Subject"] = "Message blocked"
    msg["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    subject = next((v for k, v in heads if k.lower() == "subject"), "")
    msg.set_content(
        f"Your message to {', '.join(rejected)} has been blocked. See technical details "
        f"below for more information.\n\nThe response was:\n\n"
        f"{notice or 'Message rejected based on policies applied to the sender.'}\n\n"
        f"Subject: {subject}\n")
    return msg.as_bytes()
