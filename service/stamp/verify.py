"""Classify messages found after the fact: ``valid``, ``altered``, ``replayed``, ``forged``,
``absent`` (SPEC 10.5), with a reason a person can act on.

- ``absent``: no stamp: the message did not go through SendGuard.
- ``forged``: a stamp SendGuard never made: malformed, an unknown key id, a time in the
  future, or a nonce this deployment's audit never minted (or minted with another time,
  key or sender).
- ``altered``: a stamp SendGuard made, on a message changed afterwards (body, sender,
  recipients added or removed), or more than one stamp header (SendGuard writes one).
- ``replayed``: a valid stamp whose nonce was already seen on another message (another
  Message-ID) earlier in the input: the same checked mail sent again without a check.
  Two copies of one send (the sender's Sent copy and a recipient's, same Message-ID)
  are one message, not a replay.

Gmail removes the Bcc header from the copies it delivers; when a copy has no Bcc header
the Bcc addresses the audit recorded for that nonce are added back before the MAC is
checked, and only then (so a copy with a Bcc header of its own is checked as it is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from service.gmail.headers import header, header_values, normalise_message_id, raw_headers
from service.stamp.header import (
    Envelope,
    Stamp,
    StampFormatError,
    canonical_body,
    envelope,
    mac_matches,
    parse,
    stamp_values,
)
from service.stamp.keys import StampKeys

VALID, ALTERED, REPLAYED, FORGED, ABSENT = "valid", "altered", "replayed", "forged", "absent"
STATUSES = (VALID, ALTERED, REPLAYED, FORGED, ABSENT)
MAX_SKEW = 300          # seconds a stamp may lie in the future (clock differences)


@dataclass(frozen=True)
class MintRecord:
    """What the audit kept of a minted stamp (``stamp.minted``)."""

    nonce: str
    time: int
    key_id: str
    sender: str
    recipients_hash: str
    bcc: tuple[str, ...] = ()

    @classmethod
    def from_audit(cls, data: dict[str, Any]) -> MintRecord | None:
        try:
            return cls(str(data["nonce"]), int(data["t"]), str(data["k"]), str(data["sender"]),
                       str(data["recipients_sha256"]),
                       tuple(str(a) for a in data.get("bcc") or ()))
        except (KeyError, TypeError, ValueError):
            return None


def audit_data(stamp: Any, env: Envelope, bcc: Iterable[str]) -> dict[str, Any]:
    """The ``stamp.minted`` audit record: nonce, time, key, sender, recipient hash (and
    the Bcc addresses, which delivered copies no longer show)."""
    return {"nonce": stamp.nonce, "t": stamp.time, "k": stamp.key_id, "sender": env.sender,
            "recipients_sha256": env.recipients_hash(), "recipients": len(env.recipients),
            "bcc": sorted(bcc)}


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str
    sender: str
    message_id: str | None
    subject: str
    date: str | None
    key_id: str | None = None
    nonce: str | None = None
    stamp_time: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "sender": self.sender,
                "message_id": self.message_id, "subject": self.subject, "date": self.date,
                "key_id": self.key_id, "nonce": self.nonce, "t": self.stamp_time}


@dataclass
class Verifier:
    """Checks messages in order; remembers nonces so a second send of one stamp shows."""

    keys: StampKeys
    minted: Callable[[str], MintRecord | None]
    now: int
    _seen: dict[str, set[str]] = field(default_factory=dict)

    def check(self, raw: bytes) -> Verdict:
        heads = raw_headers(raw)
        env = envelope(raw)
        mid_value = header(heads, "Message-ID")
        mid = normalise_message_id(mid_value) if mid_value else None
        stamp: Stamp | None = None

        def verdict(status: str, reason: str) -> Verdict:
            return Verdict(status, reason, env.sender, mid,
                           (header(heads, "Subject") or "")[:200], header(heads, "Date"),
                           stamp.key_id if stamp else None, stamp.nonce if stamp else None,
                           stamp.time if stamp else None)

        values = stamp_values(raw)
        if not values:
            return verdict(ABSENT, "no X-SendGuard-Checked header")
        if len(values) > 1:
            return verdict(ALTERED, f"{len(values)} X-SendGuard-Checked headers; SendGuard "
                           "writes exactly one")
        try:
            stamp = parse(values[0])
        except StampFormatError as exc:
            return verdict(FORGED, f"malformed stamp: {exc}")
        secret = self.keys.secret(stamp.key_id)
        if secret is None:
            return verdict(FORGED, f"unknown key id {stamp.key_id!r}")
        if stamp.time > self.now + MAX_SKEW:
            return verdict(FORGED, "stamp time is in the future")
        record = self.minted(stamp.nonce)
        body = canonical_body(raw)
        ok = mac_matches(stamp, secret, env, body)
        if not ok and record is not None and record.bcc and not header_values(heads, "Bcc"):
            env = Envelope(env.sender, tuple(sorted(set(env.recipients) | set(record.bcc))))
            ok = mac_matches(stamp, secret, env, body)
        if not ok:
            return verdict(ALTERED, _what_changed(record, env))
        if record is None:
            return verdict(FORGED, "nonce never minted by this deployment (not in its audit)")
        if (record.time, record.key_id, record.sender) != (stamp.time, stamp.key_id,
                                                           env.sender):
            return verdict(FORGED, "stamp does not match the one minted with this nonce")
        seen = self._seen.setdefault(stamp.nonce, set())
        earlier = seen - {mid or ""}
        seen.add(mid or "")
        if earlier:
            return verdict(REPLAYED, "nonce already seen on another message")
        return verdict(VALID, "stamp matches the message as checked")

    def check_all(self, messages: Iterable[bytes]) -> Iterator[Verdict]:
        for raw in messages:
            yield self.check(raw)


def _what_changed(record: MintRecord | None, env: Envelope) -> str:
    if record is None:
        return "MAC does not match the message"
    if record.sender != env.sender:
        return "MAC does not match: the sender changed"
    if record.recipients_hash != env.recipients_hash():
        return "MAC does not match: recipients were added or removed"
    return "MAC does not match: the body changed"
