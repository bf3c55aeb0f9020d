"""Attachment text and facts for the content checks (SPEC section 2: ``personal_data``,
``unencrypted_attachment``, ``blocked_attachment``).

Attachments come from strangers' mailboxes as often as from our users, so everything here
is defensive: ZIP members are streamed from memory (never extracted to disk) counting the
bytes really produced, archive depth, entry count, compression ratio, total size, cells,
pages and text are bounded, and any parser failure becomes a machine-readable note. A zip
bomb, a corrupt file or binary garbage gives an Inspection without findings plus a note;
``inspect_attachment`` never raises.
"""

from __future__ import annotations

import codecs
import html
import io
import logging
import re
import struct
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pypdf import PdfReader

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TEXT_EXTENSIONS = frozenset({".csv", ".tsv", ".txt", ".text", ".md", ".markdown", ".html",
                             ".htm", ".json", ".xml", ".log", ".tab", ".vcf", ".ics"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})
ZIP_EXTENSIONS = frozenset({".zip", ".xlsx", ".xlsm", ".xltx", ".xltm", ".docx", ".docm",
                            ".dotx", ".dotm"})
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/csv")
MAX_NOTES = 200
_SNIFF = 8192
_CHUNK = 64 * 1024
_ZIP_READABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DOCX_PART = re.compile(r"^/word/(document|header\d*|footer\d*|footnotes|endnotes|comments)"
                        r"\.xml$")
_ODD = re.compile("[\uff61-\uff9f\ue000-\uf8ff]")  # half-width kana, private use
_TAG = re.compile(r"<[^<>]{0,4096}>")
# Characters that change how a name is displayed without being part of what the OS sees
# as its extension: bidi controls (U+202E right-to-left override tricks), zero-width
# characters, BOM, soft hyphen.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B,
     0x202C, 0x202D, 0x202E, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF])


@dataclass(frozen=True)
class Limits:
    max_depth: int = 2                 # archive levels opened: the attachment ZIP and one inside
    max_total: int = 50 * 1024 * 1024  # total uncompressed bytes read across one attachment
    max_entries: int = 1000            # entries per archive
    max_ratio: int = 100               # per-entry compression ratio guard
    max_text: int = 20 * 1024 * 1024   # text collected per attachment (characters)
    max_cells: int = 200_000           # spreadsheet cells per workbook (openpyxl: ~3 s)
    max_pages: int = 200               # PDF pages per document (pypdf: ~10 ms a page)
    ratio_floor: int = 1024 * 1024     # entries smaller than this never trip the ratio guard


@dataclass
class Inspection:
    texts: list[tuple[str, str]] = field(default_factory=list)  # (path, text)
    members: list[str] = field(default_factory=list)  # every file name seen inside archives
    encrypted: bool = False  # the attachment itself is encrypted
    notes: list[str] = field(default_factory=list)  # "code:path"


class _Abort(Exception):
    """Stop inspecting this attachment: its result must be finding-free."""

    def __init__(self, code: str, path: str) -> None:
        super().__init__(f"{code}:{path}")
        self.note = f"{code}:{path}"


