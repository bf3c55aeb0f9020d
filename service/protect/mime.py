"""Replace every attachment of a message by one AES-256 ZIP, keeping everything else.

The body (plain and HTML), inline images referenced by ``cid:`` from the HTML, every
header (thread headers included) and the multipart structure stay as they were; the
attachments leave nothing behind. Headers are written back unfolded-as-read
(``refold_source="none"``) with the input's line endings, so a CRLF draft stays CRLF.

Speed and memory: the stdlib parser walks a message line by line, which for a 25 MB
draft means half a million base64 lines. Long base64 runs are therefore cut out of the raw
bytes before parsing (``_Blobs``: a one-line placeholder each, restored byte for byte
wherever the text is needed), the parser is fed in chunks (``parsebytes`` would build a
4-bytes-per-character copy), each attachment is decoded only when the archive writes it,
and the ZIP's base64 is spliced into the serialised message instead of going through
the ``email`` generator. An attachment whose body is clean base64 is decoded straight
from its spans in the raw bytes (``_Blobs.decode``, SIMD base64 by ``pybase64``); anything
unusual goes through the stdlib's lenient decode, so the bytes are the same either way.

With ``hide_names`` the files go into one plain inner archive and the AES-256 ZIP holds
only that, so the names and sizes of the files need the password too (issue 9).
"""

from __future__ import annotations

import functools
import io
import re
import secrets
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email import policy as email_policy
from email.feedparser import BytesFeedParser
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any, BinaryIO, cast

import pybase64

from service.errors import AttachmentError, MessageError
from service.i18n import _
from service.protect.archive import (
    ArchiveFile,
    Pieces,
    encrypt_files,
    neutral_zip_name,
    plain_archive,
)

MAX_SIZE = 35 * 1024 * 1024
_FEED_CHUNK = 1024 * 1024
# Bytes base64-encoded at once (whole 76-character lines): their base64, CRLF too, stays
# under glibc's 128 KiB mmap threshold, so the buffers are reused from the heap instead of
# mapped and faulted in afresh for each chunk (~1,600 page faults on 5 MB).
_B64_CHUNK = 57 * 1600
_MESSAGE_HEADERS = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id",
                              "mime-version", "content-type", "reply-to", "sender",
                              "in-reply-to", "references", "received", "return-path"})
_CID = re.compile(rb"cid:([^\"'\s<>()]+)", re.IGNORECASE)
# 32+ whole lines of base64 alphabet: an encoded body, never a header or boundary line.
# Possessive: a line never gives characters back (-20% time, same runs as without).
_B64_RUN = re.compile(rb"(?<=\n)(?:[A-Za-z0-9+/=]{16,}+\r?\n){32,}+")
# ``find_runs`` finds the same runs faster: the regex finds where 32 lines begin, then
# chunks of lines as wide as the first are checked in C (strided slices for the line
# ends, translate for the alphabet) and the regex only reads the last chunk line by line.
_RUN_START = re.compile(rb"(?<=\n)(?:[A-Za-z0-9+/=]{16,}+\r?\n){32}")
_RUN_LINES = re.compile(rb"(?:[A-Za-z0-9+/=]{16,}+\r?\n)*+")
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
# Bytes checked at once: small enough for the allocator to reuse one buffer (a 1 MB slice
# was a fresh mmap each time: ~10 MB of page faults and a third of find_runs on 5 MB),
# large enough that the loop is a few hundred steps on a 35 MB draft.
_CHUNK = 1 << 16
_B64_LITERAL = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
INNER_ARCHIVE = "attachments.zip"


def find_runs(raw: bytes) -> list[tuple[int, int]]:
    """The spans ``_B64_RUN.finditer(raw)`` gives: maximal runs of 32+ lines of 16+
    base64 characters, each line with its line break, starting after a line break."""
    spans = []
    pos = 0
    while (m := _RUN_START.search(raw, pos)) is not None:
        start, end = m.span()
        end = _same_lines(raw, start, end)
        tail = _RUN_LINES.match(raw, end)
        assert tail is not None   # matches the empty string at least
        end = tail.end()
        spans.append((start, end))
        pos = end
    return spans


