"""Chunked AES-256-GCM for stored files: streaming both ways in bounded memory.

An object is ``HEADER`` then chunks; chunk ``i`` is ``CHUNK`` bytes of plaintext (the
last one shorter, possibly empty) sealed as ``AES-GCM(file_key, nonce_i, data, aad)``
with ``nonce_i = i (8 bytes, big endian) | final flag (1 byte) | 000000`` and the header
as AAD. Each file has its own key, derived (HKDF-SHA256) from the package's fresh random
key and the file's number, so the deterministic nonces never repeat under one key. A
chunk moved, dropped, duplicated or altered fails its tag; a file cut short at a chunk
boundary ends without a final chunk and fails too; appended chunks follow a final one
and fail. A ranged read authenticates every chunk it touches (and the last chunk's
final flag, since the size comes from the sealed manifest, not from the object).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.errors import SecretError

MAGIC = b"SGF1"
CHUNK = 1024 * 1024
TAG = 16
HEADER = MAGIC + struct.pack(">I", CHUNK)
SEALED = CHUNK + TAG
KEY_BYTES = 32
ReadFn = Callable[[int, int], bytes]


def file_key(package_key: bytes, n: int) -> bytes:
    """File ``n``'s key: never the same for two files, nor two packages."""
    if len(package_key) != KEY_BYTES:
        raise SecretError()
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=b"sendguard-file/v1\0" + str(n).encode()).derive(package_key)


def _nonce(index: int, final: bool) -> bytes:
    return struct.pack(">QB", index, 1 if final else 0) + b"\0\0\0"


def chunk_count(size: int) -> int:
    """Chunks of a ``size``-byte file: always at least one (an empty final chunk)."""
    return size // CHUNK + 1 if size % CHUNK == 0 else -(-size // CHUNK)


def sealed_size(size: int) -> int:
    return len(HEADER) + size + chunk_count(size) * TAG


def encrypt_stream(key: bytes, pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the object for the plaintext ``pieces``: the header, then one sealed chunk
    at a time (at most two chunks of plaintext are held)."""
    aead = AESGCM(key)
    yield HEADER
    buf = bytearray()
    index = 0
    for piece in pieces:
        buf += piece
        while len(buf) > CHUNK:       # keep one back: the final chunk must be flagged
            yield aead.encrypt(_nonce(index, False), bytes(buf[:CHUNK]), HEADER)
            del buf[:CHUNK]
            index += 1
    if len(buf) == CHUNK:              # a whole last chunk, then an empty final one
        yield aead.encrypt(_nonce(index, False), bytes(buf), HEADER)
        buf.clear()
        index += 1
    yield aead.encrypt(_nonce(index, True), bytes(buf), HEADER)


def open_chunk(key: bytes | AESGCM, index: int, final: bool, sealed: bytes) -> bytes:
    aead = key if isinstance(key, AESGCM) else AESGCM(key)
    try:
        return aead.decrypt(_nonce(index, final), sealed, HEADER)
    except InvalidTag:
        raise SecretError() from None


def chunk_span(index: int) -> tuple[int, int]:
    """Where chunk ``index`` lies in the object: offset and (maximum) length."""
    return len(HEADER) + index * SEALED, SEALED


def decrypt_range(key: bytes, size: int, read: ReadFn, start: int = 0,
                  end: int | None = None) -> Iterator[bytes]:
    """Plaintext bytes ``start..end`` (inclusive) of a ``size``-byte file, one chunk at a
    time, each authenticated before any of it is yielded. ``read(offset, length)``
    reads the object (a ranged GET on Cloud Storage)."""
    last = size - 1 if end is None else min(end, size - 1)
    count = chunk_count(size)
    if size == 0 or start > last:
        first_chunk, last_chunk = count - 1, count - 1
    else:   # a read to the end also checks the final chunk (empty after whole chunks)
        first_chunk = start // CHUNK
        last_chunk = count - 1 if last == size - 1 else last // CHUNK
    aead = AESGCM(key)
    head = read(0, len(HEADER))
    if head != HEADER:
        raise SecretError()
    for index in range(first_chunk, last_chunk + 1):
        offset, _ = chunk_span(index)
        final = index == count - 1
        expected = (size - index * CHUNK if final else CHUNK) + TAG
        sealed = read(offset, expected)
        if len(sealed) != expected:
            raise SecretError()
        plain = open_chunk(aead, index, final, sealed)
        lo = max(start - index * CHUNK, 0)
        hi = min(last - index * CHUNK + 1, len(plain))
        if size and lo < hi:
            yield plain[lo:hi]

