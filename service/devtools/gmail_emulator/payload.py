"""Gmail's ``format=full`` view of a raw message, for the emulator.

Gmail answers ``messages.get`` with a tree of parts: ``partId`` "" for the root, "0", "1",
"1.0" below; decoded headers; inline bodies as base64url ``data``; parts with a file name as
an ``attachmentId`` to fetch with ``messages.attachments.get``. This mirrors that shape with
the stdlib parser so the real client library sees what it would see from Google.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

from service.gmail.base64url import b64url
from service.gmail.headers import parse_headers

SNIPPET_CHARS = 200


@dataclass
class MessageView:
    payload: dict[str, Any]
    attachments: dict[str, bytes] = field(default_factory=dict)
    snippet: str = ""


def _attachment_id(message_id: str, part_id: str) -> str:
    digest = hashlib.sha256(f"{message_id}/{part_id}".encode()).digest()
    return "ANGjdJ" + b64url(digest).rstrip("=")


def _head_bytes(part: Message) -> bytes:
    lines = []
    for name, value in part.raw_items():
        lines.append(f"{name}: {value}".encode("utf-8", "surrogateescape"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _leaf_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822" and part.is_multipart():
        inner = part.get_payload(0)
        return bytes(inner.as_bytes(policy=policy.SMTP)) if isinstance(inner, Message) else b""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _part(part: Message, part_id: str, message_id: str, view: MessageView) -> dict[str, Any]:
    filename = part.get_filename() or ""
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": filename,
        "headers": [{"name": k, "value": v} for k, v in parse_headers(_head_bytes(part))],
    }
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        out["body"] = {"size": 0}
        children = part.get_payload()
        prefix = f"{part_id}." if part_id else ""
        out["parts"] = [_part(child, f"{prefix}{i}", message_id, view)
                        for i, child in enumerate(children) if isinstance(child, Message)]
        return out
    data = _leaf_bytes(part)
    if filename or part.get_content_disposition() == "attachment":
        att = _attachment_id(message_id, part_id)
        view.attachments[att] = data
        out["body"] = {"attachmentId": att, "size": len(data)}
    else:
        out["body"] = {"size": len(data), **({"data": b64url(data)} if data else {})}
        if not view.snippet and out["mimeType"] == "text/plain":
            view.snippet = _snippet(part, data)
    return out


def _snippet(part: Message, data: bytes) -> str:
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    return html.escape(re.sub(r"\s+", " ", text).strip()[:SNIPPET_CHARS])


def view_of(raw: bytes, message_id: str) -> MessageView:
    """Parse once; the emulator caches the result per stored message."""
    msg = message_from_bytes(raw, policy=policy.default)
    view = MessageView(payload={})
    view.payload = _part(msg, "", message_id, view)
    return view
