"""Attachment text and facts for the content checks (SPEC section 2: ``personal_data``,
``unencrypted_attachment``, ``blocked_attachment``).

Attachments come from strangers' mailboxes as often as from our users, so everything here
is defensive: ZIP members are streamed from memory (never extracted to disk) counting the
bytes really produced, archive depth, entry count, compression ratio, total size, cells,
pages, rows and text are bounded, every loop watches the analysis deadline, and any parser
failure becomes a machine-readable note. A zip bomb, a corrupt file or binary garbage gives
an Inspection without findings plus a note; a file cut short by a limit or the deadline
keeps what was read (``partial``: personal-data counts are then a lower bound).
``inspect_attachment`` never raises.

Readers, chosen by measurement (benchmarks/bench_attachments.py): PDFium (pypdfium2) for
PDF text, calamine (python-calamine) for spreadsheets, and for DOCX a streamed tag strip
of the document parts, which keeps memory flat however large the file. pypdf is only used
to look at a PDF's structure (encryption; pages sharing one content stream; how large a
page's content inflates to) before PDFium is asked for any text.
"""

from __future__ import annotations

import codecs
import html
import io
import logging
import re
import struct
import threading
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.policy.deadline import Deadline
from service.policy.personal_data import PersonalData, scan_text

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

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
# Streamed XML to text: element ends that break a line, then every tag removed.
_XML_TAG = re.compile(rb"<[^<>]*>")
_DOCX_BREAKS = ((b"</w:p>", b"\n"), (b"<w:tab/>", b"\t"), (b"<w:br/>", b"\n"),
                (b"<w:cr/>", b"\n"), (b"</a:p>", b"\n"))
_SHEET_BREAKS = ((b"</row>", b"\n"), (b"</si>", b"\n"), (b"</c>", b"\t"))
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
    max_cells: int = 5_000_000         # spreadsheet cells per workbook (calamine: ~1 s/M)
    max_sheet_xml: int = 32 * 1024 * 1024  # sheet XML calamine loads whole (~0.6 s, ~50 MB)
    max_pages: int = 1000              # PDF pages per document (PDFium: ~2 ms a page)
    max_page_content: int = 512 * 1024  # inflated content of one PDF page (PDFium keeps
    #                                     ~300 bytes a character: 512 KB of text ops ~ 100 MB)
    ratio_floor: int = 1024 * 1024     # entries smaller than this never trip the ratio guard
    # Distinct personal-data items after which reading stops: the finding then says "at
    # least N". A 20 MB customer list is a customer list after its first rows; reading and
    # scanning the rest (seconds) would change only the number.
    enough: int = 1000


NO_DEADLINE = Deadline()
# Notes that mean "part of this file was not read": the attachment was not fully checked.
PARTIAL_NOTES = frozenset({"truncated", "too_large", "deadline", "too_many_entries",
                           "zip_bomb", "too_deep", "corrupt"})
_PDFIUM = threading.Lock()  # PDFium is not thread-safe: one document at a time per process


@dataclass
class Inspection:
    texts: list[tuple[str, str]] = field(default_factory=list)  # (path, text)
    members: list[str] = field(default_factory=list)  # every file name seen inside archives
    encrypted: bool = False  # the attachment itself is encrypted
    notes: list[str] = field(default_factory=list)  # "code:path"
    # Personal data found in ``texts``, scanned as they were read (so reading can stop
    # once there is plenty); None for an Inspection made elsewhere (then scan ``texts``).
    found: PersonalData | None = None

    @property
    def enough(self) -> bool:
        """Reading stopped early because ``Limits.enough`` items were found already."""
        return any(n.startswith("enough:") for n in self.notes)

    @property
    def partial(self) -> bool:
        """Part of the file was not read (a limit, the deadline, damage): what was found
        is a lower bound and the attachment was not fully checked."""
        return any(n.partition(":")[0] in PARTIAL_NOTES for n in self.notes)


class _Abort(Exception):
    """Stop inspecting this attachment: its result must be finding-free."""

    def __init__(self, code: str, path: str) -> None:
        super().__init__(f"{code}:{path}")
        self.note = f"{code}:{path}"


