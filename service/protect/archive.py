"""AES-256 ZIP archives that Windows users can open with 7-Zip, Explorer add-ons or WinZip.

Only WinZip AES-256 (AE-2: no CRC that could leak tiny files) is ever written; ZipCrypto is
broken and never used. Entry names are kept exactly and always carry the UTF-8 flag
(general purpose bit 11) so Japanese names survive on every platform. Entries are
streamed in chunks straight to ``out``: the archive never holds a second copy of the data.

What stays readable without the password: the entry names, their sizes (compressed and
original) and the time, as in every WinZip AES archive. ``plain_archive`` makes the inner
archive that ``delivery.hide_names`` wraps so that only one neutral name shows.

The container is written here (the WinZip AE-2 layout: a 0x9901 extra field, method 99,
salt + verifier + AES-256-CTR data + 10-byte HMAC-SHA1) rather than through pyzipper, whose
fixed pipeline (stdlib zlib, pycryptodomex HMAC, a CRC nobody reads) cost most of the
time (benchmarks/bench_protect.py, issue 12). The parts: deflate by ISA-L (``isal``),
PBKDF2 and HMAC-SHA1 by OpenSSL (``hashlib``), AES by OpenSSL (``cryptography``) in
WinZip's little-endian counter mode (``_CounterModeLE``). 7-Zip and pyzipper read every
archive back in tests/protect, and pycryptodomex's CTR mode checks the keystream.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import hmac
import io
import re
import secrets
import struct
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from service.protect import sniff

CHUNK = 1024 * 1024
# ISA-L deflate level (0-3). benchmarks/bench_protect.py, 12 MB of CSV/log text: zlib 6
# 547 ms CPU -> 2.94 MB; zlib 1 120 ms -> 3.71 MB; isal 2 34 ms -> 3.49 MB; zlib-ng 2
# 85 ms -> 3.47 MB. isal 2: 16x faster than zlib 6 for a ZIP 3.5% larger on that draft.
COMPRESSLEVEL = 2
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_DESCRIPTOR_FLAG = 0x8
_STORED, _DEFLATED, _AES = 0, 8, 99
_AES_STRENGTH_256, _AE2 = 3, 2
_SALT_LEN, _KEY_LEN, _MAC_LEN = 16, 32, 10
_PBKDF2_ROUNDS = 1000
_MADE_BY = (3 << 8) | 63            # Unix, APPNOTE 6.3: external attributes are modes
_LIMIT = 0xFFFFFFFF - 1             # no ZIP64: protect's messages are tens of MB
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


def _chunks(data: bytes | Path | BinaryIO | Callable[[], bytes]
            ) -> Iterator[bytes | memoryview]:
    """``data`` in pieces of at most ``CHUNK`` bytes (views of in-memory data, no copy)."""
    if callable(data):
        data = data()
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), CHUNK):
            yield view[start:start + CHUNK]
        return
    stream = data.open("rb") if isinstance(data, Path) else data
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        if isinstance(data, Path):
            stream.close()


def _dos_time(when: datetime) -> tuple[int, int]:
    return ((when.hour << 11) | (when.minute << 5) | (when.second // 2),
            ((when.year - 1980) << 9) | (when.month << 5) | when.day)


@dataclass
class _Written:
    """An entry as written, for its central directory record."""

    name: bytes
    flags: int
    method: int
    version: int
    crc: int
    csize: int
    usize: int
    offset: int
    extra: bytes


class _CounterModeLE:
    """AES-256 in counter mode with WinZip's counter: a 128-bit little-endian block number
    from 1. OpenSSL's CTR mode counts big-endian, so the counter blocks are laid out here
    (from a template of 64 Ki blocks) and encrypted in ECB mode, and the keystream is
    XORed as integers. ``cryptography`` is imported anyway for the key wrap; pycryptodomex
    (CTR with little_endian=True) cost ~50 ms of start-up through cffi for ~10 ms less work
    on 16 MB (bench_protect.py)."""

    _PAGE = 1 << 16      # counter blocks laid out at once (1 MiB); the low 16 counter
                         # bits count within a page, so exactly 2**16
    _MIN = 1 << 16       # keystream bytes made at least at once (a small file needs few)
    _XOR = 1 << 16       # bytes XORed at once: the keystream, the integers and the piece
                         # made for them stay under glibc's 128 KiB mmap threshold, so
                         # their buffers are reused rather than mapped afresh each time

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        # ECB of counter blocks, each used once: this is CTR mode, not ECB of data.
        self._ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
        # The shared template until a page other than 0 is laid out: an entry under 1 MiB
        # (most) then copies nothing (a 1 MiB copy each was 7 MiB of page faults on 5 MB).
        self._blocks: memoryview | bytearray = _counter_template(self._PAGE)
        self._laid = bytes(8)          # the page number the blocks hold now
        self._page = 0
        self._at = 16                  # next unused block of the page: block 0 never is
        self._stream = memoryview(b"")

    def _more(self, need: int) -> memoryview:
        """At least ``need`` bytes of keystream, or the rest of the page."""
        if self._at == len(self._blocks):
            self._page, self._at = self._page + 1, 0
        page = self._page.to_bytes(8, "little")
        for i, (was, byte) in enumerate(zip(self._laid, page, strict=True)):
            if byte != was:   # counter bits 16..79 hold the page number
                if isinstance(self._blocks, memoryview):
                    self._blocks = bytearray(self._blocks)
                self._blocks[2 + i::16] = bytes((byte,)) * self._PAGE
        self._laid = page
        size = min(len(self._blocks) - self._at, max(-(-need // 16) * 16, self._MIN))
        keystream: bytes = self._ecb.update(memoryview(self._blocks)[self._at:self._at + size])
        self._at += size
        return memoryview(keystream)

    def encrypt(self, data: bytes | memoryview) -> Iterator[bytes]:
        """The ciphertext of ``data``, in pieces of at most 64 KiB (bounded temporaries)."""
        view = memoryview(data)
        pos = 0
        while pos < len(view):
            if not self._stream:
                self._stream = self._more(min(len(view) - pos, self._XOR))
            take = min(len(view) - pos, len(self._stream), self._XOR)
            keystream, self._stream = self._stream[:take], self._stream[take:]
            yield (int.from_bytes(view[pos:pos + take], "little")
                   ^ int.from_bytes(keystream, "little")).to_bytes(take, "little")
            pos += take


@functools.cache
def _counter_template(blocks: int) -> memoryview:
    """``blocks`` (a multiple of 256, at most 2**16) zero blocks whose first two bytes
    count 0, 1, 2, … little-endian; read-only, shared by every entry."""
    out = bytearray(16 * blocks)
    out[0::16] = bytes(range(256)) * (blocks // 256)
    out[1::16] = b"".join(bytes((high,)) * 256 for high in range(blocks // 256))
    return memoryview(out).toreadonly()


class _Cipher:
    """WinZip AES-256: PBKDF2-HMAC-SHA1 keys, AES-CTR (little-endian counter from 1),
    HMAC-SHA1 of the ciphertext truncated to 10 bytes."""

    def __init__(self, password: bytes) -> None:
        self.salt = secrets.token_bytes(_SALT_LEN)
        keys = hashlib.pbkdf2_hmac("sha1", password, self.salt, _PBKDF2_ROUNDS,
                                   2 * _KEY_LEN + 2)
        self.verifier = keys[2 * _KEY_LEN:]
        self._aes = _CounterModeLE(keys[:_KEY_LEN])
        self._mac = hmac.new(keys[_KEY_LEN:2 * _KEY_LEN], digestmod="sha1")

    def encrypt(self, data: bytes | memoryview) -> Iterator[bytes]:
        for piece in self._aes.encrypt(data):
            self._mac.update(piece)
            yield piece

    def tag(self) -> bytes:
        return self._mac.digest()[:_MAC_LEN]


class Pieces:
    """An archive in memory as the list of pieces written: no buffer that grows by copying
    (BytesIO's growth was 10% of protect's time), and ``protect`` base64-encodes the pieces
    straight into the message."""

    def __init__(self) -> None:
        self.pieces: list[bytes | memoryview] = []
        self._starts: list[int] = []
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self._starts.append(self.size)
        self.pieces.append(data)
        self.size += len(data)
        return len(data)

    def patch(self, offset: int, data: bytes) -> None:
        """Overwrite bytes inside one earlier piece (a local header's sizes)."""
        i = bisect.bisect_right(self._starts, offset) - 1
        at = offset - self._starts[i]
        piece = bytearray(self.pieces[i])
        if at + len(data) > len(piece):
            raise ValueError("a patch must stay inside one piece")
        piece[at:at + len(data)] = data
        self.pieces[i] = bytes(piece)

    def getvalue(self) -> bytes:
        return b"".join(self.pieces)


Sink = BinaryIO | Pieces


class _ZipWriter:
    """Writes entries one after another to ``out``; sizes are patched into the local
    header when ``out`` can seek, otherwise they follow in a data descriptor."""

    def __init__(self, out: Sink, password: bytes | None, when: datetime) -> None:
        self.out = out
        self.password = password
        self.time, self.date = _dos_time(when)
        self.pos = 0
        self.entries: list[_Written] = []
        try:
            self.seekable = isinstance(out, Pieces) or out.seekable()
        except (AttributeError, OSError):
            self.seekable = False

    def _write(self, data: bytes | memoryview) -> None:
        self.out.write(data)
        self.pos += len(data)

    def add(self, name: str, chunks: Iterator[bytes | memoryview], *, deflate: bool) -> None:
        method = _DEFLATED if deflate else _STORED
        flags = _UTF8_FLAG | (0 if self.seekable else _DESCRIPTOR_FLAG)
        if self.password is not None:
            flags |= _ENCRYPTED_FLAG
            version, zip_method = 51, _AES
            extra = struct.pack("<HHH2sBH", 0x9901, 7, _AE2, b"AE", _AES_STRENGTH_256, method)
        else:
            version, zip_method, extra = (20 if deflate else 10), method, b""
        entry = _Written(name.encode("utf-8"), flags, zip_method, version, 0, 0, 0,
                         self.pos, extra)
        self._write(self._local_header(entry))
        start = self.pos
        cipher = _Cipher(self.password) if self.password is not None else None
        if cipher is not None:
            self._write(cipher.salt + cipher.verifier)
        compressor = None
        if deflate:
            from isal import isal_zlib

            compressor = isal_zlib.compressobj(COMPRESSLEVEL, isal_zlib.DEFLATED, -15)
        crc, usize = 0, 0
        def emit(piece: bytes | memoryview) -> None:
            if cipher is None:
                self._write(piece)
            else:
                for encrypted in cipher.encrypt(piece):
                    self._write(encrypted)

        for chunk in chunks:
            usize += len(chunk)
            if cipher is None:
                crc = zlib.crc32(chunk, crc)
            emit(compressor.compress(chunk) if compressor is not None else chunk)
        if compressor is not None:
            emit(compressor.flush())
        if cipher is not None:
            self._write(cipher.tag())
        entry.crc, entry.csize, entry.usize = crc, self.pos - start, usize  # AE-2: CRC 0
        if max(entry.csize, entry.usize, self.pos) > _LIMIT:
            raise ValueError("archive over 4 GB: too large for a ZIP without ZIP64")
        sizes = struct.pack("<III", entry.crc, entry.csize, entry.usize)
        if isinstance(self.out, Pieces):
            self.out.patch(entry.offset + 14, sizes)
        elif self.seekable:
            self.out.seek(entry.offset + 14)
            self.out.write(sizes)
            self.out.seek(0, io.SEEK_END)
        else:
            self._write(struct.pack("<IIII", 0x08074B50, entry.crc, entry.csize, entry.usize))
        self.entries.append(entry)

    def _local_header(self, e: _Written) -> bytes:
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, e.version, e.flags, e.method,
                           self.time, self.date, e.crc, e.csize, e.usize, len(e.name),
                           len(e.extra)) + e.name + e.extra

    def close(self) -> None:
        if len(self.entries) >= 0xFFFF:
            raise ValueError("too many files for a ZIP without ZIP64")
        cd_start = self.pos
        for e in self.entries:
            self._write(struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, _MADE_BY, e.version, e.flags, e.method,
                self.time, self.date, e.crc, e.csize, e.usize, len(e.name), len(e.extra),
                0, 0, 0, 0o644 << 16, e.offset) + e.name + e.extra)
        cd_size = self.pos - cd_start
        if self.pos > _LIMIT:
            raise ValueError("archive over 4 GB: too large for a ZIP without ZIP64")
        n = len(self.entries)
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_start, 0))