def _same_lines(raw: bytes, start: int, end: int) -> int:
    """Past ``end``, the end of the whole chunks of lines as wide as the run's first one
    (same line break, base64 alphabet only): each such line is one the regex would take,
    so ``_RUN_LINES`` goes on from there and finds the same end."""
    width = raw.index(b"\n", start) + 1 - start          # the first line, its break included
    eol = b"\r\n" if raw[start + width - 2:start + width] == b"\r\n" else b"\n"
    lines = max(_CHUNK // width, 1)
    size = lines * width
    ends, returns, breaks = b"\n" * lines, b"\r" * lines, eol * lines
    while True:
        chunk = raw[end:end + size]
        if (len(chunk) < size or chunk[width - 1::width] != ends
                or (len(eol) == 2 and chunk[width - 2::width] != returns)
                or chunk.translate(None, _ALPHABET) != breaks):
            return end
        end += size


class _ReadPolicy(EmailPolicy):
    """``policy.default`` whose parsed header objects are reused: every
    ``get_content_type()`` parses Content-Type again, and on a small draft that was three
    quarters of protect's time. Header objects are immutable, so sharing them is safe;
    long values (a 5 MB To header) are not kept."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > 2000:
            return super().header_fetch_parse(name, value)
        return _parsed_header(name, value)


@functools.lru_cache(maxsize=2048)
def _parsed_header(name: str, value: str) -> Any:
    return email_policy.default.header_fetch_parse(name, value)


READ_POLICY = _ReadPolicy()


class _Blobs:
    """Long base64 runs of the raw message, replaced by placeholders while parsing.

    A run ``text + eol`` becomes ``placeholder + eol``; ``restore`` puts ``text`` back, so
    any bytes or string from the parsed tree come out exactly as in the input.
    """

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.spans: list[tuple[int, int]] = []
        self.prefix = b"SENDGUARD-BLOB-" + secrets.token_hex(8).encode() + b"-"
        self._placeholder = re.compile(re.escape(self.prefix) + rb"(\d+)")

    def cut(self) -> bytes:
        pieces = []
        pos = 0
        for start, end in find_runs(self.raw):
            eol = 2 if self.raw[end - 2:end] == b"\r\n" else 1
            pieces += [self.raw[pos:start], self.prefix + str(len(self.spans)).encode(),
                       self.raw[end - eol:end]]
            self.spans.append((start, end - eol))
            pos = end
        if not self.spans:
            return self.raw
        pieces.append(self.raw[pos:])
        return b"".join(pieces)

    def restore(self, data: bytes) -> bytes:
        if not self.spans or self.prefix not in data:
            return data
        return self._placeholder.sub(lambda m: self.raw[slice(*self.spans[int(m[1])])], data)

    def decode(self, part: Message) -> bytes | None:
        """A base64 leaf part's decoded body, straight from the raw spans.

        ``None`` unless the payload is strict base64 (whole 4-character groups in each
        run, padding only at the very end): then the stdlib's lenient decode must run.
        """
        # The stdlib's own test (get_payload): anything else it does not base64-decode.
        if str(part.get("content-transfer-encoding", "")).lower() != "base64":
            return None
        payload = getattr(part, "_payload", None)
        if not isinstance(payload, str):
            return None
        pieces = self._placeholder.split(payload.encode("ascii", "surrogateescape"))
        raw, view = self.raw, memoryview(self.raw)
        out: list[bytes] = []
        padded = False
        for i, piece in enumerate(pieces):
            if i % 2:   # a run: alphabet and line breaks only, by construction
                start, end = self.spans[int(piece)]
                pad = raw.find(b"=", start, end)
                tail = raw[pad:end].translate(None, b"\r\n") if pad >= 0 else b""
                data: bytes | memoryview = view[start:end]
            else:
                data = piece.translate(None, b"\r\n")
                if not data:
                    continue
                if not _B64_LITERAL.fullmatch(data):
                    return None
                tail = data[len(data.rstrip(b"=")):]
            if padded or tail.strip(b"=") or len(tail) > 2:
                return None
            padded = bool(tail)
            try:   # raises unless whole 4-character groups: no counting needed
                decoded = pybase64.b64decode(data)
            except ValueError:
                return None
            if not padded and len(decoded) % 3:
                return None
            out.append(decoded)
        return out[0] if len(out) == 1 else b"".join(out)

    def restore_part(self, part: Message) -> None:
        """Put the original text back into a leaf part's payload."""
        # The raw payload: get_payload() would decode 8-bit text by its charset.
        payload = getattr(part, "_payload", None)
        if isinstance(payload, str) and self.prefix.decode("ascii") in payload:
            data = payload.encode("ascii", "surrogateescape")
            part.set_payload(self.restore(data).decode("ascii", "surrogateescape"))


class ProtectResult:
    """``protect_message``'s output: the message and what its ZIP holds.

    The ZIP's base64 is made when the message is used: ``message`` joins it into one
    bytes object (once), ``write_to`` writes it to a file chunk by chunk without that
    copy (``sendguard protect``: a 35 MB message less in memory, and its page faults).
    Either consumes the encrypted ZIP as it goes, so after ``write_to`` there is no
    ``message`` to read (and ``write_to`` after ``message`` writes that)."""

    __slots__ = ("_chunks", "_message", "files", "inner_archive", "size", "zip_filename")

    def __init__(self, chunks: Iterator[bytes], size: int, *, zip_filename: str,
                 files: list[str], inner_archive: str | None = None) -> None:
        self._chunks: Iterator[bytes] | None = chunks
        self._message: bytes | None = None
        self.size = size
        self.zip_filename = zip_filename
        self.files = files
        # the one entry of the AES ZIP when the names are hidden (``hide_names``)
        self.inner_archive = inner_archive

    def __repr__(self) -> str:
        return (f"ProtectResult(size={self.size}, zip_filename={self.zip_filename!r}, "
                f"files={self.files!r}, inner_archive={self.inner_archive!r})")

    def _take(self) -> Iterator[bytes]:
        chunks, self._chunks = self._chunks, None
        if chunks is None:
            raise RuntimeError("the protected message was written out already")
        return chunks

    @property
    def message(self) -> bytes:
        if self._message is None:
            self._message = b"".join(self._take())
            assert len(self._message) == self.size
        return self._message

    def write_to(self, out: BinaryIO) -> None:
        if self._message is not None:
            out.write(self._message)
            return
        written = 0
        for chunk in self._take():
            out.write(chunk)
            written += len(chunk)
        assert written == self.size


def open_attachments(raw: bytes, blocked_extensions: Sequence[str],
                     ) -> tuple[EmailMessage, _Blobs, Any, list[Any], list[str]]:
    """The parsed draft, its base64 spans, the output policy (the draft's own line
    ends), its attachments and their names: what ZIP and link mode both start from.

    Raises ``MessageError`` for input that is not a message and ``AttachmentError`` when
    there is nothing to take out or a name has a blocked extension."""
    _check_input(raw)
    data = bytes(raw)  # no copy when raw is bytes; a private copy of a mutable buffer
    blobs = _Blobs(data)
    msg = parse_message(data, blobs)
    linesep = "\r\n" if b"\r\n" in data[:data.find(b"\n") + 1] else "\n"
    out_policy = email_policy.default.clone(linesep=linesep, refold_source="none")
    found = find_attachments(msg, blobs)
    if not found and not msg.is_multipart() and _is_attachment(msg, set()):
        msg.make_mixed()  # the whole message is one attachment: give it a container
        found = find_attachments(msg, blobs)
    if not found:
        raise AttachmentError(_("protect.no_attachments"))
    names = [attachment_name(part, i) for i, (_cid, part) in enumerate(found, 1)]
    check_blocked(names, blocked_extensions)
    return msg, blobs, out_policy, found, names


def protect_message(raw: bytes, password: str, *, blocked_extensions: Sequence[str] = (),
                    max_size: int = MAX_SIZE, now: datetime | None = None,
                    hide_names: bool = False) -> ProtectResult:
    """Return ``raw`` with all its attachments replaced by one AES-256 ZIP.

    ``hide_names`` (policy ``delivery.hide_names``) puts the files into one inner archive
    ``INNER_ARCHIVE`` first: without the password only that name and its size show.

    Raises ``MessageError`` for input that is not a message, ``AttachmentError`` when
    there is nothing to encrypt, an attachment has a blocked extension, or the result
    exceeds ``max_size`` bytes. ``raw`` itself is never modified.
    """
    msg, blobs, out_policy, found, names = open_attachments(raw, blocked_extensions)

    now = now or datetime.now()
    zip_name = neutral_zip_name(now)
    files = [ArchiveFile(name, _taker(part, out_policy, blobs), part.get_content_type())
             for name, (_cid, part) in zip(names, found, strict=True)]
    buf = Pieces()
    if hide_names:
        inner = Pieces()
        entry_names = plain_archive(files, inner, now=now)
        del files
        encrypt_files([ArchiveFile(INNER_ARCHIVE, inner.getvalue, "application/zip")],
                      password, buf, now=now)
        del inner
    else:
        entry_names = encrypt_files(files, password, buf, now=now)
        del files

    token = "SENDGUARD-ZIP-" + secrets.token_hex(16)
    _replace_parts(msg, found, _zip_part(zip_name, token))
    chunks, size = _serialise(msg, out_policy, blobs, token, buf, max_size)
    return ProtectResult(chunks, size, zip_filename=zip_name, files=entry_names,
                         inner_archive=INNER_ARCHIVE if hide_names else None)


def _check_input(raw: object) -> None:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MessageError(_("protect.not_a_message", why=_("protect.why.not_bytes")))
    if not bytes(raw[:4096]).strip():
        raise MessageError(_("protect.not_a_message", why=_("protect.why.empty")))


def parse_message(raw: bytes, blobs: _Blobs | None = None
                  ) -> EmailMessage:
    """Parse ``raw`` or raise ``MessageError`` when it is not an e-mail message.

    With ``blobs``, long base64 bodies stay placeholders in the tree (see ``_Blobs``).
    """
    _check_input(raw)
    parser = BytesFeedParser(policy=READ_POLICY)
    view = memoryview(blobs.cut() if blobs is not None else raw)
    for start in range(0, len(view), _FEED_CHUNK):
        parser.feed(bytes(view[start:start + _FEED_CHUNK]))
    msg = parser.close()
    assert isinstance(msg, EmailMessage)
    names = {k.lower() for k in msg}
    if not names & _MESSAGE_HEADERS or any(
            type(d).__name__ == "MissingHeaderBodySeparatorDefect" for d in msg.defects):
        raise MessageError(_("protect.not_a_message", why=_("protect.why.no_headers")))
    for part in msg.walk():
        if part.get_content_maintype() == "multipart" and not part.is_multipart():
            raise MessageError(_("protect.not_a_message", why=_("protect.why.boundary")))
    return msg


def _content_id(part: Message) -> str:
    return str(part.get("Content-ID", "")).strip().strip("<>").strip()


def referenced_cids(msg: Message, blobs: _Blobs | None = None) -> set[str]:
    """Content-IDs that some HTML body part (not an attached HTML file) shows by ``cid:``."""
    cids: set[str] = set()
    for part in _body_leaves(msg):
        if (part.get_content_type() == "text/html" and not part.get_filename()
                and part.get_content_disposition() != "attachment"):
            if blobs is not None:
                blobs.restore_part(part)
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                cids.update(urllib.parse.unquote(m.decode("ascii", "replace"))
                            for m in _CID.findall(payload))
    return cids


def _children(part: Message) -> list[Message]:
    """The sub-parts of a parsed multipart, as the mutable list the generator writes."""
    return cast("list[Message]", part.get_payload())


def _body_leaves(part: Message) -> list[Message]:
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        leaves = []
        for child in _children(part):
            leaves.extend(_body_leaves(child))
        return leaves
    return [part]


def _is_attachment(part: Message, cids: set[str]) -> bool:
    """Attachments: disposition attachment, attached messages, named or non-text parts.

    Images the HTML shows by ``cid:`` are part of the body and stay, whatever their
    disposition says (some clients mark them ``attachment``).
    """
    ctype = part.get_content_type()
    if ctype in ("message/rfc822", "message/global"):
        return True
    if part.get_content_maintype() == "image" and _content_id(part) in cids:
        return False
    if part.get_content_disposition() == "attachment":
        return True
    if part.get_filename():
        return True
    return part.get_content_maintype() != "text"


def find_attachments(msg: Message, blobs: _Blobs | None = None
                     ) -> list[tuple[Message, Message]]:
    """Every attachment with its parent container, in message order."""
    cids = referenced_cids(msg, blobs)
    found: list[tuple[Message, Message]] = []

    def visit(part: Message) -> None:
        for child in _children(part):
            if child.get_content_maintype() == "multipart" and child.is_multipart():
                visit(child)
            elif _is_attachment(child, cids):
                found.append((part, child))

    if msg.get_content_maintype() == "multipart" and msg.is_multipart():
        visit(msg)
    return found


def _raw_name(part: Message) -> str | None:
    """The file name from the raw header bytes, for mailers that put Shift_JIS, EUC-JP or
    ISO-2022-JP straight into the header (the parser only guesses UTF-8)."""
    for header, value in part.raw_items():
        if header.lower() not in ("content-disposition", "content-type"):
            continue
        data = str(value).encode("ascii", "surrogateescape")
        codecs = ("iso-2022-jp",) if b"\x1b" in data else ("utf-8", "cp932", "euc-jp")
        for codec in codecs:
            try:
                decoded = data.decode(codec)
            except UnicodeDecodeError:
                continue
            params = email_policy.default.header_factory(header, decoded).params
            name = params.get("filename") or params.get("name")
            if name:
                return str(name)
    return None


def attachment_name(part: Message, index: int) -> str:
    """The attachment's own file name (RFC 2231 and encoded words decoded), or a neutral
    ``attachment-N.ext`` when it has none."""
    name = part.get_filename()
    if name and ("\ufffd" in name or "\x1b" in name):
        name = _raw_name(part) or name
    if name:
        return str(name)
    import mimetypes  # here: only a nameless attachment needs it

    ctype = part.get_content_type()
    ext = ".eml" if ctype.startswith("message/") else mimetypes.guess_extension(ctype) or ".bin"
    return f"attachment-{index}{ext}"


def _normal_ext(name: str) -> str:
    return unicodedata.normalize("NFKC", name).lower().rstrip(". \t")


def check_blocked(names: Sequence[str], blocked: Sequence[str]) -> None:
    """Refuse a name ending in a blocked extension (full-width and trailing dots folded)."""
    exts = [_normal_ext(e if e.startswith(".") else "." + e) for e in blocked if e.strip(". ")]
    for name in names:
        folded = _normal_ext(name)
        for ext in exts:
            if folded.endswith(ext):
                raise AttachmentError(_("protect.blocked", name=name, ext=ext))


def _taker(part: Message, out_policy: EmailPolicy[Any], blobs: _Blobs
           ) -> Callable[[], bytes]:
    """Decode the part when the archive needs it, then drop its encoded text."""

    def take() -> bytes:
        if part.is_multipart():  # an attached message: its bytes as they would be sent
            sub = _children(part)[0]
            out = io.BytesIO()
            BytesGenerator(out, policy=out_policy).flatten(sub)
            data = blobs.restore(out.getvalue())
        else:
            fast = blobs.decode(part)
            if fast is not None:
                data = fast
            else:
                blobs.restore_part(part)
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
        part.set_payload("")
        return data

    return take


def _zip_part(zip_name: str, token: str) -> EmailMessage:
    part = EmailMessage(policy=email_policy.default)
    part["Content-Type"] = f'application/zip; name="{zip_name}"'
    part["Content-Disposition"] = f'attachment; filename="{zip_name}"'
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(token)
    return part


def _replace_parts(msg: Message, found: Sequence[tuple[Message, Message]],
                   zip_part: Message) -> None:
    """The ZIP takes the first attachment's place; the others go; empty containers too."""
    for i, (parent, part) in enumerate(found):
        children = _children(parent)
        at = next(j for j, child in enumerate(children) if child is part)
        if i == 0:
            children[at] = zip_part
        else:
            del children[at]
    _prune(msg)


def _prune(part: Message) -> None:
    if part.get_content_maintype() != "multipart" or not part.is_multipart():
        return
    children = _children(part)
    for child in list(children):
        _prune(child)
        if (child.get_content_maintype() == "multipart" and child.is_multipart()
                and not _children(child)):
            children.remove(child)


def _b64_length(size: int, linesep: str) -> int:
    encoded = 4 * -(-size // 3)
    lines = -(-encoded // 76)
    return encoded + max(lines - 1, 0) * len(linesep)


def _serialise(msg: Message, out_policy: EmailPolicy[Any], blobs: _Blobs, token: str,
               zip_data: Pieces, max_size: int) -> tuple[Iterator[bytes], int]:
    """The message's chunks (made as they are taken) and its size, checked against
    ``max_size`` now: the headers and body around the ZIP part, and the ZIP in base64."""
    frame = io.BytesIO()
    BytesGenerator(frame, policy=out_policy).flatten(msg)
    head, found, tail = blobs.restore(frame.getvalue()).partition(token.encode("ascii"))
    assert found and token.encode("ascii") not in tail
    nl = out_policy.linesep.encode("ascii")
    size = len(head) + _b64_length(zip_data.size, out_policy.linesep) + len(tail)
    if size > max_size:
        raise AttachmentError(
            _("protect.too_large", size=size, mb=size / 2**20, limit_mb=max_size / 2**20),
            detail=f"{size} bytes")
    pieces = [piece for piece in reversed(zip_data.pieces) if len(piece)]
    zip_data.pieces = []                                 # encoded and dropped as we go
    return _encoded(head, pieces, tail, nl), size


def _encoded(head: bytes, pieces: list[bytes | memoryview], tail: bytes, nl: bytes
             ) -> Iterator[bytes]:
    """``head``, the base64 lines of ``pieces`` (in reverse order, none empty; each
    dropped once encoded) in chunks of at most ``_B64_CHUNK`` bytes' lines, then ``tail``."""
    yield head
    carry = b""                      # under one line's 57 bytes, left from the last piece
    while pieces:
        piece = pieces.pop()
        data = carry + piece if carry else piece
        last = not pieces
        usable = len(data) if last else len(data) // 57 * 57     # whole 76-character lines
        view = memoryview(data)
        for start in range(0, usable, _B64_CHUNK):
            end = min(start + _B64_CHUNK, usable)
            lines = pybase64.encodebytes(view[start:end])
            if last and end == usable:
                lines = lines.rstrip(b"\n")
            yield lines if nl == b"\n" else lines.replace(b"\n", nl)
        carry = bytes(view[usable:])
        view.release()
        del data, piece
    yield tail