def inspect_attachment(filename: str, content_type: str, data: bytes,
                       limits: Limits = Limits()) -> Inspection:
    """Texts, archive member names, encryption and notes of one attachment. Never raises."""
    walker = _Walker(limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            walker.document(filename, content_type, data, depth=0)
    except _Abort as abort:
        return Inspection(notes=[*walker.result.notes, abort.note][-MAX_NOTES:])
    except Exception:  # a parser's bug must not take the check down with it
        return Inspection(notes=[*walker.result.notes, f"corrupt:{filename}"][-MAX_NOTES:])
    return walker.result


def is_encrypted(filename: str, data: bytes) -> bool:
    """Whether the attachment itself is password-protected (cheap: no text extraction)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind = _kind(filename, "", data)
            if kind == "ole":
                return ole_encrypted(data)
            if kind == "pdf":
                return _pdf_locked(_pdf_reader(data))
            if kind == "zip":
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    files = [i for i in zf.infolist() if not i.is_dir()]
                    return bool(files) and all(i.flag_bits & 1 for i in files)
    except Exception:
        return False
    return False


def blocked_name(name: str, extensions: Sequence[str]) -> str | None:
    """The entry of ``extensions`` that ``name`` really ends with, or None.

    Compared as Windows would open the file: NFKC, case-insensitive, trailing dots and
    spaces dropped, invisible bidi/zero-width characters removed, so that
    ``"invoice\\u202efdp.exe"`` (shown as "invoiceexe.pdf") and ``"a.exe "`` are caught.
    """
    base = _plain_name(name)
    best: str | None = None
    best_len = 0
    for ext in extensions:
        e = _plain_name(ext)
        if not e:
            continue
        if not e.startswith("."):
            e = "." + e
        if base.endswith(e) and len(e) > best_len:
            best, best_len = ext, len(e)
    return best


def _plain_name(name: str) -> str:
    name = unicodedata.normalize("NFKC", name).translate(_INVISIBLE)
    name = re.split(r"[/\\]", name)[-1]
    return name.rstrip(". \t\r\n").casefold()


def _suffix(name: str) -> str:
    base = _plain_name(name)
    dot = base.rfind(".")
    return base[dot:] if dot > 0 else ""


def _kind(name: str, content_type: str, data: bytes) -> str:
    """What parser to use: by content first (magic bytes), then by name and type."""
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    ext = _suffix(name)
    if ext in ZIP_EXTENSIONS:
        return "zip"
    if ext == ".pdf":
        return "pdf"
    if ext in TEXT_EXTENSIONS or content_type.lower().startswith(TEXT_TYPES):
        return "text"
    return "text" if _looks_textual(data[:_SNIFF]) else "unsupported"


def _looks_textual(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\0" in head:
        return False
    return any(_decodes(head, enc) for enc in ("utf-8", "cp932", "euc_jp"))


def ole_encrypted(data: bytes) -> bool:
    """An OLE2 compound file holding an encrypted OOXML package (Office "password to open").

    Looks for the two directory entries MS-OFFCRYPTO requires, EncryptionInfo and
    EncryptedPackage: a 128-byte-aligned entry with the UTF-16 name, its length field and
    the stream type, so the same words inside a document's text do not count.
    """
    if not data.startswith(OLE_MAGIC):
        return False
    return _ole_has_stream(data, "EncryptedPackage") and _ole_has_stream(data, "EncryptionInfo")


def _ole_has_stream(data: bytes, name: str) -> bool:
    needle = name.encode("utf-16-le") + b"\0\0"
    start = 512  # directory sectors follow the 512-byte header
    while (i := data.find(needle, start)) >= 0:
        if (i % 128 == 0 and i + 67 <= len(data)
                and struct.unpack_from("<H", data, i + 64)[0] == len(needle)
                and data[i + 66] == 2):
            return True
        start = i + 1
    return False


def decode_text(data: bytes) -> str:
    """Bytes of a text file to str: BOMs, ISO-2022-JP, UTF-8, then Shift_JIS/CP932 and
    EUC-JP (the fast path for Japanese files), then charset-normalizer. Undecodable bytes
    are replaced, never raised."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[3:], "utf-8")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _decode(data, "utf-32")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16")
    if b"\x1b$" in data[:64 * 1024] and _decodes(data, "iso2022_jp_ext"):  # 7-bit JIS
        return _decode(data, "iso2022_jp_ext")
    if b"\0" not in data[:64 * 1024]:  # NULs: UTF-16/32 without a BOM, leave it to the detector
        if _decodes(data, "utf-8"):
            return _decode(data, "utf-8")
        return _japanese(data)
    return _detected(data)


def _japanese(data: bytes) -> str:
    sjis = _decodes(data, "cp932")
    euc = _decodes(data, "euc_jp")
    if sjis and euc:  # EUC-JP often decodes as CP932 too, into half-width kana and PUA
        sample = data[:64 * 1024]
        odd_euc, odd_sjis = _oddness(_decode(sample, "euc_jp")), _oddness(_decode(sample, "cp932"))
        return _decode(data, "euc_jp" if odd_euc < odd_sjis else "cp932")
    if sjis or euc:
        return _decode(data, "cp932" if sjis else "euc_jp")
    return _detected(data)


def _detected(data: bytes) -> str:
    import charset_normalizer

    best = charset_normalizer.from_bytes(data[:256 * 1024]).best()
    return _decode(data, best.encoding if best is not None else "cp932")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decode(data: bytes, encoding: str) -> str:
    # final=False: a multi-byte character cut by a size limit is dropped, not mangled
    return str(codecs.getincrementaldecoder(encoding)("replace").decode(data, final=False))


def _oddness(text: str) -> int:
    return len(_ODD.findall(text))


def _html_text(text: str) -> str:
    return html.unescape(_TAG.sub(" ", text))


def _pdf_reader(data: bytes) -> PdfReader:
    from pypdf import PdfReader

    # pypdf reports malformed files on its logger; without a handler Python's last-resort
    # handler would print them to stderr in the middle of `sendguard check` output.
    log = logging.getLogger("pypdf")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
    return PdfReader(io.BytesIO(data), strict=False)