def _write_entries(files: Sequence[ArchiveFile], password: bytes | None, out: Sink,
                   now: datetime | None) -> list[str]:
    if not files:
        raise ValueError("nothing to archive")
    when = now or datetime.now()
    if when.year < 1980:  # the earliest time a ZIP entry can carry
        when = datetime(1980, 1, 1)
    names = unique_names([f.name for f in files])
    writer = _ZipWriter(out, password, when)
    for name, file in zip(names, files, strict=True):
        chunks: Iterator[bytes | memoryview] = _chunks(file.data)
        head = b""
        for piece in chunks:   # the first chunk decides stored or deflated
            head = bytes(piece[:sniff.SAMPLE])
            chunks = _prepend(piece, chunks)
            break
        deflate = not sniff.should_store(name, file.content_type, head)
        writer.add(name, chunks, deflate=deflate)
    writer.close()
    return names


def _prepend(first: bytes | memoryview, rest: Iterator[bytes | memoryview]
             ) -> Iterator[bytes | memoryview]:
    yield first
    yield from rest


def encrypt_files(files: Sequence[ArchiveFile], password: str, out: Sink, *,
                  now: datetime | None = None) -> list[str]:
    """Write ``files`` as one WinZip AES-256 archive to ``out``; return the entry names.

    Names are made unique (see ``unique_names``); the returned list is in archive order.
    Already-compressed files are stored, the rest deflated.
    """
    if not password:
        raise ValueError("an empty password would not protect anything")
    return _write_entries(files, password.encode("utf-8"), out, now)


def plain_archive(files: Sequence[ArchiveFile], out: Sink, *,
                  now: datetime | None = None) -> list[str]:
    """The same archive without encryption (CRC-32 checked): the inner archive of
    ``delivery.hide_names``, which only ever travels inside an AES-256 one."""
    return _write_entries(files, None, out, now)
