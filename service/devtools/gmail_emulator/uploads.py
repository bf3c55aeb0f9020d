"""Google's media-upload protocols as the emulator receives them.

``uploadType=media`` (the body is the message), ``multipart`` (``multipart/related``: JSON
metadata, then the message), ``resumable`` (a session started with the metadata, then
``PUT`` chunks with ``Content-Range``; a finished session answers again with its result,
which is what makes resumable uploads safe to repeat).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from service.gmail.discovery import ApiMethod

_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


class UploadError(ValueError):
    """The upload request is malformed (HTTP 400)."""


@dataclass
class Upload:
    metadata: dict[str, Any] | None
    media: bytes
    media_type: str


def _boundary(content_type: str) -> str:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if m is None:
        raise UploadError("multipart upload without a boundary")
    return m.group(1)


def _split_part(part: bytes) -> tuple[dict[str, str], bytes]:
    for eol in (b"\r\n", b"\n"):
        if part.startswith(eol):             # a part without headers
            return {}, part[len(eol):]
    m = re.search(rb"\r?\n\r?\n", part)
    if m is None:
        raise UploadError("multipart part without a blank line after its headers")
    headers = {}
    for line in re.split(rb"\r?\n", part[: m.start()]):
        if b":" in line:
            name, _, value = line.partition(b":")
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return headers, part[m.end():]


def parse_multipart(body: bytes, content_type: str) -> Upload:
    """Metadata JSON and media out of a ``multipart/related`` body, media bytes untouched."""
    delimiter = b"--" + _boundary(content_type).encode("latin-1")
    pieces = re.split(rb"(?:^|\r?\n)" + re.escape(delimiter), body)
    parts = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        parts.append(piece[2:] if piece.startswith(b"\r\n") else piece[1:])
    if len(parts) != 2:
        raise UploadError(f"multipart upload needs 2 parts (metadata, media), got {len(parts)}")
    meta_headers, meta_body = _split_part(parts[0])
    media_headers, media = _split_part(parts[1])
    if not meta_headers.get("content-type", "").startswith("application/json"):
        raise UploadError("the first multipart part must be application/json metadata")
    try:
        metadata = json.loads(meta_body or b"{}")
    except ValueError as exc:
        raise UploadError(f"metadata is not JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise UploadError("metadata must be a JSON object")
    if media_headers.get("content-transfer-encoding", "").lower() == "base64":
        media = base64.b64decode(media)
    return Upload(metadata, media, media_headers.get("content-type", ""))


def parse_range(value: str | None, length: int) -> tuple[int | None, int | None]:
    """(first byte of this chunk or None for a status query, total or None if unknown)."""
    if value is None:
        return 0, length
    m = _RANGE.match(value.strip())
    if m is None:
        raise UploadError(f"bad Content-Range {value!r}")
    first = int(m.group(1)) if m.group(1) is not None else None
    if first is not None and int(m.group(2)) - first + 1 != length:
        raise UploadError("Content-Range does not match the chunk length")
    total = int(m.group(3)) if m.group(3) != "*" else None
    return first, total


@dataclass
class Session:
    id: str
    method: ApiMethod
    user: str
    path_params: dict[str, str]
    query: dict[str, Any]
    metadata: dict[str, Any] | None
    media_type: str
    data: bytearray = field(default_factory=bytearray)
    result: tuple[int, dict[str, Any] | None] | None = None


class Sessions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def start(self, **kwargs: Any) -> Session:
        session = Session(id=secrets.token_urlsafe(18), **kwargs)
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            return self._sessions.get(session_id)

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
