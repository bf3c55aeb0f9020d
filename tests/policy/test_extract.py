"""Attachment inspection with real files built here by the libraries that write them
(openpyxl, python-docx, reportlab, pypdf, zipfile, pyzipper): text from every supported
type with Japanese content, archives within and over their limits, zip bombs, corrupt and
truncated files, encrypted ones. Every bad input must give a note, never an exception."""

from __future__ import annotations

import io
import os
import random
import shutil
import struct
import subprocess
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import openpyxl
import pytest
import pyzipper
from pypdf import PdfReader, PdfWriter

from service.policy.extract import (
    MAX_NOTES,
    Inspection,
    Limits,
    blocked_name,
    decode_text,
    inspect_attachment,
    is_encrypted,
    ole_encrypted,
)
from service.policy.personal_data import scan_text
from tests.support.parts import in_ci, unavailable

JA = ("氏名,メール,電話\n"
      "山田太郎,taro@example.co.jp,03-1234-5678\n"
      "佐藤花子,hanako@example.co.jp,090-1234-5678\n")
JA_COUNTS = {"emails": 2, "phones": 2, "my_numbers": 0, "cards": 0}
RNG = random.Random(20240115)  # garbage, but the same garbage on every run


# --- fixture builders ---------------------------------------------------------------

def zip_bytes(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]] | None = None) -> bytes:
    sheets = sheets or {"名簿": [["氏名", "メール", "電話"],
                                 ["山田太郎", "taro@example.co.jp", "03-1234-5678"],
                                 [None, 42, 3.5]],
                        "二枚目": [["佐藤花子", "hanako@example.co.jp", "090-1234-5678"]]}
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def docx_bytes() -> bytes:
    d = docx.Document()
    d.add_paragraph("社員名簿（社外秘）")
    d.add_paragraph("山田太郎 taro@example.co.jp")
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "電話"
    table.cell(0, 1).text = "03-1234-5678"
    d.sections[0].header.paragraphs[0].text = "ヘッダ hanako@example.co.jp"
    d.sections[0].footer.paragraphs[0].text = "フッタ 090-1234-5678"
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def docx_with_tracked_deletion() -> bytes:
    """A paragraph whose e-mail address was deleted with track changes on."""
    from docx.oxml import parse_xml

    d = docx.Document()
    para = d.add_paragraph("削除済み: ")
    para._p.append(parse_xml(
        '<w:del xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'w:id="1" w:author="x" w:date="2024-01-15T00:00:00Z"><w:r>'
        "<w:delText>deleted@example.co.jp</w:delText></w:r></w:del>"))
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def pdf_bytes(pages: list[list[str]] | None = None) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pages = pages or [["社員名簿", "山田太郎 taro@example.co.jp 03-1234-5678"],
                      ["佐藤花子 hanako@example.co.jp 090-1234-5678"]]
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for lines in pages:
        c.setFont("HeiseiKakuGo-W5", 12)
        for n, line in enumerate(lines):
            c.drawString(50, 800 - 20 * n, line)
        c.showPage()
    c.save()
    return out.getvalue()


