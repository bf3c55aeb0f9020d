"""AES-256 ZIPs checked by 7-Zip: encryption on every entry, exact bytes and names."""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from service.protect.archive import (
    ArchiveFile,
    encrypt_files,
    neutral_zip_name,
    safe_entry_name,
    unique_names,
)

from .protect_helpers import JPEG, PNG, SevenZip

PASSWORD = "k7Qp-3mRx-ZuW9-aB4c-Hn6e-Tt"
NOW = datetime(2026, 11, 23, 10, 30, 0)


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["氏名", "電話"])
    sheet.append(["山田 太郎", "090-1234-5678"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CSV = "氏名,部署,電話\n".encode() + "山田 太郎,総務,03-1234-5678\n".encode() * 2000
FILES = {
    "日本語ファイル名.xlsx": _xlsx(),
    "社員名簿.csv": CSV,
    "photo.jpg": JPEG,
    "notes.txt": b"plain text " * 500,
    "empty.txt": b"",
}


def _write(tmp_path: Path, files: list[ArchiveFile], password: str = PASSWORD) -> Path:
    path = tmp_path / "out.zip"
    with path.open("wb") as out:
        encrypt_files(files, password, out, now=NOW)
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return _write(tmp_path, [ArchiveFile(n, d) for n, d in FILES.items()])


def test_every_entry_is_aes256_for_7zip(archive: Path, sevenzip: SevenZip) -> None:
    entries = sevenzip.entries(archive, PASSWORD)
    assert sorted(e["Path"] for e in entries) == sorted(FILES)
    for entry in entries:
        assert entry["Encrypted"] == "+", entry
        assert entry["Method"].startswith("AES-256 "), entry


def test_7zip_extracts_exact_bytes_and_japanese_names(archive: Path, sevenzip: SevenZip,
                                                      tmp_path: Path) -> None:
    extracted = sevenzip.extract(archive, PASSWORD, tmp_path / "x")
    assert extracted == FILES


@pytest.mark.parametrize("wrong", ["wrong", PASSWORD[:-1], PASSWORD.upper(), " " + PASSWORD],
                         ids=["other", "truncated", "case", "leading-space"])
def test_7zip_refuses_a_wrong_password(archive: Path, sevenzip: SevenZip, wrong: str) -> None:
    res = sevenzip.test(archive, wrong)
    assert res.returncode != 0
    assert "Wrong password" in res.stdout + res.stderr
    assert sevenzip.test(archive, PASSWORD).returncode == 0


def test_utf8_flag_on_every_name_in_central_directory_and_local_headers(archive: Path) -> None:
    raw = archive.read_bytes()
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        assert {i.filename for i in infos} == set(FILES)
        for info in infos:
            assert info.flag_bits & 0x800, info.filename   # central directory
            assert info.flag_bits & 0x1, info.filename     # encrypted
            local = raw[info.header_offset:info.header_offset + 30]
            sig, _, flags, method = struct.unpack("<IHHH", local[:10])
            assert sig == 0x04034B50 and flags & 0x800 and method == 99


def test_winzip_aes_extra_field_is_256_bit_ae2_without_crc(archive: Path) -> None:
    """AE-2 stores CRC 0: tiny files cannot be guessed from their CRC; never ZipCrypto."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            assert info.compress_type == 99, info.filename          # 99 = WinZip AES
            tag, size, version, vendor, strength, _method = struct.unpack(
                "<HHH2sBH", info.extra[:11])
            assert (tag, size, version, vendor, strength) == (0x9901, 7, 2, b"AE", 3)
            assert info.CRC == 0


RANDOM = os.urandom(300_000)
TEXT = ("見積明細 " * 40_000).encode()


@pytest.mark.parametrize(("name", "ctype", "data", "method"), [
    ("photo.jpg", "image/jpeg", JPEG, "Store"),
    ("scan.png", "image/png", PNG, "Store"),
    ("jpeg-without-extension", "application/octet-stream", JPEG, "Store"),
    ("見積書.xlsx", "application/octet-stream", _xlsx(), "Store"),
    ("report.pdf", "application/pdf", b"%PDF-1.7\n" + TEXT, "Store"),
    ("movie.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + RANDOM, "Store"),
    ("old.7z", "application/octet-stream", b"7z\xbc\xaf\x27\x1c" + RANDOM, "Store"),
    ("log.gz", "application/gzip", b"\x1f\x8b\x08" + RANDOM, "Store"),
    ("random.bin", "application/octet-stream", RANDOM, "Store"),
    ("社員名簿.csv", "text/csv", CSV, "Deflate"),
    ("notes.txt", "text/plain", TEXT, "Deflate"),
    ("bitmap.bmp", "image/bmp", b"BM" + bytes(200_000), "Deflate"),
    ("legacy.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0" + bytes(50_000), "Deflate"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_compressed_types_are_stored_the_rest_deflated(tmp_path: Path, sevenzip: SevenZip,
                                                       name: str, ctype: str, data: bytes,
                                                       method: str) -> None:
    path = _write(tmp_path, [ArchiveFile(name, data, ctype)])
    (entry,) = sevenzip.entries(path, PASSWORD)
    assert entry["Method"] == f"AES-256 {method}"
    assert sevenzip.extract(path, PASSWORD, tmp_path / "x") == {name: data}


@pytest.mark.parametrize(("names", "expected"), [
    (["a.txt", "a.txt", "a.txt"], ["a.txt", "a (2).txt", "a (3).txt"]),
    (["見積書.xlsx", "見積書.xlsx"], ["見積書.xlsx", "見積書 (2).xlsx"]),
    (["Report.PDF", "report.pdf"], ["Report.PDF", "report (2).pdf"]),
    (["a.txt", "a.txt", "a (2).txt"], ["a.txt", "a (3).txt", "a (2).txt"]),
    (["data.tar.gz", "data.tar.gz"], ["data.tar.gz", "data (2).tar.gz"]),
    (["README", "README"], ["README", "README (2)"]),
    (["", ""], ["attachment", "attachment (2)"]),
    (["b.txt", "c.txt"], ["b.txt", "c.txt"]),
], ids=["triple", "japanese", "case-insensitive", "avoid-later-name", "double-ext",
        "no-ext", "empty", "distinct"])
def test_duplicate_names_become_unique_and_nothing_is_dropped(names: list[str],
                                                              expected: list[str]) -> None:
    assert unique_names(names) == expected


def test_duplicates_all_reach_the_archive(tmp_path: Path, sevenzip: SevenZip) -> None:
    files = [ArchiveFile("a.txt", b"first"), ArchiveFile("a.txt", b"second"),
             ArchiveFile("A.TXT", b"third")]
    path = tmp_path / "d.zip"
    with path.open("wb") as out:
        names = encrypt_files(files, PASSWORD, out)
    assert names == ["a.txt", "a (2).txt", "A (3).TXT"]
    assert sevenzip.extract(path, PASSWORD, tmp_path / "x") == {
        "a.txt": b"first", "a (2).txt": b"second", "A (3).TXT": b"third"}


@pytest.mark.parametrize(("name", "expected"), [
    ("見積書.xlsx", "見積書.xlsx"),
    ("../../etc/passwd", ".._.._etc_passwd"),
    ("C:\\Users\\x.txt", "C:_Users_x.txt"),
    ("line\nbreak.txt", "line_break.txt"),
    ("nul\x00.txt", "nul_.txt"),
    ("..", "attachment"),
    ("  spaced name .txt  ", "spaced name .txt"),
], ids=["japanese-kept", "traversal", "backslash", "newline", "nul", "dots", "outer-space"])
def test_entry_names_cannot_escape_the_folder(name: str, expected: str) -> None:
    assert safe_entry_name(name) == expected


def test_sources_path_stream_and_callable(tmp_path: Path, sevenzip: SevenZip) -> None:
    src = tmp_path / "src.csv"
    src.write_bytes(CSV)
    files = [ArchiveFile("from-path.csv", src), ArchiveFile("from-stream.txt", io.BytesIO(TEXT)),
             ArchiveFile("from-callable.jpg", lambda: JPEG)]
    path = _write(tmp_path, files)
    assert sevenzip.extract(path, PASSWORD, tmp_path / "x") == {
        "from-path.csv": CSV, "from-stream.txt": TEXT, "from-callable.jpg": JPEG}


def test_streaming_keeps_memory_bounded(tmp_path: Path) -> None:
    """24 MB from disk to disk must not be held in memory (chunks of 1 MiB)."""
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        for _ in range(12):
            f.write(os.urandom(1 << 20))
            f.write(TEXT[: 1 << 20])
    tracemalloc.start()
    try:
        with (tmp_path / "big.zip").open("wb") as out:
            encrypt_files([ArchiveFile("big.bin", big), ArchiveFile("big2.bin", big)],
                          PASSWORD, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize(("files", "password"), [
    ([], PASSWORD),
    ([ArchiveFile("a.txt", b"x")], ""),
], ids=["no-files", "empty-password"])
def test_refuses_empty_input(files: list[ArchiveFile], password: str) -> None:
    with pytest.raises(ValueError):
        encrypt_files(files, password, io.BytesIO())


@pytest.mark.parametrize("now", [datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC),
                                 datetime(2026, 11, 23, 10, 2, 3,
                                          tzinfo=timezone(timedelta(hours=9))),
                                 datetime(2026, 11, 23, 10, 2, 3)],
                         ids=["utc", "jst", "naive"])
def test_entry_time_is_the_wall_time_given(tmp_path: Path, now: datetime) -> None:
    path = tmp_path / "t.zip"
    with path.open("wb") as out:
        encrypt_files([ArchiveFile("a.txt", b"x")], PASSWORD, out, now=now)
    with zipfile.ZipFile(path) as zf:
        assert zf.infolist()[0].date_time == (now.year, now.month, now.day, now.hour,
                                              now.minute, now.second - now.second % 2)


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 11, 23, 23, 59), "attachments-20261123.zip"),
    (datetime(2027, 1, 2), "attachments-20270102.zip"),
], ids=["late-evening", "new-year"])
def test_zip_name_is_neutral(now: datetime, expected: str) -> None:
    assert neutral_zip_name(now) == expected
