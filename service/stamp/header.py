"""The ``X-SendGuard-Checked`` header: format, parsing, MAC and minting (pure).

``X-SendGuard-Checked: v1; k=<key id>; t=<unix seconds>; n=<nonce>; h=<mac>``

``h`` is base64url (no padding) HMAC-SHA256 over, in this order and each length-prefixed
so no field can bleed into the next: the version, key id, time, nonce, the sender (the
From address, lower-case), the sorted, de-duplicated envelope recipients (To, Cc, Bcc,
lower-case) and the body as sent. The body is canonicalised like DKIM's "simple"
canonicalisation (line ends as CRLF, trailing empty lines dropped) so an mbox export's
LF line ends still verify. Never over Message-ID or any other header Gmail rewrites.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from service.gmail.headers import (
    addresses,
    header_values,
    raw_headers,
    split_head,
)
from service.stamp.keys import KEY_ID, StampKeys

NAME = "X-SendGuard-Checked"
VERSION = "v1"
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
MAC = re.compile(r"[A-Za-z0-9_-]{43}")
_TIME = re.compile(r"[0-9]{1,12}")
_FIELDS = ("k", "t", "n", "h")


class StampFormatError(ValueError):
    """The header is not a v1 stamp; the message says what is wrong with it."""


@dataclass(frozen=True)
class Stamp:
    key_id: str
    time: int
    nonce: str
    mac: str
    version: str = VERSION

    def value(self) -> str:
        return f"{self.version}; k={self.key_id}; t={self.time}; n={self.nonce}; h={self.mac}"


@dataclass(frozen=True)
class Envelope:
    """What the MAC binds besides the body: who sent it to whom."""

    sender: str
    recipients: tuple[str, ...]          # sorted, unique, lower-case

    def recipients_hash(self) -> str:
        """For the audit: names the recipient set without listing it."""
        return hashlib.sha256("\n".join(self.recipients).encode()).hexdigest()


def parse(value: str) -> Stamp:
    """A header value as a ``Stamp``; ``StampFormatError`` says what is wrong."""
    parts = [p.strip() for p in value.strip().split(";")]
    if not parts or not parts[0]:
        raise StampFormatError("empty stamp")
    if parts[0] != VERSION:
        raise StampFormatError(f"unknown stamp version {parts[0][:16]!r} (expected {VERSION})")
    seen: dict[str, str] = {}
    for part in parts[1:]:
        if not part:
            continue
        name, sep, val = part.partition("=")
        name, val = name.strip(), val.strip()
        if not sep or name not in _FIELDS:
            raise StampFormatError(f"unexpected field {part[:24]!r}")
        if name in seen:
            raise StampFormatError(f"field {name}= given twice")
        seen[name] = val
    missing = [f for f in _FIELDS if f not in seen]
    if missing:
        raise StampFormatError("missing " + ", ".join(f"{f}=" for f in missing))
    if not KEY_ID.fullmatch(seen["k"]):
        raise StampFormatError("k= is not a key id")
    if not _TIME.fullmatch(seen["t"]):
        raise StampFormatError("t= is not unix seconds")
    if not NONCE.fullmatch(seen["n"]):
        raise StampFormatError("n= is not a nonce (16-64 base64url characters)")
    if not MAC.fullmatch(seen["h"]):
        raise StampFormatError("h= is not a base64url HMAC-SHA256 (43 characters)")
    return Stamp(seen["k"], int(seen["t"]), seen["n"], seen["h"])


def stamp_values(raw: bytes) -> list[str]:
    """Every ``X-SendGuard-Checked`` value in the message's header block."""
    return header_values(raw_headers(raw), NAME)


def envelope(raw: bytes, fallback_sender: str = "") -> Envelope:
    """Sender (From, else ``fallback_sender``: Gmail writes the user's address into a
    message sent without From) and the envelope recipients, read from the headers."""
    heads = raw_headers(raw)
    senders = sorted(addresses(header_values(heads, "From")))
    sender = senders[0] if senders else fallback_sender.lower()
    rcpts = addresses([v for name in ("To", "Cc", "Bcc") for v in header_values(heads, name)])
    return Envelope(sender, tuple(sorted(rcpts)))


def canonical_body(raw: bytes) -> memoryview:
    """The body as MACed: CRLF line ends, trailing empty lines dropped, one final CRLF
    (a view where possible: 25 MB drafts are not copied more than needed)."""
    _, body = split_head(raw)
    return _canonical(body)


def _canonical(body: bytes) -> memoryview:
    if body.count(b"\n") != body.count(b"\r\n"):      # some bare LF: normalise (mbox exports)
        body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    end = len(body)
    while end and body[end - 1] in (0x0A, 0x0D):
        end -= 1
    view = memoryview(body)[:end]
    return view


def compute_mac(secret: bytes, key_id: str, time: int, nonce: str, env: Envelope,
                body: bytes | memoryview, version: str = VERSION) -> str:
    """``body`` canonical without its final CRLF (``canonical_body``), which is added here."""
    mac = hmac.new(secret, b"SendGuard-Checked", hashlib.sha256)
    for item in (version, key_id, str(time), nonce, env.sender, ",".join(env.recipients)):
        data = item.encode("utf-8")
        mac.update(b"%d:" % len(data) + data)
    size = len(body) + 2 if len(body) else 0
    mac.update(b"%d:" % size)
    if size:
        mac.update(body)
        mac.update(b"\r\n")
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


def mac_matches(stamp: Stamp, secret: bytes, env: Envelope, body: bytes | memoryview) -> bool:
    """Constant-time comparison of the stamp's MAC with the one these parts give."""
    expected = compute_mac(secret, stamp.key_id, stamp.time, stamp.nonce, env, body,
                           stamp.version)
    return hmac.compare_digest(expected.encode("ascii"), stamp.mac.encode("ascii"))


def _without(head: bytes, names: Iterable[str]) -> bytes:
    """The header block with every field called one of ``names`` removed (folded lines too)."""
    drop = {n.lower().encode() for n in names}
    out: list[bytes] = []
    skipping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skipping = b":" in line and name in drop
        if not skipping:
            out.append(line)
    return b"".join(out)


@dataclass(frozen=True)
class Minted:
    raw: bytes
    stamp: Stamp
    envelope: Envelope


def mint(raw: bytes, keys: StampKeys, now: int, nonce: str, *,
         fallback_sender: str = "") -> Minted:
    """``raw`` with exactly one fresh stamp at the top of its headers (any stamp it
    already carried, copied from an older message, is removed), signed with the first key."""
    if not NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 16-64 base64url characters")
    head, body = split_head(raw)
    eol = b"\r\n" if head.endswith(b"\r\n") or (not head.endswith(b"\n")) else b"\n"
    if not head.endswith(b"\n"):               # a message with no body at all
        head += eol
    cleaned = _without(head, [NAME])
    env = envelope(cleaned, fallback_sender)
    kid = keys.signing_id
    secret = keys.secret(kid)
    assert secret is not None
    sig = compute_mac(secret, kid, now, nonce, env, _canonical(body))
    stamp = Stamp(kid, now, nonce, sig)
    final = f"{NAME}: {stamp.value()}".encode("ascii") + eol + cleaned + eol + body
    return Minted(final, stamp, env)
