"""RFC 822 bytes -> ``Draft``, keeping recipient entries exactly as written.

The stdlib's address parser repairs what it can (a missing comma becomes one address plus
a defect), so To/Cc/Bcc are taken from the raw header values and split by
``addresses.split_header``; the rules then judge each entry as typed.
"""

from __future__ import annotations

import base64
import binascii
import email
import quopri
import re
from email import policy
from email.message import EmailMessage, Message

from service.errors import MessageError
from service.policy.model import Attachment, Draft

MAX_MESSAGE = 60 * 1024 * 1024      # a Gmail message is at most ~35 MB after encoding
MAX_HEADER_SECTION = 8 * 1024 * 1024
_KNOWN = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
          "reply-to", "sender", "received", "content-type", "in-reply-to", "references"}
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def draft_from_bytes(raw: bytes) -> Draft:
    """Parse a message; ``MessageError`` when ``raw`` is not an e-mail message."""
    if len(raw) > MAX_MESSAGE:
        raise MessageError(f"message too large ({len(raw) // (1024 * 1024)} MB)")
    head_end = _header_end(raw)
    if head_end > MAX_HEADER_SECTION:
        raise MessageError("header section too large")
    if b"\x00" in raw[:head_end]:
        raise MessageError("not an e-mail message (binary data in the header)")
    msg = email.message_from_bytes(raw, policy=policy.default)
    names = {k.lower() for k in msg}
    if not names & _KNOWN:
        raise MessageError("not an e-mail message (no message headers)")
    assert isinstance(msg, EmailMessage)
    raw_headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        raw_headers.setdefault(name.lower(), []).append(_unfold(str(value)))
    text, html, attachments = _split_parts(msg)
    return Draft(
        sender=_first_address(raw_headers.get("from", [""])[0]),
        to=_entries(raw_headers.get("to", [])),
        cc=_entries(raw_headers.get("cc", [])),
        bcc=_entries(raw_headers.get("bcc", [])),
        subject=_decode(_header_text(raw_headers.get("subject", [""])[0])),
        text=text,
        html=html,
        attachments=tuple(attachments),
        reply=bool(raw_headers.get("in-reply-to") or raw_headers.get("references")),
    )


def _header_text(value: str) -> str:
    from service.policy.addresses import header_text

    return header_text(value)


def _header_end(raw: bytes) -> int:
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return i
    return len(raw)


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def _entries(values: list[str]) -> tuple[str, ...]:
    """Split header values into entries by their structure (``addresses.header_entries``:
    raw 8-bit and ISO-2022-JP names read as text first, encoded words decoded after the
    split and only where they stand, so a display name is never re-read as an address)."""
    from service.policy.addresses import header_entries

    return header_entries(values)


_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t]+(?==\?)")


def _decode(value: str) -> str:
    """Decode RFC 2047 encoded words in place, adding nothing between them and the text
    around them (a client may encode part of an address); undecodable words are kept."""
    if "=?" not in value:
        return value
    return _WORD.sub(_decode_word, _BETWEEN_WORDS.sub(r"\1", value))


def _decode_word(m: re.Match[str]) -> str:
    charset, enc, text = m.group(1).split("*")[0], m.group(2).lower(), m.group(3)
    try:
        if enc == "b":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = quopri.decodestring(text.replace("_", " ").encode("ascii"), header=True)
        return data.decode(charset)
    except (LookupError, ValueError, UnicodeError, binascii.Error):
        return m.group(0)


def _first_address(value: str) -> str:
    from email.utils import getaddresses

    pairs = getaddresses([value])
    return pairs[0][1].lower() if pairs and pairs[0][1] else ""


def _split_parts(msg: EmailMessage) -> tuple[str, str, list[Attachment]]:
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = _filename(part)
        is_attachment = disposition == "attachment" or (
            filename is not None and disposition != "inline") or (
            disposition is None and ctype not in ("text/plain", "text/html")
            and part.get("Content-ID") is None and filename is not None)
        if is_attachment or (filename and disposition == "inline" and not ctype.startswith(
                "image/")):
            attachments.append(Attachment(filename or "attachment", ctype, _payload(part)))
        elif ctype == "text/plain" and disposition != "attachment":
            texts.append(_text(part))
        elif ctype == "text/html" and disposition != "attachment":
            htmls.append(_text(part))
        elif ctype == "message/rfc822":
            attachments.append(Attachment(filename or "message.eml", ctype, _payload(part)))
    return "\n".join(texts), "\n".join(htmls), attachments


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, UnicodeError):
        return "attachment"
    return _decode(name) if name else None


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, list):  # an attached message/rfc822
        return b"".join(p.as_bytes() for p in payload if isinstance(p, Message))
    return str(payload).encode("utf-8", "replace")


def _text(part: Message) -> str:
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")