def inspect_attachment(filename: str, content_type: str, data: bytes,
                       limits: Limits = Limits(), deadline: Deadline = NO_DEADLINE
                       ) -> Inspection:
    """Texts, archive member names, encryption and notes of one attachment. Never raises.

    A zip bomb voids the whole attachment (nothing it holds is trusted); running out of
    bytes or time keeps what was read, with a note saying so."""
    walker = _Walker(limits, deadline)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            walker.document(filename, content_type, data, depth=0)
    except _Abort as abort:
        if abort.note.startswith("zip_bomb:"):
            return Inspection(notes=[*walker.result.notes, abort.note][-MAX_NOTES:])
        walker.note(*abort.note.split(":", 1))
    except (MemoryError, RecursionError):
        walker.note("too_large", filename)
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


_SCRIPT_END = {"script": re.compile(r"</script\s*>", re.I),
               "style": re.compile(r"</style\s*>", re.I)}
_RAW_START = re.compile(r"<(script|style)(?=[\s>/])", re.I)


def html_text(markup: str) -> str:
    """Visible text of HTML: tags become spaces, script/style/comments go, entities are
    decoded. One pass, linear in the input: every search starts where the last ended,
    and a search that fails is never repeated (an unclosed ``<`` or ``<script`` leaves
    the rest as text, as a browser would show it)."""
    out: list[str] = []
    pos, n = 0, len(markup)
    unclosed: set[str] = set()   # raw-text elements with no end tag left in the input
    while pos < n:
        lt = markup.find("<", pos)
        if lt < 0:
            break
        out.append(markup[pos:lt])
        if markup.startswith("<!--", lt):
            end = markup.find("-->", lt + 4)
            if end < 0:
                pos = n
                break
            out.append(" ")
            pos = end + 3
            continue
        gt = markup.find(">", lt + 1)
        if gt < 0:   # no tag can close after this point: the rest is text
            pos = lt
            break
        out.append(" ")
        pos = gt + 1
        raw = _RAW_START.match(markup, lt, gt + 1)
        if raw:
            name = raw.group(1).lower()
            if name in unclosed:
                continue
            end_tag = _SCRIPT_END[name].search(markup, pos)
            if end_tag is None:
                unclosed.add(name)
                continue
            pos = end_tag.end()
    out.append(markup[pos:])
    return html.unescape("".join(out))


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
    declared: int = struct.unpack_from("<H", data, eocd + 10)[0]
    cd_size: int = struct.unpack_from("<I", data, eocd + 12)[0]
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

    def __init__(self, limits: Limits, deadline: Deadline = NO_DEADLINE) -> None:
        self.limits = limits
        self.deadline = deadline
        self.result = Inspection(found=PersonalData())
        self.bytes_left = limits.max_total
        self.text_left = limits.max_text
        self.satisfied = False   # enough personal data found: read no further

    # -- bookkeeping ----------------------------------------------------------------
    def note(self, code: str, path: str) -> None:
        note = f"{code}:{path}"
        if len(self.result.notes) < MAX_NOTES and note not in self.result.notes:
            self.result.notes.append(note)

    def add_text(self, path: str, text: str) -> None:
        text = self.scan(path, text)
        if text.strip():
            self.result.texts.append((path, text))

    def scan(self, path: str, text: str) -> str:
        """Scan ``text`` for personal data as it is read, in chunks cut at line ends; stop
        at the text budget, the deadline, or once ``enough`` items were found. Returns the
        part that was scanned (and is kept)."""
        if self.satisfied:
            return ""
        if len(text) > self.text_left:
            text = text[:self.text_left]
            self.note("truncated", path)
        pos = 0
        while pos < len(text):
            if not self.in_time(path):
                break
            end = pos + _SCAN_STEP
            if end < len(text):
                cut = text.rfind("\n", pos, end)
                end = cut + 1 if cut > pos else end
            assert self.result.found is not None
            self.result.found.merge(scan_text(text[pos:end]))
            pos = min(end, len(text))
            if self.result.found.total >= self.limits.enough:
                self.note("enough", path)
                self.satisfied = True
                break
        text = text[:pos]
        self.text_left -= len(text)
        return text

    def charge(self, n: int, path: str) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise _Abort("too_large", path)

    def in_time(self, path: str) -> bool:
        """False (with a note) once the deadline has passed: stop reading, keep the rest.
        Also False, quietly, once enough personal data was found."""
        if self.satisfied:
            return False
        if self.deadline.expired():
            self.note("deadline", path)
            return False
        return True

    # -- dispatch -------------------------------------------------------------------
    def document(self, path: str, content_type: str, data: bytes, depth: int) -> None:
        """Inspect one file: the attachment (depth 0) or an archive member."""
        if not self.in_time(path):
            return
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
        except (MemoryError, RecursionError):
            self.note("too_large", path)
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
            text = html_text(text)
        self.add_text(path, text)

    def pdf(self, path: str, data: bytes, depth: int) -> None:
        """Text of each page by PDFium, after pypdf has looked at the page tree: a page
        whose content streams and resources are those of a page already read would give
        the same text again and is skipped (a 35 KB file can point 200 pages at one
        stream that inflates to megabytes); a page whose content inflates beyond
        ``max_page_content`` is not handed to PDFium at all."""
        reader = _pdf_reader(data)
        if _pdf_locked(reader):
            self.encrypted(path, depth)
            return
        plan: list[int] = []
        seen: set[tuple[Any, ...]] = set()
        inflated: dict[Any, int] = {}
        for number, page in enumerate(reader.pages):
            if number >= self.limits.max_pages:
                self.note("truncated", path)
                break
            if not self.in_time(path):
                break
            key, streams = _page_key(page)
            if key in seen:
                continue
            seen.add(key)
            size = 0
            for ref, stream in streams:
                if ref not in inflated:
                    inflated[ref] = _inflated_size(stream, self.limits.max_page_content + 1)
                size += inflated[ref]
            if size > self.limits.max_page_content:
                self.note("truncated", path)
                continue
            plan.append(number)
        del reader
        parts: list[str] = []
        size = 0
        with _PDFIUM:
            import pypdfium2

            doc = pypdfium2.PdfDocument(data)
            try:
                for number in plan:
                    if size > self.text_left:
                        self.note("truncated", path)
                        break
                    if not self.in_time(path):
                        break
                    page = doc[number]
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_bounded() or ""
                    finally:
                        textpage.close()
                        page.close()
                    parts.append(text)
                    size += len(text) + 1
            finally:
                doc.close()
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
                    self.office(path, infos)
                    self.xlsx(path, data, zf, infos)
                    return
                if any(n.startswith("word/") for n in names):
                    self.office(path, infos)
                    self.docx(path, zf, infos)
                    return
                if _suffix(path) != ".zip":
                    self.note("unsupported", path)  # other OOXML: pptx, vsdx, ...
                    return
            self.archive(path, zf, infos, depth)

    def office(self, path: str, infos: list[zipfile.ZipInfo]) -> None:
        """Guard an Office package before any reader sees it. zipfile never returns more
        than a member's declared size, so declared sizes are a real upper bound here;
        methods other than stored/deflated (whose decompressors zipfile does not bound)
        are refused."""
        for info in infos:
            if info.compress_type not in _ZIP_READABLE or info.flag_bits & 1:
                raise ValueError("unexpected member in an Office file")
            self.ratio_guard(path, info)

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
            if not self.in_time(path):
                continue   # names are still listed (blocked extensions), contents not read
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

    def xlsx(self, path: str, data: bytes, zf: zipfile.ZipFile,
             infos: list[zipfile.ZipInfo]) -> None:
        """calamine reads a whole sheet at once (fast, ~1.5x the sheet XML in memory), so
        it gets workbooks whose sheet XML fits ``max_sheet_xml``; a larger one is read
        as a stream of its XML with the tags stripped (shared strings first), as far as
        bytes and time allow or until enough personal data was found — measured on a
        20 MB customer list: calamine 3.4 s CPU to load, the stream stops in ~0.1 s."""
        sheets = sum(i.file_size for i in infos
                     if i.filename.startswith(("xl/worksheets/", "xl/sharedStrings")))
        if sheets > self.limits.max_sheet_xml:
            parts = [i for i in infos if i.filename.startswith("xl/sharedStrings")]
            parts += [i for i in infos if i.filename.startswith("xl/worksheets/")
                      and i.filename.endswith(".xml")]
            self.xml_text(path, zf, parts, _SHEET_BREAKS)
            return
        import python_calamine

        self.add_text(path, "\n".join(self._sheet_lines(path, python_calamine, data)))

    def _sheet_lines(self, path: str, calamine: Any, data: bytes) -> Iterator[str]:
        """Cell values, tab-separated by row, until the cell, text or time budget runs out."""
        cells = 0
        size = 0
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            for index in range(len(workbook.sheet_names)):
                if not self.in_time(path):
                    return
                sheet = workbook.get_sheet_by_index(index)
                for number, row in enumerate(sheet.iter_rows()):
                    cells += max(1, len(row))
                    if cells > self.limits.max_cells or size > self.text_left:
                        self.note("truncated", path)
                        return
                    if number % 1024 == 1023 and not self.in_time(path):
                        return
                    line = "\t".join(_cell(v) for v in row if v != "" and v is not None)
                    if line:
                        size += len(line) + 1
                        yield line
        finally:
            workbook.close()

    def docx(self, path: str, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
        """The text of the document parts (body, headers, footers, notes, comments),
        deleted tracked changes included: text deleted with track changes on is still in
        the file, and sent."""
        parts = [i for i in infos if _DOCX_PART.match("/" + i.filename)]
        self.xml_text(path, zf, parts, _DOCX_BREAKS)

    def xml_text(self, path: str, zf: zipfile.ZipFile, parts: list[zipfile.ZipInfo],
                 breaks: tuple[tuple[bytes, bytes], ...]) -> None:
        """Text of XML members read as a stream: the given element ends become line
        breaks or tabs, every other tag goes, entities are decoded. Memory stays at one
        chunk; bytes and time are charged as read, and what was read is kept."""
        out: list[str] = []
        try:
            for info in parts:
                carry = b""
                with zf.open(info) as fh:
                    while True:
                        if not self.in_time(path):
                            return
                        chunk = fh.read(_XML_CHUNK)
                        if not chunk:
                            break
                        self.charge(len(chunk), path)
                        block = carry + chunk
                        cut = block.rfind(b">") + 1
                        block, carry = block[:cut], block[cut:]
                        if len(carry) > _XML_CHUNK:  # no tag ends in a whole chunk: not XML
                            raise ValueError("not XML")
                        for tag, repl in breaks:
                            block = block.replace(tag, repl)
                        text = html.unescape(_decode(_XML_TAG.sub(b"", block), "utf-8"))
                        kept = self.scan(path, text)
                        out.append(kept)
                        if len(kept) < len(text) or self.satisfied:
                            return
                out.append("\n")
        except _Abort as abort:   # out of bytes: keep what was read
            self.note(*abort.note.split(":", 1))
        finally:
            joined = "".join(out)
            if joined.strip():
                self.result.texts.append((path, joined))


_XML_CHUNK = 1024 * 1024
_SCAN_STEP = 64 * 1024   # characters scanned between looks at the deadline and the count


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))   # calamine gives numbers as floats: 42.0 is "42"
    return str(value)