def encrypt_pdf(data: bytes, user: str, owner: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def aes_zip(entries: list[tuple[str, bytes]], password: bytes = b"s3cret-pass") -> bytes:
    out = io.BytesIO()
    with pyzipper.AESZipFile(out, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(password)
        for name, data in entries:
            zf.writestr(name, data)
    return out.getvalue()


def nest(levels: int, leaf: list[tuple[str, bytes]]) -> bytes:
    """levels=1: a.zip holding leaf; 2: a.zip/b.zip holding leaf; and so on."""
    names = "abcdefgh"
    data = zip_bytes(leaf)
    for i in range(levels - 1, 0, -1):
        data = zip_bytes([(f"{names[i]}.zip", data)])
    return data


def zeros_zip(name: str, size: int) -> bytes:
    """A real deflated entry of ``size`` zero bytes, written in chunks (memory stays small)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open(name, "w", force_zip64=size > 0xFFFFFFFF) as fh:
        chunk = b"\0" * (1 << 20)
        for _ in range(size // len(chunk)):
            fh.write(chunk)
    return out.getvalue()


def set_declared_size(data: bytes, size: int) -> bytes:
    """Make every header of a one-entry ZIP lie about the uncompressed size."""
    buf = bytearray(data)
    local = buf.find(b"PK\x03\x04")
    central = buf.find(b"PK\x01\x02")
    struct.pack_into("<I", buf, local + 22, size)
    struct.pack_into("<I", buf, central + 24, size)
    return bytes(buf)


def cp932_named_zip(name: str, data: bytes) -> bytes:
    """A ZIP whose member name is CP932 bytes without the UTF-8 flag, as Windows writes."""
    raw = name.encode("cp932")
    placeholder = b"X" * len(raw)
    built = zip_bytes([(placeholder.decode(), data)])
    assert built.count(placeholder) == 2
    return built.replace(placeholder, raw)


def cfb(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file (MS-CFB), the container of password-protected Office
    files, with each stream in regular 512-byte sectors (7-Zip lists it)."""
    end, fat_sect, free, none = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF
    names = list(streams)
    datas = [streams[n].ljust(4096, b"\0") for n in names]  # >= cutoff: no mini stream
    fat = [fat_sect, end]
    starts = []
    for d in datas:
        starts.append(len(fat))
        fat.extend(range(len(fat) + 1, len(fat) + len(d) // 512))
        fat.append(end)
    fat += [free] * (128 - len(fat))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<9I", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        e = bytearray(128)
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, none, right, child)
        struct.pack_into("<IQ", e, 116, start, size)
        return bytes(e)

    order = sorted(range(len(names)), key=lambda i: (len(names[i]), names[i].upper()))
    entries = [entry("Root Entry", 5, none, 1, end, 0)]
    for pos, i in enumerate(order):
        right = pos + 2 if pos + 1 < len(order) else none
        entries.append(entry(names[i], 2, right, none, starts[i], len(datas[i])))
    entries += [entry("", 0, none, none, 0, 0)] * (4 - len(entries))
    return bytes(header) + struct.pack("<128I", *fat) + b"".join(entries) + b"".join(datas)


ENCRYPTED_OFFICE = {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"\x01" * 200,
                    "EncryptedPackage": RNG.randbytes(3000)}


def counts(ins: Inspection) -> dict[str, int]:
    found = scan_text("")
    for _path, text in ins.texts:
        found.merge(scan_text(text))
    return found.summary()


def finding_free(ins: Inspection) -> bool:
    return not ins.texts and not ins.members and not ins.encrypted


# --- text files ----------------------------------------------------------------------

TEXT_NAMES = ["meibo.csv", "名簿.txt", "list.tsv", "notes.md", "data.json", "data.xml",
              "page.html"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp932", "shift_jis", "euc_jp", "iso2022_jp"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("filename", TEXT_NAMES)
def test_text_files_in_japanese_encodings(filename: str, encoding: str) -> None:
    content = JA.replace(",", "\t") if filename.endswith(".tsv") else JA
    if filename.endswith(".html"):
        content = "<html><body><p>" + content.replace("\n", "</p><p>") + "</p></body></html>"
    ins = inspect_attachment(filename, "application/octet-stream", content.encode(encoding))
    assert ins.notes == []
    assert [p for p, _ in ins.texts] == [filename]
    assert "山田太郎" in ins.texts[0][1] and "佐藤花子" in ins.texts[0][1]
    assert counts(ins) == JA_COUNTS


def test_html_entities_and_tags_are_resolved() -> None:
    page = '<p>連絡先 <a href="mailto:x">taro&#64;example.co.jp</a> 03&#8209;1234&#8209;5678</p>'
    ins = inspect_attachment("mail.html", "text/html", page.encode("cp932"))
    assert counts(ins) == {"emails": 1, "phones": 1, "my_numbers": 0, "cards": 0}
    assert "<a" not in ins.texts[0][1]


@pytest.mark.parametrize(("data", "expected"), [
    (JA.encode("utf-8"), JA),
    (JA.encode("utf-8-sig"), JA),
    (JA.encode("utf-16-le").join([b"\xff\xfe", b""]), JA),
    (JA.encode("utf-16-be").join([b"\xfe\xff", b""]), JA),
    (JA.encode("utf-32"), JA),
    (JA.encode("cp932"), JA),
    (("①②③ ㈱ﾃｽﾄ " + JA).encode("cp932"), "①②③ ㈱ﾃｽﾄ " + JA),  # CP932-only characters
    (JA.encode("euc_jp"), JA),
    (JA.encode("iso2022_jp"), JA),
    ("山田".encode("cp932") + b"\x81", "山田"),      # a character cut by a size limit
    ("山田".encode() + b"\xe5\xb1", "山田"),
    ((JA * 5).encode("utf-16-le"), JA * 5),
    ((JA * 5).encode("utf-16-be"), JA * 5),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf32", "cp932", "cp932-only",
        "euc-jp", "iso-2022-jp", "cp932-cut", "utf8-cut", "utf16le-no-bom", "utf16be-no-bom"])
def test_decode_text(data: bytes, expected: str) -> None:
    assert decode_text(data) == expected


def test_other_single_byte_text_keeps_its_ascii() -> None:
    """Neither UTF-8 nor Japanese: charset-normalizer guesses; the ASCII that addresses
    and numbers are made of survives whatever it guesses."""
    text = decode_text("Müller, café, tel 03-1234-5678, info@example.de\n".encode("cp1252") * 20)
    assert scan_text(text).summary() == {"emails": 1, "phones": 1, "my_numbers": 0, "cards": 0}


@pytest.mark.parametrize("data", [bytes(range(256)) * 64, RNG.randbytes(100_000),
                                  b"\xff\xfe\x00", b"\x1b$B\xff\xff", b""],
                         ids=["all-bytes", "random", "odd-utf16", "broken-jis", "empty"])
def test_decode_text_never_raises(data: bytes) -> None:
    assert isinstance(decode_text(data), str)


# --- Office and PDF --------------------------------------------------------------------

DOCS: list[tuple[str, Callable[[], bytes], list[str]]] = [
    ("名簿.xlsx", xlsx_bytes, ["山田太郎", "佐藤花子", "42"]),
    ("名簿.docx", docx_bytes, ["社員名簿", "ヘッダ", "フッタ", "電話\n03-1234-5678"]),
    ("名簿.pdf", pdf_bytes, ["社員名簿", "山田太郎", "佐藤花子"]),
]


@pytest.mark.parametrize(("filename", "build", "words"), DOCS, ids=["xlsx", "docx", "pdf"])
def test_documents_give_their_text(filename: str, build: Callable[[], bytes],
                                   words: list[str]) -> None:
    ins = inspect_attachment(filename, "application/octet-stream", build())
    assert ins.notes == [] and not ins.encrypted
    [(path, text)] = ins.texts
    assert path == filename
    for word in words:
        assert word in text
    assert counts(ins) == JA_COUNTS


@pytest.mark.parametrize(("filename", "build"), [
    ("report.dat", xlsx_bytes), ("attachment", docx_bytes), ("scan", pdf_bytes),
    ("renamed.zip", xlsx_bytes), ("old-name.xls", docx_bytes),
], ids=["xlsx-as-dat", "docx-no-extension", "pdf-no-extension", "xlsx-as-zip",
        "docx-as-xls"])
def test_type_detected_by_content(filename: str, build: Callable[[], bytes]) -> None:
    ins = inspect_attachment(filename, "application/octet-stream", build())
    assert counts(ins) == JA_COUNTS
    assert ins.members == []  # an Office file is not listed as an archive


def test_docx_tracked_deletions_are_read() -> None:
    ins = inspect_attachment("draft.docx", "", docx_with_tracked_deletion())
    assert counts(ins)["emails"] == 1
    assert "deleted@example.co.jp" not in "".join(docx.Document(io.BytesIO(
        docx_with_tracked_deletion())).paragraphs[0].text)  # invisible to python-docx's API


def test_xlsm_with_macros_content_type_is_read() -> None:
    data = xlsx_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = [(i.filename, src.read(i)) for i in src.infolist()]
    xlsx_type = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    xlsm_type = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    parts = [(n, d.replace(xlsx_type, xlsm_type) if n == "[Content_Types].xml" else d)
             for n, d in parts]
    assert any(xlsm_type in d for _, d in parts)
    ins = inspect_attachment("macro.xlsm", "", zip_bytes(parts))
    assert counts(ins) == JA_COUNTS


def test_unknown_extension_text_is_sniffed() -> None:
    ins = inspect_attachment("export", "application/octet-stream", JA.encode("cp932"))
    assert counts(ins) == JA_COUNTS


@pytest.mark.parametrize(("filename", "data"), [
    ("photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + RNG.randbytes(2000)),
    ("setup.exe", b"MZ\x90\0\x03\0\0\0" + RNG.randbytes(2000)),
    ("legacy.xls", cfb({"Workbook": b"\x09\x08" + RNG.randbytes(1000)})),
    ("slides.pptx", zip_bytes([("[Content_Types].xml", b"<Types/>"),
                               ("ppt/slides/slide1.xml", b"<p:sld/>")])),
], ids=["png", "exe", "legacy-xls", "pptx"])
def test_unsupported_types_are_noted(filename: str, data: bytes) -> None:
    ins = inspect_attachment(filename, "application/octet-stream", data)
    assert ins.texts == [] and not ins.encrypted
    assert ins.notes == [f"unsupported:{filename}"]


def test_parser_warnings_do_not_leak() -> None:
    """openpyxl warns about sheet extensions it drops; with filterwarnings=error a leaked
    warning would fail the caller."""
    data = xlsx_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = [(i.filename, src.read(i)) for i in src.infolist()]
    ext = b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"/></extLst></worksheet>'
    parts = [(n, d.replace(b"</worksheet>", ext) if n.startswith("xl/worksheets/") else d)
             for n, d in parts]
    noisy = zip_bytes(parts)
    with pytest.warns(UserWarning, match="extension is not supported"):  # the real parser warns
        wb = openpyxl.load_workbook(io.BytesIO(noisy), read_only=True)
        for ws in wb.worksheets:
            list(ws.iter_rows(values_only=True))
        wb.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ins = inspect_attachment("noisy.xlsx", "", noisy)
    assert caught == []
    assert counts(ins) == JA_COUNTS


# --- archives -------------------------------------------------------------------------

def test_zip_is_read_recursively_with_paths() -> None:
    inner = zip_bytes([("w.csv", "鈴木一郎,ichiro@example.co.jp,080-1111-2222\n".encode("cp932")),
                       ("tools/evil.exe", b"MZ\x90\0")])
    outer = zip_bytes([("社員名簿.csv", JA.encode("cp932")), ("名簿.xlsx", xlsx_bytes()),
                       ("文書.docx", docx_bytes()), ("資料.pdf", pdf_bytes()),
                       ("inner.zip", inner), ("run.exe", b"MZ\x90\0\x03"), ("dir/", b"")])
    ins = inspect_attachment("outer.zip", "application/zip", outer)
    assert [p for p, _ in ins.texts] == ["outer.zip/社員名簿.csv", "outer.zip/名簿.xlsx",
                                         "outer.zip/文書.docx", "outer.zip/資料.pdf",
                                         "outer.zip/inner.zip/w.csv"]
    assert ins.members == ["outer.zip/社員名簿.csv", "outer.zip/名簿.xlsx", "outer.zip/文書.docx",
                           "outer.zip/資料.pdf", "outer.zip/inner.zip",
                           "outer.zip/inner.zip/w.csv", "outer.zip/inner.zip/tools/evil.exe",
                           "outer.zip/run.exe"]
    assert ins.notes == ["unsupported:outer.zip/inner.zip/tools/evil.exe",
                         "unsupported:outer.zip/run.exe"]
    assert not ins.encrypted
    assert counts(ins) == {"emails": 3, "phones": 3, "my_numbers": 0, "cards": 0}


@pytest.mark.parametrize(("levels", "limits", "leaf_path", "note"), [
    (1, Limits(), "a.zip/x.csv", None),
    (2, Limits(), "a.zip/b.zip/x.csv", None),
    (3, Limits(), None, "too_deep:a.zip/b.zip/c.zip"),
    (3, Limits(max_depth=3), "a.zip/b.zip/c.zip/x.csv", None),
    (2, Limits(max_depth=1), None, "too_deep:a.zip/b.zip"),
], ids=["depth-1", "depth-2-limit", "depth-3-over", "depth-3-raised-limit", "depth-2-lowered"])
def test_nesting_depth(levels: int, limits: Limits, leaf_path: str | None,
                       note: str | None) -> None:
    ins = inspect_attachment("a.zip", "", nest(levels, [("x.csv", JA.encode())]), limits)
    assert [p for p, _ in ins.texts] == ([leaf_path] if leaf_path else [])
    assert ins.notes == ([note] if note else [])


def test_42_zip_style_fan_out_is_bounded() -> None:
    leaf = zeros_zip("0.dat", 4 << 20)  # 4 MB of zeros: a bomb, but one level too deep
    level2 = zip_bytes([(f"book{i}.zip", leaf) for i in range(16)], zipfile.ZIP_STORED)
    level1 = zip_bytes([(f"lib{i}.zip", level2) for i in range(16)], zipfile.ZIP_STORED)
    started = time.process_time()     # CPU, so a loaded machine does not fail it
    ins = inspect_attachment("42.zip", "", level1)
    elapsed = time.process_time() - started
    assert ins.texts == [] and not ins.encrypted
    assert ins.notes[0] == "too_deep:42.zip/lib0.zip/book0.zip"
    assert len(ins.notes) == MAX_NOTES  # 256 too-deep archives, notes capped
    assert all(n.startswith("too_deep:42.zip/lib") for n in ins.notes)
    assert elapsed < 5


def test_members_without_extension_are_sniffed() -> None:
    data = zip_bytes([("export", xlsx_bytes()), ("README", "連絡先 info@example.co.jp".encode()),
                      ("blob", b"\0\1\2\3" * 100)])
    ins = inspect_attachment("x.zip", "", data)
    assert [p for p, _ in ins.texts] == ["x.zip/export", "x.zip/README"]
    assert ins.notes == ["unsupported:x.zip/blob"]
    assert counts(ins)["emails"] == 3


def test_japanese_member_names_without_utf8_flag() -> None:
    ins = inspect_attachment("win.zip", "", cp932_named_zip("社員名簿.csv", JA.encode("cp932")))
    assert ins.members == ["win.zip/社員名簿.csv"]
    assert counts(ins) == JA_COUNTS


def test_unsupported_compression_method_is_not_decompressed() -> None:
    data = zip_bytes([("a.csv", JA.encode()), ("b.csv", JA.encode())], zipfile.ZIP_BZIP2)
    ins = inspect_attachment("bz.zip", "", data)
    assert ins.texts == []
    assert ins.notes == ["unsupported:bz.zip/a.csv", "unsupported:bz.zip/b.csv"]


# --- zip bombs and limits -----------------------------------------------------------

def test_zip_bomb_of_zeros() -> None:
    bomb = zeros_zip("zeros.csv", 128 << 20)  # 128 MB of zeros in about 130 KB
    assert len(bomb) < 1 << 20
    started = time.process_time()
    ins = inspect_attachment("bomb.zip", "application/zip", bomb)
    assert time.process_time() - started < 1
    assert ins.notes == ["zip_bomb:bomb.zip"]
    assert finding_free(ins)


def test_zip_bomb_inside_a_zip_voids_the_whole_attachment() -> None:
    outer = zip_bytes([("good.csv", JA.encode()), ("inner.zip", zeros_zip("z.bin", 64 << 20)),
                       ("later.csv", JA.encode())], zipfile.ZIP_STORED)
    ins = inspect_attachment("outer.zip", "", outer)
    assert ins.notes == ["zip_bomb:outer.zip/inner.zip"]
    assert finding_free(ins)


def test_zip_bomb_inside_an_office_file() -> None:
    data = xlsx_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = [(i.filename, src.read(i)) for i in src.infolist()]
    parts.append(("xl/media/padding.bin", b"\0" * (40 << 20)))
    ins = inspect_attachment("bomb.xlsx", "", zip_bytes(parts))
    assert ins.notes == ["zip_bomb:bomb.xlsx"]
    assert finding_free(ins)


def test_declared_size_too_large_is_a_bomb() -> None:
    lying = set_declared_size(zip_bytes([("x.csv", JA.encode() * 100)]), 1 << 30)
    ins = inspect_attachment("lie.zip", "", lying)
    assert ins.notes == ["zip_bomb:lie.zip"]
    assert finding_free(ins)


def test_declared_size_too_small_is_corrupt_not_trusted() -> None:
    """zipfile stops at the declared size, so the CRC of what it read cannot match."""
    content = JA.encode() * 2000
    lying = set_declared_size(zip_bytes([("x.csv", content)]), 1000)
    ins = inspect_attachment("lie.zip", "", lying)
    assert ins.notes == ["corrupt:lie.zip/x.csv"]
    assert ins.texts == []


def test_total_uncompressed_limit() -> None:
    rng = random.Random(3)
    members = [(f"part{i}.csv", "".join(rng.choice("0123456789,\n") for _ in range(400_000))
                .encode()) for i in range(3)]
    data = zip_bytes(members)
    ins = inspect_attachment("big.zip", "", data, Limits(max_total=1_000_000, enough=10**9))
    assert ins.notes == ["too_large:big.zip"] and ins.partial
    # issue 13: what was read before the limit counts (a lower bound), the rest is noted
    assert [p for p, _ in ins.texts] == ["big.zip/part0.csv", "big.zip/part1.csv"]
    within = inspect_attachment("big.zip", "", data, Limits(max_total=1_300_000, enough=10**9))
    assert within.notes == [] and len(within.texts) == 3


def test_too_many_entries() -> None:
    data = zip_bytes([(f"f{i}.txt", b"x") for i in range(1001)])
    ins = inspect_attachment("many.zip", "", data)
    assert ins.notes == ["too_many_entries:many.zip"]
    assert finding_free(ins)
    assert inspect_attachment("many.zip", "", data, Limits(max_entries=1001)).notes == []


def test_too_many_entries_with_a_lying_end_record() -> None:
    buf = bytearray(zip_bytes([(f"f{i}.txt", b"x") for i in range(1001)]))
    eocd = buf.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", buf, eocd + 8, 10, 10)  # claims 10 entries
    ins = inspect_attachment("many.zip", "", bytes(buf))
    assert ins.notes == ["too_many_entries:many.zip"]


def test_text_limit_truncates_with_a_note() -> None:
    ins = inspect_attachment("big.csv", "", JA.encode() * 100, Limits(max_text=len(JA) * 3))
    assert ins.notes == ["truncated:big.csv"]
    assert len(ins.texts[0][1]) <= len(JA) * 3


def test_spreadsheet_cell_limit() -> None:
    rows: list[list[object]] = [[f"社員{i}", f"s{i}@example.co.jp", f"090-1234-{i:04d}"]
                                for i in range(2000)]
    ins = inspect_attachment("big.xlsx", "", xlsx_bytes({"s": rows}), Limits(max_cells=300))
    assert ins.notes == ["truncated:big.xlsx"]
    assert 90 <= counts(ins)["emails"] <= 100


def test_pdf_page_limit() -> None:
    pages = [[f"page {i} p{i}@example.co.jp"] for i in range(5)]
    ins = inspect_attachment("long.pdf", "", pdf_bytes(pages), Limits(max_pages=2))
    assert ins.notes == ["truncated:long.pdf"]
    assert counts(ins)["emails"] == 2


# --- corrupt input --------------------------------------------------------------------

def _corruptions() -> list[tuple[str, str, bytes]]:
    cases = []
    for name, build in [("x.xlsx", xlsx_bytes), ("x.docx", docx_bytes), ("x.pdf", pdf_bytes),
                        ("x.zip", lambda: zip_bytes([("a.csv", JA.encode())]))]:
        data = build()
        cases.append((f"{name}-truncated-half", name, data[: len(data) // 2]))
        cases.append((f"{name}-truncated-tail", name, data[:-30]))
        cases.append((f"{name}-garbage", name, RNG.randbytes(5000)))
        cases.append((f"{name}-empty", name, b""))
        cases.append((f"{name}-magic-only", name, data[:8]))
    xlsx = bytearray(xlsx_bytes())
    sheet = xlsx.find(b"xl/worksheets/sheet1.xml")
    xlsx[sheet + 200: sheet + 400] = RNG.randbytes(200)  # damage the first sheet's data
    cases.append(("x.xlsx-damaged-member", "x.xlsx", bytes(xlsx)))
    pdf = pdf_bytes()
    cases.append(("x.pdf-garbled-xref", "x.pdf", pdf.replace(b"xref", b"xxxx").replace(
        b"stream", b"strem")))
    return cases


CORRUPTIONS = _corruptions()


@pytest.mark.parametrize(("name", "data"), [c[1:] for c in CORRUPTIONS],
                         ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_files_give_a_note_not_an_exception(name: str, data: bytes) -> None:
    ins = inspect_attachment(name, "application/octet-stream", data)
    assert ins.notes == [f"corrupt:{name}"]
    assert finding_free(ins)


def test_corrupt_member_does_not_hide_its_siblings() -> None:
    outer = zip_bytes([("bad.xlsx", b"PK\x03\x04 not really"), ("bad.pdf", b"%PDF-1.7 junk"),
                       ("good.csv", JA.encode())])
    ins = inspect_attachment("mix.zip", "", outer)
    assert ins.notes == ["corrupt:mix.zip/bad.xlsx", "corrupt:mix.zip/bad.pdf"]
    assert [p for p, _ in ins.texts] == ["mix.zip/good.csv"]


@pytest.mark.parametrize("name", ["x.csv", "x.txt", "x.bin", "x", "x.html"])
def test_binary_garbage_never_raises(name: str) -> None:
    ins = inspect_attachment(name, "application/octet-stream", RNG.randbytes(50_000))
    assert not ins.encrypted and ins.members == []


# --- encryption -----------------------------------------------------------------------

def test_password_pdf_is_encrypted_without_text() -> None:
    data = encrypt_pdf(pdf_bytes(), user="open-sesame", owner="owner")
    ins = inspect_attachment("secret.pdf", "application/pdf", data)
    assert ins.encrypted and ins.texts == [] and ins.notes == []
    assert is_encrypted("secret.pdf", data)


def test_owner_password_only_pdf_is_readable_so_not_encrypted() -> None:
    data = encrypt_pdf(pdf_bytes(), user="", owner="owner")
    assert PdfReader(io.BytesIO(data)).is_encrypted  # encrypted on paper
    ins = inspect_attachment("perm.pdf", "application/pdf", data)
    assert not ins.encrypted
    assert counts(ins) == JA_COUNTS
    assert not is_encrypted("perm.pdf", data)


def test_all_members_encrypted_zip() -> None:
    data = aes_zip([("社員名簿.csv", JA.encode()), ("給与.xlsx", xlsx_bytes())])
    ins = inspect_attachment("pw.zip", "application/zip", data)
    assert ins.encrypted
    assert ins.texts == []
    assert ins.members == ["pw.zip/社員名簿.csv", "pw.zip/給与.xlsx"]
    assert ins.notes == ["encrypted_member:pw.zip/社員名簿.csv",
                         "encrypted_member:pw.zip/給与.xlsx"]
    assert is_encrypted("pw.zip", data)


def test_partly_encrypted_zip_is_not_encrypted() -> None:
    buf = io.BytesIO(aes_zip([("secret.csv", JA.encode())]))
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr("plain.csv", JA.encode("cp932"))
    data = buf.getvalue()
    ins = inspect_attachment("mixed.zip", "", data)
    assert not ins.encrypted
    assert ins.notes == ["encrypted_member:mixed.zip/secret.csv"]
    assert [p for p, _ in ins.texts] == ["mixed.zip/plain.csv"]
    assert not is_encrypted("mixed.zip", data)


def test_encrypted_documents_inside_a_plain_zip_are_noted() -> None:
    pdf = encrypt_pdf(pdf_bytes(), user="pw", owner="pw")
    data = zip_bytes([("a.pdf", pdf), ("b.docx", cfb(ENCRYPTED_OFFICE))])
    ins = inspect_attachment("docs.zip", "", data)
    assert not ins.encrypted and ins.texts == []
    assert ins.notes == ["encrypted_member:docs.zip/a.pdf", "encrypted_member:docs.zip/b.docx"]


def test_encrypted_office_file() -> None:
    data = cfb(ENCRYPTED_OFFICE)
    seven = shutil.which("7zz")
    if seven is None and in_ci():
        unavailable("7zz (Debian package 7zip)")
    if seven:  # the fixture is a real compound file, as 7-Zip reads it
        path = Path(os.environ.get("TMPDIR", "/tmp")) / f"sg-cfb-{os.getpid()}.bin"
        path.write_bytes(data)
        try:
            listing = subprocess.run([seven, "l", "-tCompound", str(path)], check=True,
                                     capture_output=True, text=True).stdout
        finally:
            path.unlink()
        assert "EncryptedPackage" in listing and "EncryptionInfo" in listing
    for name in ("給与.xlsx", "契約.docx", "noext"):
        ins = inspect_attachment(name, "application/octet-stream", data)
        assert ins.encrypted and ins.texts == [] and ins.notes == []
        assert is_encrypted(name, data)


@pytest.mark.parametrize("streams", [
    {"WordDocument": b"\xec\xa5" + RNG.randbytes(500), "1Table": RNG.randbytes(500)},
    {"WordDocument": b"xx" + "EncryptedPackage EncryptionInfo".encode("utf-16-le")},
    {"EncryptedPackage": RNG.randbytes(100)},
], ids=["legacy-doc", "names-in-stream-text", "package-without-info"])
def test_ole_files_that_are_not_encrypted_office(streams: dict[str, bytes]) -> None:
    data = cfb(streams)
    assert not ole_encrypted(data)
    ins = inspect_attachment("old.doc", "", data)
    assert not ins.encrypted and ins.notes == ["unsupported:old.doc"]


@pytest.mark.parametrize(("name", "build", "expected"), [
    ("a.pdf", pdf_bytes, False),
    ("a.xlsx", xlsx_bytes, False),
    ("a.zip", lambda: zip_bytes([("a.csv", b"x")]), False),
    ("a.zip", lambda: aes_zip([("a.csv", b"x")]), True),
    ("a.zip", lambda: zip_bytes([("dir/", b"")]), False),
    ("a.docx", lambda: cfb(ENCRYPTED_OFFICE), True),
    ("a.csv", lambda: JA.encode(), False),
    ("a.pdf", lambda: b"%PDF-1.7 garbage", False),
    ("a.zip", lambda: RNG.randbytes(100), False),
], ids=["pdf", "xlsx", "zip", "aes-zip", "empty-zip", "ole", "csv", "bad-pdf", "bad-zip"])
def test_is_encrypted(name: str, build: Callable[[], bytes], expected: bool) -> None:
    assert is_encrypted(name, build()) is expected


# --- blocked extensions -----------------------------------------------------------------

BLOCKED = (".exe", ".bat", ".cmd", ".com", ".scr", ".js", ".vbs", ".ps1", ".lnk", ".msi")


@pytest.mark.parametrize(("name", "expected"), [
    ("setup.exe", ".exe"),
    ("invoice.pdf.exe", ".exe"),
    ("INVOICE.EXE.", ".exe"),
    ("a.exe ", ".exe"),
    ("a.exe. . ", ".exe"),
    ("invoice\u202efdp.exe", ".exe"),        # shown as "invoiceexe.pdf"
    ("photo\u202egpj.scr", ".scr"),
    ("a.e\u200bxe", ".exe"),                  # zero-width space inside the extension
    ("ｉｎｖｏｉｃｅ．ｅｘｅ", ".exe"),          # full-width
    ("outer.zip/dir/run.bat", ".bat"),
    ("dir\\script.PS1", ".ps1"),
    ("readme.txt.js", ".js"),
    ("shortcut.lnk\u3000", ".lnk"),
], ids=["plain", "double-extension", "upper-trailing-dot", "trailing-space", "dots-spaces",
        "rlo-exe", "rlo-scr", "zero-width", "full-width", "archive-path", "backslash",
        "js-double", "ideographic-space"])
def test_blocked_name_fires(name: str, expected: str) -> None:
    assert blocked_name(name, BLOCKED) == expected


@pytest.mark.parametrize("name", [
    "exe.pdf", "notes.txt", "a.exe.pdf", "a.exex", "app.jsx", "a.json", "invoice\u202eexe.pdf",
    "command", "setup_exe", "", "a.ex e",
], ids=["exe-stem", "txt", "exe-then-pdf", "exex", "jsx", "json", "rlo-real-pdf", "com-stem",
        "underscore", "empty", "space-inside"])
def test_blocked_name_quiet(name: str) -> None:
    assert blocked_name(name, BLOCKED) is None


def test_blocked_name_uses_the_longest_entry_as_configured() -> None:
    assert blocked_name("backup.TAR.GZ", [".gz", "tar.gz"]) == "tar.gz"
    assert blocked_name("a.EXE", ["EXE"]) == "EXE"
    assert blocked_name("a.exe", []) is None
