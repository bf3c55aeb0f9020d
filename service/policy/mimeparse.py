"""RFC 822 bytes -> ``Draft``, keeping recipient entries exactly as written.

The stdlib's address parser repairs what it can (a missing comma becomes one address plus
a defect), so To/Cc/Bcc are taken from the raw header values and split by
``addresses.split_header``; the rules then judge each entry as typed.

The MIME structure is walked here rather than by ``email.parser``: the stdlib parser
recurses once per multipart level (``RecursionError`` at ~1,000 levels), touches every
line of every base64 body, and re-counts quotes for every parameter of a header (minutes
for 300,000 parameters). This walk is iterative and linear: boundaries are found with
``bytes.find`` inside each part's own span, base64 is decoded straight from the raw span,
and every dimension is capped (``MimeLimits``: parts, depth, header length, recipient
entries, body text). What a cap leaves out becomes a ``Draft.notes`` entry
(``code:where``), never a silent pass and never an exception other than ``MessageError``.
"""

from __future__ import annotations

import binascii
import itertools
import re
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import ContentDispositionHeader, ContentTypeHeader

from service.errors import MessageError, Text
from service.policy.charsets import charset_decode, decode_words
from service.policy.model import Attachment, Draft

MAX_MESSAGE = 60 * 1024 * 1024      # a Gmail message is at most ~35 MB after encoding
MAX_HEADER_SECTION = 8 * 1024 * 1024
_KNOWN = {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
          "reply-to", "sender", "received", "content-type", "in-reply-to", "references"}
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_FIELD_END = re.compile(rb"\r?\n(?![ \t])")
_NAME = re.compile(r"[!-9;-~]+")   # printable ASCII except ":" (RFC 5322 field name)


@dataclass(frozen=True)
class MimeLimits:
    max_parts: int = 1000             # MIME parts walked (leaves and containers)
    max_depth: int = 30               # multipart / message nesting levels
    max_mime_header: int = 16 * 1024  # one Content-Type/-Disposition value, characters
    max_entries: int = 20_000         # recipient entries over To, Cc and Bcc
    max_body: int = 8 * 1024 * 1024   # body text characters (plain and HTML each)