def _pdf_locked(reader: PdfReader) -> bool:
    """Encrypted with a real password. An owner-password-only PDF opens for anyone (empty
    user password), protects nothing, and is read like a plain one."""
    from pypdf import PasswordType

    if not reader.is_encrypted:
        return False
    try:
        return reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception:
        return True


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Member name, repairing Japanese names stored without the UTF-8 flag (zipfile reads
    them as CP437; Windows writes CP932, macOS UTF-8)."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name
    for enc in ("utf-8", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return name


def _central_directory_entries(data: bytes) -> int:
    """Entries a ZIP claims, read before zipfile builds an object per entry: the larger
    of the end record's count and the central directory headers actually present."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd < 0 or eocd + 22 > len(data):
        return 0
    declared, cd_size = struct.unpack_from("<H", data, eocd + 10)[0], \
        struct.unpack_from("<I", data, eocd + 12)[0]
    locator = eocd - 20
    if locator >= 0 and data[locator:locator + 4] == b"PK\x06\x07":  # ZIP64
        offset = struct.unpack_from("<Q", data, locator + 8)[0]
        if data[offset:offset + 4] == b"PK\x06\x06" and offset + 56 <= len(data):
            declared = struct.unpack_from("<Q", data, offset + 32)[0]
            cd_size = struct.unpack_from("<Q", data, offset + 40)[0]
        end = offset if data[offset:offset + 4] == b"PK\x06\x06" else locator
    else:
        end = eocd
    present = data.count(b"PK\x01\x02", max(0, end - cd_size), end)
    return max(declared, present)


class _Walker:
    """One attachment's walk: the result so far and the budgets left."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.result = Inspection()
        self.bytes_left = limits.max_total
        self.text_left = limits.max_text

    # -- bookkeeping ----------------------------------------------------------------
    def note(self, code: str, path: str) -> None:
        note = f"{code}:{path}"
        if len(self.result.notes) < MAX_NOTES and note not in self.result.notes:
            self.result.notes.append(note)

    def add_text(self, path: str, text: str) -> None:
        if len(text) > self.text_left:
            text = text[:self.text_left]
            self.note("truncated", path)
        self.text_left -= len(text)
        if text.strip():
            self.result.texts.append((path, text))

    def charge(self, n: int, path: str) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise _Abort("too_large", path)

    # -- dispatch -------------------------------------------------------------------
    def document(self, path: str, content_type: str, data: bytes, depth: int) -> None:
        """Inspect one file: the attachment (depth 0) or an archive member."""
        kind = _kind(path, content_type, data)
        try:
            if kind == "ole":
                if ole_encrypted(data):
                    self.encrypted(path, depth)
                else:
                    self.note("unsupported", path)  # legacy .doc/.xls, .msg, ...
            elif kind == "pdf":
                self.pdf(path, data, depth)
            elif kind == "zip":
                self.zip(path, data, depth)
            elif kind == "text":
                self.text(path, content_type, data)
            else:
                self.note("unsupported", path)
        except _Abort:
            raise
        except Exception:  # corrupt input makes parsers raise anything at all
            self.note("corrupt", path)

    def encrypted(self, path: str, depth: int) -> None:
        if depth == 0:
            self.result.encrypted = True
        else:
            self.note("encrypted_member", path)

    # -- formats --------------------------------------------------------------------
    def text(self, path: str, content_type: str, data: bytes) -> None:
        if len(data) > self.text_left:
            data = data[:self.text_left]  # every character takes at least one byte
            self.note("truncated", path)
        text = decode_text(data)
        if _suffix(path) in HTML_EXTENSIONS or content_type.lower().startswith("text/html"):
            text = _html_text(text)
        self.add_text(path, text)

    def pdf(self, path: str, data: bytes, depth: int) -> None:
        reader = _pdf_reader(data)
        if _pdf_locked(reader):
            self.encrypted(path, depth)
            return
        parts: list[str] = []
        size = 0
        for number, page in enumerate(reader.pages):
            if number >= self.limits.max_pages or size > self.text_left:
                self.note("truncated", path)
                break
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text) + 1
        self.add_text(path, "\n".join(parts))

    def zip(self, path: str, data: bytes, depth: int) -> None:
        if _central_directory_entries(data) > self.limits.max_entries:
            raise _Abort("too_many_entries", path)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > self.limits.max_entries:
                raise _Abort("too_many_entries", path)
            names = {i.filename for i in infos}
            if "[Content_Types].xml" in names:
                if any(n.startswith("xl/") for n in names):
                    self.office(path, zf, infos)
                    self.xlsx(path, data)
                    return
                if any(n.startswith("word/") for n in names):
                    self.office(path, zf, infos)
                    self.docx(path, data)
                    return
                if _suffix(path) != ".zip":
                    self.note("unsupported", path)  # other OOXML: pptx, vsdx, ...
                    return
            self.archive(path, zf, infos, depth)

    def office(self, path: str, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
        """Bound what openpyxl/python-docx will decompress before handing them the file.
        zipfile never returns more than a member's declared size, so declared sizes are a
        real upper bound here; methods other than stored/deflated (whose decompressors
        zipfile does not bound) are refused."""
        for info in infos:
            if info.compress_type not in _ZIP_READABLE or info.flag_bits & 1:
                raise ValueError("unexpected member in an Office file")
            self.ratio_guard(path, info)
        self.charge(sum(i.file_size for i in infos), path)

    def ratio_guard(self, path: str, info: zipfile.ZipInfo) -> None:
        if (info.file_size > self.limits.ratio_floor
                and info.file_size > self.limits.max_ratio * max(info.compress_size, 1)):
            raise _Abort("zip_bomb", path)

    def archive(self, path: str, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                depth: int) -> None:
        """A plain ZIP: list, guard, then read each member. Encrypted means every file
        member carries the ZIP encryption flag (ZipCrypto or WinZip AES alike)."""
        if depth >= self.limits.max_depth:
            self.note("too_deep", path)
            return
        files = [i for i in infos if not i.is_dir()]
        for info in files:
            self.ratio_guard(path, info)
        locked = 0
        for info in files:
            member = f"{path}/{_zip_name(info)}"
            self.result.members.append(member)
            if info.flag_bits & 1:
                self.note("encrypted_member", member)
                locked += 1
                continue
            if info.compress_type not in _ZIP_READABLE:
                self.note("unsupported", member)
                continue
            try:
                content = self.read_member(zf, info, path, member)
            except _Abort:
                raise
            except Exception:  # truncated data, bad CRC, lying sizes
                self.note("corrupt", member)
                continue
            if content is not None:
                self.document(member, "", content, depth + 1)
        if files and locked == len(files) and depth == 0:
            self.result.encrypted = True

    def read_member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: str,
                    member: str) -> bytes | None:
        """A member's bytes if it is worth parsing, streamed and counted as produced."""
        kind = _kind(member, "", b"")
        if kind == "unsupported":  # unknown extension: sniff the start first
            with zf.open(info) as fh:
                head = fh.read(_SNIFF)
            self.charge(len(head), archive)
            kind = _kind(member, "", head)
            if kind == "unsupported":
                self.note("unsupported", member)
                return None
        cap = self.bytes_left + 1  # one byte over the budget raises too_large
        if kind == "text":
            cap = min(cap, self.text_left + 1)  # one byte over notes the truncation
        out = bytearray()
        bound = max(self.limits.ratio_floor, self.limits.max_ratio * max(info.compress_size, 1))
        with zf.open(info) as fh:
            while len(out) < cap:
                chunk = fh.read(min(_CHUNK, cap - len(out)))
                if not chunk:
                    break
                out += chunk
                if len(out) > bound:  # more than the ratio allows, whatever the headers say
                    raise _Abort("zip_bomb", archive)
                self.charge(len(chunk), archive)
        return bytes(out)

    def xlsx(self, path: str, data: bytes) -> None:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True,
                                    keep_links=False)
        try:
            lines = list(self._sheet_lines(path, wb.worksheets))
        finally:
            wb.close()
        self.add_text(path, "\n".join(lines))

    def _sheet_lines(self, path: str, sheets: Sequence[Any]) -> Iterator[str]:
        """Cell values, tab-separated by row, until the cell or text budget runs out."""
        cells = 0
        size = 0
        for ws in sheets:
            reset = getattr(ws, "reset_dimensions", None)
            if reset is not None:
                reset()  # a forged <dimension> must not make openpyxl pad rows for us
            for row in ws.iter_rows(values_only=True):
                cells += max(1, len(row))
                if cells > self.limits.max_cells or size > self.text_left:
                    self.note("truncated", path)
                    return
                line = "\t".join(str(v) for v in row if v is not None)
                if line:
                    size += len(line) + 1
                    yield line

    def docx(self, path: str, data: bytes) -> None:
        from docx.opc.package import OpcPackage
        from docx.oxml import parse_xml
        from docx.oxml.ns import qn

        package = OpcPackage.open(io.BytesIO(data))
        # w:delText: text deleted with track changes on is still in the file, and sent
        t, deleted = qn("w:t"), qn("w:delText")
        tab, br, cr, p = qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:p")
        out: list[str] = []
        for part in package.iter_parts():
            if not _DOCX_PART.match(str(part.partname)):
                continue
            element = getattr(part, "element", None)
            if element is None:
                element = parse_xml(part.blob)
            for el in element.iter(t, deleted, tab, br, cr, p):
                if el.tag in (t, deleted):
                    out.append(el.text or "")
                elif el.tag == tab:
                    out.append("\t")
                else:
                    out.append("\n")
        self.add_text(path, "".join(out))