def _page_key(page: PageObject) -> tuple[tuple[Any, ...], list[tuple[Any, Any]]]:
    """What determines a page's text: its content streams and resources (by object
    identity), and those streams as (key, stream) pairs."""
    from pypdf.generic import ArrayObject, IndirectObject

    def ident(obj: Any) -> Any:
        return (obj.idnum, obj.generation) if isinstance(obj, IndirectObject) else id(obj)

    contents = page.raw_get("/Contents") if "/Contents" in page else None
    refs: list[Any] = []
    if isinstance(contents, IndirectObject):
        resolved = contents.get_object()
        refs = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    elif isinstance(contents, ArrayObject):
        refs = list(contents)
    elif contents is not None:
        refs = [contents]
    resources = page.raw_get("/Resources") if "/Resources" in page else None
    if isinstance(resources, IndirectObject) or resources is None:
        res_key: Any = ident(resources) if resources is not None else None
    else:   # a direct dictionary repeated in each page: equal when it says the same
        text = repr(resources)
        res_key = text if len(text) <= 65536 else id(resources)
    key = (tuple(ident(r) for r in refs), res_key)
    return key, [(ident(r), r.get_object() if isinstance(r, IndirectObject) else r)
                 for r in refs]


def _inflated_size(stream: Any, cap: int) -> int:
    """Bytes a content stream inflates to, counted up to ``cap`` without keeping them:
    Flate is inflated in bounded steps; other filters count their encoded size (they
    expand far less, and PDFium still meets the page and time limits)."""
    raw = getattr(stream, "_data", b"") or b""
    filters = stream.get("/Filter") if hasattr(stream, "get") else None
    if isinstance(filters, list) and len(filters) == 1:
        filters = filters[0]
    if filters != "/FlateDecode":
        return len(raw)
    inflater = zlib.decompressobj()
    total = 0
    data = bytes(raw)
    while data and total < cap:
        piece = inflater.decompress(data, 64 * 1024)
        total += len(piece)
        data = inflater.unconsumed_tail
        if not piece and not data:
            break
    return total