def draft_from_bytes(raw: bytes, limits: MimeLimits = MimeLimits()) -> Draft:
    """Parse a message; ``MessageError`` when ``raw`` is not an e-mail message."""
    if len(raw) > MAX_MESSAGE:
        raise MessageError(Text("message.too_large", {"mb": len(raw) // (1024 * 1024)}))
    raw = bytes(raw)
    head_end, body_start = _split_head(raw, 0, len(raw))
    if head_end > MAX_HEADER_SECTION:
        raise MessageError(Text("message.header_too_large"))
    if b"\x00" in raw[:head_end]:
        raise MessageError(Text("message.binary_header"))
    fields = _fields(raw[:head_end])
    if not {name for name, _ in fields} & _KNOWN:
        raise MessageError(Text("message.no_headers"))
    raw_headers: dict[str, list[str]] = {}
    for name, value in fields:
        raw_headers.setdefault(name, []).append(value)
    walk = _Walk(raw, limits)
    walk.run(fields, body_start)
    entries = {f: _entries(raw_headers.get(f, [])) for f in ("to", "cc", "bcc")}
    total = sum(len(v) for v in entries.values())
    if total > limits.max_entries:
        walk.note("too_many_recipients", str(total))
        left = limits.max_entries
        for f in ("to", "cc", "bcc"):
            entries[f] = entries[f][:left]
            left -= len(entries[f])
    return Draft(
        sender=_first_address(raw_headers.get("from", [""])[0]),
        to=entries["to"],
        cc=entries["cc"],
        bcc=entries["bcc"],
        subject=decode_words(_raw_text(raw_headers.get("subject", [""])[0])),
        text=walk.body("text", walk.texts),
        html=walk.body("html", walk.htmls),
        attachments=tuple(walk.attachments),
        notes=tuple(walk.notes),
        message_id=next(iter(_ids(raw_headers.get("message-id", []))), ""),
        references=tuple(dict.fromkeys(_ids(raw_headers.get("in-reply-to", [])
                                            + raw_headers.get("references", [])))),
        reply=bool(raw_headers.get("in-reply-to") or raw_headers.get("references")),
    )


_MSGID = re.compile(r"<[^<>\s]{1,990}>")


def _ids(values: list[str]) -> list[str]:
    """Message ids (``<…>``) in header values, in order; at most 100."""
    return [m.group(0) for v in values for m in _MSGID.finditer(v)][:100]


def _raw_text(value: str) -> str:
    from service.policy.addresses import header_text

    return header_text(value)


def _split_head(raw: bytes, start: int, end: int) -> tuple[int, int]:
    """(end of the header section, start of the body) of the entity ``raw[start:end]``."""
    if raw.startswith((b"\r\n", b"\n"), start):  # no headers at all
        return start, start + (2 if raw.startswith(b"\r\n", start) else 1)
    best = (end, end)
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep, start, end)
        if 0 <= i < best[0]:
            best = (i, i + len(sep))
    return best


def _fields(block: bytes) -> list[tuple[str, str]]:
    """Header fields of one header section, names lower-cased, values unfolded and decoded
    from their raw bytes (UTF-8, ISO-2022-JP, Shift_JIS, EUC-JP as sent; undecodable bytes
    become U+FFFD, so nothing downstream sees lone surrogates)."""
    out: list[tuple[str, str]] = []
    for line in _FIELD_END.split(block):
        name, sep, value = line.partition(b":")
        text_name = name.decode("ascii", "replace").strip()
        if not sep or not _NAME.fullmatch(text_name):
            continue
        out.append((text_name.lower(), _unfold(_header_text(value))))
    return out


def _header_text(data: bytes) -> str:
    if data.isascii():
        return data.decode("ascii")
    order = ("iso2022_jp_ext",) if b"\x1b" in data else ()
    for encoding in (*order, "utf-8", "cp932", "euc_jp"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def _clean(text: str) -> str:
    """No lone surrogates (the stdlib leaves undecodable RFC 2231 bytes as such): they
    would make every later encode, JSON output included, fail or be invalid."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def _unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def _entries(values: list[str]) -> tuple[str, ...]:
    """Split header values into entries by their structure (``addresses.header_entries``:
    raw 8-bit and ISO-2022-JP names read as text first, encoded words decoded after the
    split and only where they stand, so a display name is never re-read as an address)."""
    from service.policy.addresses import header_entries

    return header_entries(values)


def _first_address(value: str) -> str:
    from email.utils import getaddresses

    pairs = getaddresses([value[:4096]])   # the sender is the first address: no need for more
    return pairs[0][1].lower() if pairs and pairs[0][1] else ""


@dataclass
class _Part:
    """One entity's MIME headers, parsed only as far as the checks need."""

    ctype: str
    params: dict[str, str]
    disposition: str | None
    filename: str | None
    encoding: str
    content_id: str | None


class _Walk:
    """The iterative, bounded MIME walk of one message."""

    def __init__(self, raw: bytes, limits: MimeLimits) -> None:
        self.raw = raw
        self.limits = limits
        self.parts = 0
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[Attachment] = []
        self.notes: list[str] = []

    def note(self, code: str, where: str = "message") -> None:
        note = f"{code}:{where}"
        if note not in self.notes:
            self.notes.append(note)

    def body(self, kind: str, pieces: list[str]) -> str:
        text = "\n".join(pieces)
        if len(text) > self.limits.max_body:
            self.note("body_truncated", kind)
            text = text[:self.limits.max_body]
        return text

    def run(self, fields: list[tuple[str, str]], body_start: int) -> None:
        # (headers, body start, body end, depth), children pushed in reverse: message order
        stack: list[tuple[list[tuple[str, str]], int, int, int]] = [
            (fields, body_start, len(self.raw), 0)]
        while stack:
            headers, start, end, depth = stack.pop()
            self.parts += 1
            if self.parts > self.limits.max_parts:
                self.note("mime_too_many_parts", str(self.limits.max_parts))
                return
            part = self.mime(headers)
            main = part.ctype.partition("/")[0]
            if main == "multipart" or part.ctype in ("message/rfc822", "message/global"):
                if depth >= self.limits.max_depth:
                    self.note("mime_too_deep", str(self.limits.max_depth))
                    continue
                if main == "multipart":
                    children = self.children(part.params.get("boundary", ""), start, end)
                    if children is not None:
                        stack.extend((h, s, e, depth + 1) for h, s, e in reversed(children))
                        continue
                    part.ctype = "text/plain"  # no usable boundary: RFC 2046 says text
                elif part.encoding not in ("base64", "quoted-printable"):
                    head_end, inner = _split_head(self.raw, start, end)
                    stack.append((_fields(self.raw[start:head_end]), inner, end, depth + 1))
                    continue
            self.leaf(part, start, end)

    def children(self, boundary: str, start: int, end: int
                 ) -> list[tuple[list[tuple[str, str]], int, int]] | None:
        """The sub-entities of a multipart body: (headers, body start, body end) each."""
        if not boundary or len(boundary) > 200:
            return None
        delim = b"--" + boundary.encode("utf-8", "replace")
        raw = self.raw
        bounds: list[tuple[int, int]] = []   # (delimiter line start, next line start)
        pos = start
        while True:
            i = raw.find(delim, pos, end)
            if i < 0:
                break
            pos = i + len(delim)
            if i != start and raw[i - 1] != 0x0A:
                continue
            line_end = raw.find(b"\n", pos, end)
            line_end = end if line_end < 0 else line_end + 1
            rest = raw[pos:line_end]
            closing = rest.startswith(b"--")
            if rest[2 if closing else 0:].strip():
                continue  # "--boundary-more": another, longer boundary
            bounds.append((i, line_end))
            if closing:
                break
            if len(bounds) > self.limits.max_parts:
                break
        if not bounds:
            return None
        closed = raw[bounds[-1][0] + len(delim):bounds[-1][1]].startswith(b"--")
        if not closed:
            bounds.append((end, end))  # no closing delimiter: the last part runs to the end
        out = []
        for (_, body), (nxt, _) in itertools.pairwise(bounds):
            stop = nxt   # the line break before a delimiter belongs to the delimiter
            if stop > body and raw[stop - 1] == 0x0A:
                stop -= 2 if raw[stop - 2:stop] == b"\r\n" else 1
            head_end, inner = _split_head(raw, body, stop)
            out.append((_fields(raw[body:head_end]), min(inner, stop), stop))
        return out

    def mime(self, headers: list[tuple[str, str]]) -> _Part:
        ctype_value = disp_value = ""
        encoding = "7bit"
        content_id = None
        for name, value in headers:
            if name == "content-type" and not ctype_value:
                ctype_value = self.capped(name, value)
            elif name == "content-disposition" and not disp_value:
                disp_value = self.capped(name, value)
            elif name == "content-transfer-encoding":
                encoding = value.strip().lower()
            elif name == "content-id":
                content_id = value.strip()
        params: dict[str, str] = {}
        ctype = "text/plain"
        if ctype_value:
            header = _parse_header("content-type", ctype_value)
            if isinstance(header, ContentTypeHeader) and header.maintype and header.subtype:
                ctype = header.content_type.lower()
                params = _params(header)
        disposition = filename = None
        if disp_value:
            dheader = _parse_header("content-disposition", disp_value)
            if isinstance(dheader, ContentDispositionHeader):
                disposition = (dheader.content_disposition or "").lower() or None
                filename = _params(dheader).get("filename")
        if filename is None:
            filename = params.get("name")
        if filename is not None:
            filename = _clean(decode_words(filename))
        return _Part(ctype, params, disposition, filename, encoding, content_id)

    def capped(self, name: str, value: str) -> str:
        cap = self.limits.max_mime_header
        if len(value) <= cap:
            return value
        self.note("header_truncated", name)
        cut = value.rfind(";", 0, cap)
        return value[:cut if cut > 0 else cap]

    def leaf(self, part: _Part, start: int, end: int) -> None:
        ctype, disposition, filename = part.ctype, part.disposition, part.filename
        is_attachment = disposition == "attachment" or (
            filename is not None and disposition != "inline") or (
            disposition is None and ctype not in ("text/plain", "text/html")
            and part.content_id is None and filename is not None)
        if is_attachment or (filename and disposition == "inline"
                             and not ctype.startswith("image/")):
            self.attachments.append(Attachment(filename or "attachment", ctype,
                                               self.payload(part, start, end)))
        elif ctype == "text/plain" and disposition != "attachment":
            self.texts.append(self.text(part, start, end))
        elif ctype == "text/html" and disposition != "attachment":
            self.htmls.append(self.text(part, start, end))
        elif ctype in ("message/rfc822", "message/global"):  # an encoded attached message
            self.attachments.append(Attachment(filename or "message.eml", ctype,
                                               self.payload(part, start, end)))

    def payload(self, part: _Part, start: int, end: int) -> bytes:
        view = memoryview(self.raw)[start:end]
        try:
            if part.encoding == "base64":
                return binascii.a2b_base64(view)
            if part.encoding == "quoted-printable":
                return binascii.a2b_qp(view)
        except (binascii.Error, ValueError):
            self.note("bad_encoding", part.filename or part.ctype)
            if part.encoding == "base64":  # decode what is decodable, like the stdlib
                cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", bytes(view))
                return binascii.a2b_base64(cleaned[:len(cleaned) // 4 * 4] or b"")
        return bytes(view)

    def text(self, part: _Part, start: int, end: int) -> str:
        cap = self.limits.max_body * 4 + 16  # bytes: a character takes at most 4
        if end - start > cap * (2 if part.encoding == "base64" else 1):
            self.note("body_truncated", part.ctype.partition("/")[2])
            end = start + cap * (2 if part.encoding == "base64" else 1)
        return charset_decode(self.payload(part, start, end),
                               part.params.get("charset") or "utf-8")


def _parse_header(name: str, value: str) -> object:
    try:
        return email_policy.default.header_factory(name, value)
    except Exception:  # the stdlib's header parser raises on some malformed input
        return None


def _params(header: ContentTypeHeader | ContentDispositionHeader) -> dict[str, str]:
    try:
        return {k.lower(): str(v) for k, v in header.params.items()}
    except Exception:  # RFC 2231 values in an unknown charset, cut continuations
        return {}
