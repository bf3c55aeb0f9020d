"""The fast paths of protect give exactly what the slow, obvious ones give.

- ``_Blobs.decode`` (base64 straight from the raw spans) against the stdlib's
  ``get_payload(decode=True)``, on synthetic shapes and on CPython's own e-mail test corpus;
- the hand-written WinZip AE-2 container read back by 7-Zip and by pyzipper (an independent
  reader that checks the HMAC), to a seekable file and to a pipe-like stream;
- ``hide_names``: without the password 7-Zip lists one neutral name, with it the exact files.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

import pytest
import pyzipper

from service.errors import MessageError
from service.protect import archive
from service.protect.archive import ArchiveFile, encrypt_files, plain_archive
from service.protect.mime import (
    _B64_RUN,
    INNER_ARCHIVE,
    _Blobs,
    find_attachments,
    find_runs,
    parse_message,
    protect_message,
)

from .protect_helpers import JPEG, SevenZip, build_message

PASSWORD = "Xk7p-Q3mR-Zu9W-aB4c-Hn6e-Tt"
DATA = bytes(range(256)) * 40 + "社員名簿".encode()


def _lines(text: bytes, width: int, eol: bytes) -> bytes:
    return eol.join(text[i:i + width] for i in range(0, len(text), width)) + eol


def _message(body: bytes, eol: bytes = b"\r\n") -> bytes:
    head = (b"From: a@example.co.jp\nTo: b@example.jp\nSubject: x\nMIME-Version: 1.0\n"
            b"Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\n"
            b"Content-Type: text/plain\n\nbody\n--B\nContent-Type: application/octet-stream\n"
            b"Content-Disposition: attachment; filename=\"a.bin\"\n"
            b"Content-Transfer-Encoding: base64\n\n").replace(b"\n", eol)
    return head + body + eol.join([b"--B--", b""])


def _both(raw: bytes) -> list[tuple[bytes | None, bytes]]:
    """(fast decode or None, stdlib decode) of every attachment of ``raw``."""
    blobs = _Blobs(raw)
    fast = [blobs.decode(part) for _, part in find_attachments(parse_message(raw, blobs))
            if not part.is_multipart()]   # attached messages are re-serialised, not decoded
    plain = BytesParser(policy=policy.default).parsebytes(raw)
    slow = [part.get_payload(decode=True) for _, part in find_attachments(plain)
            if not part.is_multipart()]
    assert len(fast) == len(slow) and all(isinstance(s, bytes) for s in slow)
    return list(zip(fast, slow, strict=True))  # type: ignore[arg-type]


def _encoded(data: bytes) -> bytes:
    return base64.b64encode(data)


# name -> (body, whether the fast path must take it)
CASES: dict[str, tuple[Callable[[], bytes], bool]] = {
    "76-crlf": (lambda: _lines(_encoded(DATA), 76, b"\r\n"), True),
    "76-lf": (lambda: _lines(_encoded(DATA), 76, b"\n"), True),
    "64-crlf": (lambda: _lines(_encoded(DATA), 64, b"\r\n"), True),
    "pad1": (lambda: _lines(_encoded(DATA + b"xy"), 76, b"\r\n"), True),
    "pad2-long-last-line": (lambda: _lines(_encoded(DATA[:57 * 40 + 55]), 76, b"\r\n"), True),
    "pad2-short-last-line": (lambda: _lines(_encoded(DATA[:57 * 40 + 4]), 76, b"\r\n"), True),
    "small-no-run": (lambda: _lines(_encoded(b"tiny file"), 76, b"\r\n"), True),
    "empty": (lambda: b"", True),
    "width-70": (lambda: _lines(_encoded(DATA), 70, b"\r\n"), True),
    # the run (whole lines of 16+) ends mid-group; the short last line finishes it
    "width-70-run-not-groups-of-4": (lambda: _lines(_encoded(DATA[:10240]), 70, b"\r\n"),
                                     False),
    "missing-padding": (lambda: _lines(_encoded(DATA + b"x").rstrip(b"="), 76, b"\r\n"),
                        False),
    "space-inside": (lambda: _lines(_encoded(DATA), 76, b"\r\n").replace(b"\r\n", b" \r\n", 3),
                     False),
    "junk-line-between-runs": (lambda: _lines(_encoded(DATA), 76, b"\r\n")[:76 * 40]
                               + b"!!\r\n" + _lines(_encoded(DATA), 76, b"\r\n"), False),
    "two-encodings-concatenated": (lambda: _lines(_encoded(DATA + b"x"), 76, b"\r\n")
                                   + _lines(_encoded(DATA), 76, b"\r\n"), False),
    "mixed-line-endings": (lambda: _lines(_encoded(DATA), 76, b"\r\n").replace(
        b"\r\n", b"\n", 10), True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_span_decode_equals_the_stdlib(name: str) -> None:
    body, fast_expected = CASES[name]
    [(fast, slow)] = _both(_message(body()))
    if fast_expected:
        assert fast == slow
    else:
        assert fast is None or fast == slow
    if name == "width-70-run-not-groups-of-4":
        assert fast is None   # the lenient stdlib decode must run


def _stdlib_corpus() -> list[Path]:
    spec = importlib.util.find_spec("test")
    if spec is None or not spec.submodule_search_locations:
        return []
    data = Path(next(iter(spec.submodule_search_locations))) / "test_email" / "data"
    return sorted(data.glob("msg_*.txt"))


@pytest.mark.skipif(not _stdlib_corpus(), reason="CPython's test package is not installed")
def test_span_decode_on_cpythons_email_corpus() -> None:
    """Messages nobody here wrote: every attachment decodes as the stdlib decodes it."""
    fast_taken = 0
    for path in _stdlib_corpus():
        raw = path.read_bytes()
        try:
            pairs = _both(raw)
        except MessageError:   # not a message protect accepts (checked by other tests)
            continue
        for fast, slow in pairs:
            assert fast is None or fast == slow, path.name
            fast_taken += fast is not None
    assert fast_taken >= 3


FILES = [("社員名簿.csv", "氏名,電話\n山田,090\n".encode() * 3000), ("photo.jpg", JPEG),
         ("empty.txt", b""), ("Readme.TXT", b"ascii name")]


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot seek, like a pipe or a socket."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        view = memoryview(b).cast("B")  # type: ignore[arg-type]
        self.data += view
        return len(view)


@pytest.mark.parametrize("seekable", [True, False], ids=["file", "pipe"])
def test_archive_reads_back_in_7zip_and_pyzipper(tmp_path: Path, sevenzip: SevenZip,
                                                 seekable: bool) -> None:
    files = [ArchiveFile(n, d) for n, d in FILES]
    if seekable:
        out = io.BytesIO()
        encrypt_files(files, PASSWORD, out)
        data = out.getvalue()
    else:
        pipe = _Pipe()
        encrypt_files(files, PASSWORD, pipe)  # type: ignore[arg-type]
        data = bytes(pipe.data)
    path = tmp_path / "a.zip"
    path.write_bytes(data)
    assert sevenzip.test(path, PASSWORD).returncode == 0
    assert sevenzip.extract(path, PASSWORD, tmp_path / "x") == dict(FILES)
    with pyzipper.AESZipFile(io.BytesIO(data)) as zf:
        zf.setpassword(PASSWORD.encode())
        assert {i.filename: zf.read(i) for i in zf.infolist()} == dict(FILES)


def test_a_flipped_byte_is_caught_by_the_hmac(tmp_path: Path, sevenzip: SevenZip) -> None:
    out = io.BytesIO()
    encrypt_files([ArchiveFile("社員名簿.csv", FILES[0][1])], PASSWORD, out)
    data = bytearray(out.getvalue())
    data[200] ^= 1   # inside the encrypted data of the only entry
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(data))
    assert sevenzip.test(path, PASSWORD).returncode != 0


def test_plain_inner_archive_is_a_normal_zip_with_crc(tmp_path: Path) -> None:
    out = io.BytesIO()
    names = plain_archive([ArchiveFile(n, d) for n, d in FILES], out)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert names == zf.namelist() == [n for n, _ in FILES]
        assert all(i.flag_bits & 0x800 and not i.flag_bits & 0x1 for i in zf.infolist())


def test_over_the_zip_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "_LIMIT", 1000)
    with pytest.raises(ValueError, match="4 GB"):
        encrypt_files([ArchiveFile("big.bin", bytes(5000))], PASSWORD, io.BytesIO())


def _zip_bytes(message: bytes) -> bytes:
    msg = BytesParser(policy=policy.default).parsebytes(message)
    (part,) = [p for p in msg.walk() if p.get_content_type() == "application/zip"]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def _draft() -> EmailMessage:
    return build_message(attachments=[("社員名簿.csv", "text/csv", FILES[0][1]),
                                      ("photo.jpg", "image/jpeg", JPEG)])


@pytest.mark.parametrize("hide", [False, True], ids=["names-listed", "names-hidden"])
def test_hide_names_leaves_one_neutral_entry(tmp_path: Path, sevenzip: SevenZip,
                                             hide: bool) -> None:
    result = protect_message(_draft().as_bytes(), PASSWORD, hide_names=hide)
    assert result.files == ["社員名簿.csv", "photo.jpg"]
    path = tmp_path / result.zip_filename
    path.write_bytes(_zip_bytes(result.message))
    # What anyone sees without the password (7-Zip lists names of AES entries freely).
    listing = sevenzip.run("l", "-slt", "-pwrong-password", path)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    paths = [line[7:] for line in listing.stdout.splitlines() if line.startswith("Path = ")]
    if hide:
        assert paths[1:] == [INNER_ARCHIVE] and result.inner_archive == INNER_ARCHIVE
        assert "社員名簿" not in listing.stdout
        inner = sevenzip.extract(path, PASSWORD, tmp_path / "outer")[INNER_ARCHIVE]
        (tmp_path / "inner.zip").write_bytes(inner)
        files = sevenzip.extract(tmp_path / "inner.zip", "", tmp_path / "inner")
    else:
        assert paths[1:] == result.files and result.inner_archive is None
        files = sevenzip.extract(path, PASSWORD, tmp_path / "x")
    assert files == {"社員名簿.csv": FILES[0][1], "photo.jpg": JPEG}


def test_hide_names_comes_from_the_policy() -> None:
    from service.errors import PolicyError
    from service.policy.policyfile import parse_policy

    assert parse_policy("[delivery]\nhide_names = true\n").hide_names is True
    assert parse_policy("").hide_names is False
    with pytest.raises(PolicyError, match="hide_names"):
        parse_policy("[delivery]\nhide_names = \"yes\"\n")


def test_body_parts_are_never_decoded_by_the_fast_path() -> None:
    """Only attachments go through ``decode``; the body keeps its exact bytes."""
    raw = _draft().as_bytes()
    blobs = _Blobs(raw)
    msg = parse_message(raw, blobs)
    parts: list[Message] = [p for _, p in find_attachments(msg, blobs)]
    assert all(p.get_content_type() != "text/plain" for p in parts)


@pytest.mark.parametrize(("first_page", "pieces"), [
    (0, [1, 15, 16, 17, 1000, 300_000, (1 << 20) + 5, 3]),
    (0, [(1 << 20) - 16, 16, 32]),            # the end of the first page exactly
    (0, [100, 70_000, 1 << 16, 5]),           # keystream made in small and odd steps
    (255, [(1 << 20) * 2 + 7]),               # page 255 -> 256 changes two counter bytes
    (0x1_0000_FFFF, [(1 << 20) + 1]),         # a carry into the fifth counter byte
], ids=["odd-pieces", "page-edge", "small-steps", "page-255-256", "carry-byte-5"])
def test_counter_mode_matches_pycryptodomex(first_page: int, pieces: list[int]) -> None:
    """WinZip's little-endian CTR built on OpenSSL ECB == pycryptodomex's CTR mode."""
    from Cryptodome.Cipher import AES
    from Cryptodome.Util import Counter

    key = bytes(range(32))
    ours = archive._CounterModeLE(key)
    start = 1
    if first_page:
        ours._page, ours._at = first_page, 0
        start = first_page << 16
    oracle = AES.new(key, AES.MODE_CTR,
                     counter=Counter.new(128, little_endian=True, initial_value=start))
    data = bytes(range(251)) * (sum(pieces) // 251 + 1)
    pos = 0
    for size in pieces:
        chunk = data[pos:pos + size]
        assert b"".join(ours.encrypt(chunk)) == oracle.encrypt(chunk), (pos, size)
        pos += size


def _b64_line(rng: random.Random, width: int) -> bytes:
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    return bytes(rng.choice(alphabet) for _ in range(width))


def _random_text(seed: int) -> bytes:
    """Runs of base64 lines of several widths and endings, with defects dropped in."""
    rng = random.Random(seed)
    out = [b"Subject: x\r\n\r\n"]
    for _ in range(rng.randint(1, 6)):
        width, eol = rng.choice([76, 64, 16, 15, 17, 100]), rng.choice([b"\r\n", b"\n"])
        line = _b64_line(rng, width)
        count = rng.choice([31, 32, 33, 200, 15_000])   # 15,000 lines: past a 1 MB block
        body = bytearray((line + eol) * count)
        for _ in range(rng.randint(0, 3)):              # a defect somewhere
            at = rng.randrange(len(body))
            body[at:at + 1] = rng.choice([b" ", b"\n", b"\r", b"-", b"=", b"\r\n", b""])
        if rng.random() < 0.3:
            body += _b64_line(rng, rng.randint(1, 20)) + eol   # a short last line
        out += [bytes(body), rng.choice([b"", b"--boundary\r\n", b"text line\n", b"\n"])]
    return b"".join(out)


@pytest.mark.parametrize("seed", range(40))
def test_find_runs_gives_the_regexs_runs(seed: int) -> None:
    raw = _random_text(seed)
    assert find_runs(raw) == [m.span() for m in _B64_RUN.finditer(raw)]


def test_find_runs_on_a_real_draft() -> None:
    raw = _draft().as_bytes()
    for data in (raw, raw.replace(b"\r\n", b"\n")):
        spans = find_runs(data)
        assert spans and spans == [m.span() for m in _B64_RUN.finditer(data)]


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("at", [40, 5000, 14_000])
def test_find_runs_sees_a_short_line_hidden_by_a_long_one(eol: bytes, at: int) -> None:
    """Same length and line count as a clean block, but one line too short for a run."""
    line = _b64_line(random.Random(1), 76)
    lines = [line] * 15_000
    lines[at], lines[at + 1] = line[:5], line + line[5:]
    raw = b"Subject: x\r\n\r\n" + b"".join(x + eol for x in lines)
    assert find_runs(raw) == [m.span() for m in _B64_RUN.finditer(raw)]
    assert len(find_runs(raw)) == 2


def test_protect_loads_no_heavy_or_unused_library(tmp_path: Path) -> None:
    """Start-up is most of a small protect: no pyzipper, pycryptodomex (cffi), database or
    web stack behind ``protect_message``."""
    eml = tmp_path / "d.eml"
    eml.write_bytes(_draft().as_bytes())
    code = ("import sys\nfrom service.protect.mime import protect_message\n"
            f"protect_message(open({str(eml)!r}, 'rb').read(), 'pw-1234-5678')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    for heavy in ("pyzipper", "Cryptodome", "cffi", "sqlalchemy", "alembic", "flask",
                  "googleapiclient", "logging", "mimetypes"):   # named files: no mimetypes
        assert f"'{heavy}'" not in loaded, heavy


@pytest.mark.parametrize("crlf", [True, False], ids=["crlf", "lf"])
def test_zip_base64_is_whole_76_character_lines(crlf: bool, tmp_path: Path,
                                                sevenzip: SevenZip) -> None:
    """The ZIP is base64-encoded piece by piece (3 MB: several chunks, odd piece sizes)."""
    big = random.Random(7).randbytes(3 * 1024 * 1024 + 11)
    raw = build_message(attachments=[("big.bin", "application/octet-stream", big),
                                     ("社員名簿.csv", "text/csv", FILES[0][1])],
                        crlf=crlf).as_bytes()
    result = protect_message(raw, PASSWORD)
    nl = b"\r\n" if crlf else b"\n"
    body = result.message.split(b"Content-Transfer-Encoding: base64" + nl + nl)[-1]
    lines = body.split(nl)
    encoded = lines[:next(i for i, line in enumerate(lines) if line.startswith(b"--"))]
    assert {len(line) for line in encoded[:-1]} == {76} and 0 < len(encoded[-1]) <= 76
    assert b"".join(encoded) == base64.b64encode(_zip_bytes(result.message))
    (tmp_path / "a.zip").write_bytes(_zip_bytes(result.message))
    assert sevenzip.extract(tmp_path / "a.zip", PASSWORD, tmp_path / "x")["big.bin"] == big


def test_parsed_headers_are_shared_but_long_ones_are_not_kept() -> None:
    """The read policy reuses header objects (same answers as policy.default) and keeps
    no huge value (a 5 MB To header) in its cache."""
    from service.protect import mime

    raw = _draft().as_bytes()
    names = [(p.get_content_type(), p.get_filename()) for p in
             BytesParser(policy=policy.default).parsebytes(raw).walk()]
    msg = parse_message(raw)
    assert [(p.get_content_type(), p.get_filename()) for p in msg.walk()] == names
    assert msg["Content-Type"] is msg["Content-Type"]    # parsed once, then shared
    huge = ", ".join(f"user{i}@example.jp" for i in range(300))
    before = mime._parsed_header.cache_info().currsize
    assert str(mime.READ_POLICY.header_fetch_parse("To", huge)).startswith("user0@")
    assert mime._parsed_header.cache_info().currsize == before


def _around_zip(message: bytes, nl: bytes) -> tuple[bytes, bytes]:
    """The message without the ZIP's base64 lines: what is before and after them."""
    head, sep, rest = message.rpartition(b"Content-Transfer-Encoding: base64" + nl + nl)
    lines = rest.split(nl)
    end = next(i for i, line in enumerate(lines) if not line or line.startswith(b"--"))
    return head + sep, nl.join(lines[end:])


