"""AES-256 ZIP archives that Windows users can open with 7-Zip, Explorer add-ons or WinZip.

Only WinZip AES-256 (AE-2: no CRC that could leak tiny files) is ever written; ZipCrypto is
broken and never used. Entry names are kept exactly and always carry the UTF-8 flag
(general purpose bit 11) so Japanese names survive on every platform. Entries are
streamed in chunks straight to ``out``: the archive never holds a second copy of the data.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pyzipper

from service.protect import sniff

CHUNK = 1024 * 1024
# zlib's default. benchmarks/bench_protect.py (25 MB draft): level 1 saves ~0.3 s but the
# ZIP grows 16.7 vs 15.9 MB; level 9 costs 3x the time for no gain. Deflate is most of
# encrypt_files' time; AES-CTR (pycryptodomex, C) and HMAC-SHA1 are a few percent.
COMPRESSLEVEL = 6
_UTF8_FLAG = 0x800
_DOUBLE_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class ArchiveFile:
    """One file to archive.

    ``data`` is bytes, a path, a readable binary stream, or a function returning the bytes
    when the entry is written (so only one decoded file need be in memory at a time).
    """

    name: str
    data: bytes | Path | BinaryIO | Callable[[], bytes]
    content_type: str = "application/octet-stream"


class _Utf8AESZipInfo(pyzipper.zipfile_aes.AESZipInfo):
    """Sets the UTF-8 flag on every name, ASCII ones included, so readers never guess."""

    __slots__ = ()

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("utf-8"), self.flag_bits | _UTF8_FLAG


class _AESZipFile(pyzipper.AESZipFile):
    zipinfo_cls = _Utf8AESZipInfo


def neutral_zip_name(now: datetime) -> str:
    """A ZIP name that reveals nothing of the files or the subject."""
    return f"attachments-{now:%Y%m%d}.zip"


def safe_entry_name(name: str) -> str:
    """The name as given, except what would make a path: separators and control chars."""
    cleaned = _UNSAFE.sub("_", name).strip()
    if cleaned.strip(".") == "":
        return "attachment"
    return cleaned


def _split_extension(name: str) -> tuple[str, str]:
    lower = name.lower()
    for ext in _DOUBLE_EXTENSIONS:
        if lower.endswith(ext) and len(name) > len(ext):
            return name[:-len(ext)], name[-len(ext):]
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def _fold(name: str) -> str:
    # Windows and macOS file systems treat these as the same name.
    return unicodedata.normalize("NFC", name).casefold()


def unique_names(names: Sequence[str]) -> list[str]:
    """Sanitised names, duplicates renamed ``name (2).ext``, ``name (3).ext``… in order.

    Names compare case-insensitively (as on Windows); a renamed file never takes a name
    that another file in the list carries, so no file is ever dropped or overwritten.
    """
    clean = [safe_entry_name(n) for n in names]
    taken = {_fold(n) for n in clean}
    used: set[str] = set()
    out = []
    for name in clean:
        candidate = name
        if _fold(candidate) in used:
            stem, ext = _split_extension(name)
            n = 2
            while True:
                candidate = f"{stem} ({n}){ext}"
                if _fold(candidate) not in used and _fold(candidate) not in taken:
                    break
                n += 1
        used.add(_fold(candidate))
        out.append(candidate)
    return out


def _open(data: bytes | Path | BinaryIO | Callable[[], bytes]) -> tuple[BinaryIO, bool]:
    """A stream over ``data`` and whether we must close it."""
    if callable(data):
        data = data()
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(data), True
    if isinstance(data, Path):
        return data.open("rb"), True
    return data, False


def _write_entry(zf: _AESZipFile, name: str, file: ArchiveFile, when: datetime) -> None:
    stream, close = _open(file.data)
    try:
        head = stream.read(sniff.SAMPLE)
        info = _Utf8AESZipInfo(name, date_time=when.timetuple()[:6])
        info.external_attr = 0o644 << 16
        if sniff.should_store(name, file.content_type, head):
            info.compress_type = pyzipper.ZIP_STORED
        else:
            info.compress_type = pyzipper.ZIP_DEFLATED
            info._compresslevel = COMPRESSLEVEL
        with zf.open(info, "w") as entry:
            chunk = head
            while chunk:
                entry.write(chunk)
                chunk = stream.read(CHUNK)
    finally:
        if close:
            stream.close()


def encrypt_files(files: Sequence[ArchiveFile], password: str, out: BinaryIO, *,
                  now: datetime | None = None) -> list[str]:
    """Write ``files`` as one WinZip AES-256 archive to ``out``; return the entry names.

    Names are made unique (see ``unique_names``); the returned list is in archive order.
    Already-compressed files are stored, the rest deflated.
    """
    if not files:
        raise ValueError("nothing to archive")
    if not password:
        raise ValueError("an empty password would not protect anything")
    when = now or datetime.now()
    if when.year < 1980:  # the earliest time a ZIP entry can carry
        when = datetime(1980, 1, 1)
    names = unique_names([f.name for f in files])
    with _AESZipFile(out, "w", compression=pyzipper.ZIP_DEFLATED,
                     encryption=pyzipper.WZ_AES, encryption_kwargs={"nbits": 256}) as zf:
        zf.setpassword(password.encode("utf-8"))
        for name, file in zip(names, files, strict=True):
            _write_entry(zf, name, file, when)
    return names
