"""Chunked AES-256-GCM: round trips at every chunk boundary, ranged reads, and every kind
of tampering (altered, moved, dropped, appended chunks; wrong key; wrong file) refused."""

from __future__ import annotations

import os

import pytest

from service.errors import SecretError
from service.files.crypt import (
    CHUNK,
    HEADER,
    SEALED,
    decrypt_range,
    encrypt_stream,
    file_key,
    sealed_size,
)

KEY = file_key(bytes(range(32)), 0)
SIZES = {"empty": 0, "one byte": 1, "chunk-1": CHUNK - 1, "chunk": CHUNK,
         "chunk+1": CHUNK + 1, "two chunks and a bit": 2 * CHUNK + 5}


def seal(data: bytes, key: bytes = KEY, pieces: int = 3) -> bytes:
    step = max(1, len(data) // pieces)
    return b"".join(encrypt_stream(key, [data[i:i + step]
                                         for i in range(0, len(data), step)] or [b""]))


def opened(obj: bytes, size: int, key: bytes = KEY, start: int = 0,
           end: int | None = None) -> bytes:
    return b"".join(decrypt_range(key, size, lambda off, ln: obj[off:off + ln], start, end))


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_round_trip(size: int) -> None:
    data = os.urandom(size)
    obj = seal(data)
    assert len(obj) == sealed_size(size)
    assert size < 8 or data not in obj     # a byte or few may occur in the ciphertext by chance
    assert opened(obj, size) == data


RANGES = {"first byte": (0, 0), "across a boundary": (CHUNK - 3, CHUNK + 2),
          "last bytes": (2 * CHUNK, 2 * CHUNK + 4), "middle": (100, 2 * CHUNK),
          "past the end": (2 * CHUNK + 3, 10 * CHUNK)}


@pytest.mark.parametrize(("start", "end"), RANGES.values(), ids=RANGES.keys())
def test_ranges(start: int, end: int) -> None:
    data = os.urandom(2 * CHUNK + 5)
    assert opened(seal(data), len(data), start=start, end=end) == data[start:end + 1]


def _flip(obj: bytes, at: int) -> bytes:
    return obj[:at] + bytes([obj[at] ^ 1]) + obj[at + 1:]


DATA = os.urandom(2 * CHUNK + 5)
OBJ = seal(DATA)
H = len(HEADER)
TAMPERED = {
    "a bit flipped in chunk 1": (_flip(OBJ, H + SEALED + 7), len(DATA)),
    "header changed": (_flip(OBJ, 5), len(DATA)),
    "chunks 0 and 1 swapped": (OBJ[:H] + OBJ[H + SEALED:H + 2 * SEALED] + OBJ[H:H + SEALED]
                               + OBJ[H + 2 * SEALED:], len(DATA)),
    "cut at a chunk boundary, size claimed shorter": (OBJ[:H + 2 * SEALED], 2 * CHUNK),
    "last chunk dropped": (OBJ[:H + 2 * SEALED], len(DATA)),
    "a chunk appended after the final one": (OBJ + OBJ[H:H + SEALED], len(DATA) + CHUNK),
}


@pytest.mark.parametrize(("obj", "size"), TAMPERED.values(), ids=TAMPERED.keys())
def test_tampering_is_refused(obj: bytes, size: int) -> None:
    with pytest.raises(SecretError):
        opened(obj, size)


@pytest.mark.parametrize("key", [file_key(bytes(range(32)), 1), file_key(bytes(32), 0)],
                         ids=["another file of the package", "another package"])
def test_other_keys_open_nothing(key: bytes) -> None:
    with pytest.raises(SecretError):
        opened(OBJ, len(DATA), key=key)


def test_ranged_read_checks_the_chunks_it_touches() -> None:
    bad = _flip(OBJ, H + 3)                          # chunk 0 altered
    assert opened(bad, len(DATA), start=CHUNK, end=CHUNK + 9) == DATA[CHUNK:CHUNK + 10]
    with pytest.raises(SecretError):
        opened(bad, len(DATA), start=0, end=9)


def test_package_key_must_be_256_bits() -> None:
    with pytest.raises(SecretError):
        file_key(b"short", 0)