@pytest.mark.parametrize("hide", [False, True], ids=["names-listed", "names-hidden"])
@pytest.mark.parametrize("crlf", [True, False], ids=["crlf", "lf"])
def test_written_chunk_by_chunk_is_the_joined_message(crlf: bool, hide: bool) -> None:
    """``write_to`` (the CLI: no joined copy) writes the message ``message`` gives: same
    size, same text around the ZIP, whole 76-character lines of a ZIP with the files."""
    big = random.Random(3).randbytes(2 * 1024 * 1024 + 5)      # several base64 chunks
    raw = build_message(attachments=[("big.bin", "application/octet-stream", big),
                                     ("社員名簿.csv", "text/csv", FILES[0][1])],
                        crlf=crlf).as_bytes()
    nl = b"\r\n" if crlf else b"\n"
    when = datetime(2026, 12, 3, 9, 30)
    joined = protect_message(raw, PASSWORD, hide_names=hide, now=when).message
    streamed = protect_message(raw, PASSWORD, hide_names=hide, now=when)
    out = io.BytesIO()
    streamed.write_to(out)
    written = out.getvalue()
    assert len(written) == streamed.size == len(joined)
    assert _around_zip(written, nl) == _around_zip(joined, nl)
    body = written.split(b"Content-Transfer-Encoding: base64" + nl + nl)[-1].split(nl)
    encoded = body[:next(i for i, line in enumerate(body) if line.startswith(b"--"))]
    assert {len(line) for line in encoded[:-1]} == {76}
    with pyzipper.AESZipFile(io.BytesIO(_zip_bytes(written))) as zf:
        zf.setpassword(PASSWORD.encode())
        if hide:
            assert zf.namelist() == [INNER_ARCHIVE]
            inner = zipfile.ZipFile(io.BytesIO(zf.read(INNER_ARCHIVE)))
            assert inner.read("big.bin") == big
        else:
            assert zf.read("big.bin") == big
            assert zf.read("社員名簿.csv") == FILES[0][1]


def test_a_result_is_written_or_joined_once() -> None:
    """The ZIP is encoded as it is taken: after ``write_to`` there is no ``message`` (an
    error, not an empty message); after ``message``, ``write_to`` writes that."""
    raw = _draft().as_bytes()
    first = protect_message(raw, PASSWORD)
    first.write_to(io.BytesIO())
    with pytest.raises(RuntimeError, match="written out already"):
        first.message  # noqa: B018
    second = protect_message(raw, PASSWORD)
    out = io.BytesIO()
    second.write_to(out)
    assert second.size == len(out.getvalue())
    third = protect_message(raw, PASSWORD)
    message = third.message
    again = io.BytesIO()
    third.write_to(again)
    assert again.getvalue() == message == third.message
    assert str(third.size) in repr(third) and len(repr(third)) < 300   # no message bytes
