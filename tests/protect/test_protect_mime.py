"""One AES-256 ZIP replaces every attachment; body, inline images and headers stay."""

from __future__ import annotations

import base64
import os
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

import pytest

from service.errors import AttachmentError, MessageError
from service.i18n import using
from service.protect.mime import protect_message

from .protect_helpers import JPEG, PNG, SevenZip, build_message

PASSWORD = "Xk7p-Q3mR-Zu9W-aB4c-Hn6e-Tt"
NOW = datetime(2026, 11, 23, 10, 30)
CSV = "氏名,電話\nSECRET-山田,090-1234-5678\n".encode() * 300
XLSX = b"PK\x03\x04" + os.urandom(4000) + b"SECRET-XLSX-TAIL"
ATTACHMENTS = [("見積書.xlsx", "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet", XLSX),
               ("社員名簿.csv", "text/csv", CSV)]


def _parse(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def _shape(part: Message) -> object:
    if part.is_multipart():
        shapes = []
        for p in part.get_payload():
            assert isinstance(p, Message)
            shapes.append(_shape(p))
        return (part.get_content_type(), shapes)
    return part.get_content_type()


def _attachments(msg: EmailMessage) -> list[EmailMessage]:
    return [p for p in msg.walk() if p.get_content_disposition() == "attachment"]


def _zip_of(result_msg: EmailMessage, tmp_path: Path) -> Path:
    (part,) = _attachments(result_msg)
    path = tmp_path / str(part.get_filename())
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    path.write_bytes(data)
    return path


@pytest.fixture
def draft() -> EmailMessage:
    return build_message(attachments=ATTACHMENTS, inline_image=PNG, reply=True)


def test_gmail_draft_keeps_body_inline_image_and_structure(draft: EmailMessage,
                                                           tmp_path: Path,
                                                           sevenzip: SevenZip) -> None:
    raw = draft.as_bytes()
    result = protect_message(raw, PASSWORD, now=NOW)
    source = _parse(raw)
    assert result.zip_filename == "attachments-20261123.zip"
    assert result.files == ["見積書.xlsx", "社員名簿.csv"]
    out = _parse(result.message)
    assert out.defects == []
    assert _shape(out) == ("multipart/mixed", [
        ("multipart/related", [("multipart/alternative", ["text/plain", "text/html"]),
                               "image/png"]),
        "application/zip"])
    src_parts = {p.get_content_type(): p for p in source.walk()}
    for ctype in ("text/plain", "text/html", "image/png"):
        (kept,) = [p for p in out.walk() if p.get_content_type() == ctype]
        assert kept.get_payload(decode=True) == src_parts[ctype].get_payload(decode=True)
        assert kept.items() == src_parts[ctype].items()
    path = _zip_of(out, tmp_path)
    for entry in sevenzip.entries(path, PASSWORD):
        assert entry["Encrypted"] == "+" and entry["Method"].startswith("AES-256")
    extracted = sevenzip.extract(path, PASSWORD, tmp_path / "x")
    assert extracted == {name: data for name, _, data in ATTACHMENTS}
    assert sevenzip.test(path, "wrong").returncode != 0


def test_every_header_is_kept_byte_for_byte(draft: EmailMessage) -> None:
    raw = draft.as_bytes()
    result = protect_message(raw, PASSWORD, now=NOW)
    head_in = raw.split(b"\r\n\r\n", 1)[0]
    head_out = result.message.split(b"\r\n\r\n", 1)[0]
    assert head_out == head_in
    out = _parse(result.message)
    for name in ("From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To",
                 "References"):
        assert out[name] == draft[name], name


def test_nothing_of_the_attachments_is_left(draft: EmailMessage) -> None:
    result = protect_message(draft.as_bytes(), PASSWORD, now=NOW)
    out = _parse(result.message)
    decoded = [p.get_payload(decode=True) or b"" for p in out.walk() if not p.is_multipart()]
    for _, _, data in ATTACHMENTS:
        probes = [data[:64], data[len(data) // 2:len(data) // 2 + 64], data[-64:]]
        for probe in probes:
            assert probe not in result.message
            assert base64.b64encode(probe)[8:-8] not in result.message
            assert all(probe not in payload for payload in decoded)
    names_in_headers = {p.get_filename() for p in out.walk() if p.get_filename()}
    assert names_in_headers == {"logo.png", result.zip_filename}
    assert b"SECRET" not in result.message


@pytest.mark.parametrize("crlf", [True, False], ids=["crlf", "lf"])
def test_line_endings_follow_the_input(crlf: bool) -> None:
    raw = build_message(attachments=ATTACHMENTS, crlf=crlf).as_bytes()
    assert (b"\r\n" in raw) == crlf
    result = protect_message(raw, PASSWORD, now=NOW)
    if crlf:
        assert result.message.count(b"\n") == result.message.count(b"\r\n")
    else:
        assert b"\r" not in result.message


@pytest.mark.parametrize("kind", [bytearray, memoryview], ids=["bytearray", "memoryview"])
def test_bytes_like_input_gives_the_same_message(draft: EmailMessage, kind: type) -> None:
    raw = draft.as_bytes()
    buffer = bytearray(raw)
    result = protect_message(kind(buffer), PASSWORD, now=NOW)
    assert buffer == raw
    assert result.files == ["見積書.xlsx", "社員名簿.csv"]
    assert result.message.split(b"\r\n\r\n", 1)[0] == raw.split(b"\r\n\r\n", 1)[0]


def test_input_is_untouched_and_output_round_trips_through_a_file(
        draft: EmailMessage, tmp_path: Path, sevenzip: SevenZip) -> None:
    raw = draft.as_bytes()
    copy = bytes(bytearray(raw))
    result = protect_message(raw, PASSWORD, now=NOW)
    assert raw == copy
    eml = tmp_path / "out.eml"
    eml.write_bytes(result.message)
    with eml.open("rb") as f:
        again = BytesParser(policy=policy.default).parse(f)
    assert all(not p.defects for p in again.walk())
    plain_again, plain_draft = again.get_body(("plain",)), draft.get_body(("plain",))
    assert plain_again is not None and plain_draft is not None
    assert plain_again.get_content() == plain_draft.get_content()
    assert sevenzip.extract(_zip_of(again, tmp_path), PASSWORD, tmp_path / "x")["社員名簿.csv"] \
        == CSV


def _raw_with_disposition(disposition: bytes, ctype: bytes = b"application/octet-stream"
                          ) -> bytes:
    return (b"From: a@example.co.jp\r\nTo: b@example.jp\r\nSubject: x\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
            b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
            b"--B\r\nContent-Type: " + ctype + b"\r\n" + disposition +
            b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(XLSX) + b"\r\n--B--\r\n")


def _b64word(text: str, charset: str = "UTF-8") -> bytes:
    return (f"=?{charset}?B?".encode() + base64.b64encode(text.encode(charset)) + b"?=")


@pytest.mark.parametrize("disposition", [
    b"Content-Disposition: attachment; filename*=UTF-8''%E8%A6%8B%E7%A9%8D%E6%9B%B8.xlsx",
    b"Content-Disposition: attachment;\r\n filename*0*=UTF-8''%E8%A6%8B%E7%A9%8D;\r\n"
    b" filename*1*=%E6%9B%B8.xlsx",
    b'Content-Disposition: attachment; filename="' + _b64word("見積書.xlsx") + b'"',
    b'Content-Disposition: attachment; filename="' + _b64word("見積書.xlsx", "ISO-2022-JP")
    + b'"',
    b'Content-Disposition: attachment; filename="' + _b64word("見積書.xlsx", "Shift_JIS")
    + b'"',
    b'Content-Disposition: attachment; filename="' + "見積書.xlsx".encode() + b'"',
    b'Content-Disposition: attachment; filename="' + "見積書.xlsx".encode("cp932") + b'"',
    b'Content-Disposition: attachment; filename="' + "見積書.xlsx".encode("euc-jp") + b'"',
    b'Content-Disposition: attachment; filename="' + "見積書.xlsx".encode("iso-2022-jp")
    + b'"',
], ids=["rfc2231", "rfc2231-continued", "encoded-word-utf8", "encoded-word-iso2022jp",
        "encoded-word-sjis", "raw-utf8", "raw-shift-jis", "raw-euc-jp", "raw-iso2022jp"])
def test_japanese_names_come_out_exactly(disposition: bytes, tmp_path: Path,
                                         sevenzip: SevenZip) -> None:
    result = protect_message(_raw_with_disposition(disposition), PASSWORD, now=NOW)
    assert result.files == ["見積書.xlsx"]
    extracted = sevenzip.extract(_zip_of(_parse(result.message), tmp_path), PASSWORD,
                                 tmp_path / "x")
    assert extracted == {"見積書.xlsx": XLSX}


def test_name_from_content_type_when_disposition_is_missing() -> None:
    raw = _raw_with_disposition(b"X-Attachment-Id: f_1",
                                b'application/pdf; name="' + _b64word("請求書.pdf") + b'"')
    assert protect_message(raw, PASSWORD, now=NOW).files == ["請求書.pdf"]


def _only_zip(result_message: bytes) -> EmailMessage:
    out = _parse(result_message)
    (part,) = _attachments(out)
    assert part.get_content_type() == "application/zip"
    return out


@pytest.mark.parametrize(("build", "files"), [
    (lambda: build_message(attachments=[("a.txt", "text/plain", b"one"),
                                        ("a.txt", "text/plain", b"two")]),
     ["a.txt", "a (2).txt"]),
    (lambda: _with_unreferenced_inline_image(), ["photo.jpg"]),
    (lambda: _with_forwarded_message(), ["転送.eml"]),
    (lambda: _single_part_attachment(), ["scan.pdf"]),
    (lambda: _unnamed_binary_part(), ["attachment-1.bin"]),
    (lambda: _nested_mixed(), ["inner.csv", "outer.txt"]),
], ids=["duplicate-names", "unreferenced-inline-image", "forwarded-eml",
        "whole-message-is-attachment", "unnamed-binary", "nested-mixed"])
def test_attachment_shapes(build: object, files: list[str], tmp_path: Path,
                           sevenzip: SevenZip) -> None:
    msg = build()  # type: ignore[operator]
    raw = msg.as_bytes() if isinstance(msg, Message) else msg
    result = protect_message(raw, PASSWORD, now=NOW)
    assert result.files == files
    out = _only_zip(result.message)
    assert set(sevenzip.extract(_zip_of(out, tmp_path), PASSWORD, tmp_path / "x")) == set(files)


def _with_unreferenced_inline_image() -> EmailMessage:
    msg = build_message()
    msg.add_attachment(JPEG, maintype="image", subtype="jpeg", filename="photo.jpg",
                       disposition="inline", cid="<not-in-html@x>")
    return msg


def _with_forwarded_message() -> EmailMessage:
    inner = build_message(attachments=ATTACHMENTS)
    msg = build_message()
    msg.add_attachment(inner, filename="転送.eml")
    return msg


def _single_part_attachment() -> bytes:
    return (b"From: a@example.co.jp\r\nTo: b@example.jp\r\nSubject: scan\r\nMIME-Version: 1.0"
            b"\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            b"filename=scan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(b"%PDF-1.4 secret") + b"\r\n")


def _unnamed_binary_part() -> EmailMessage:
    msg = build_message()
    msg.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream")
    parts = msg.get_payload()
    assert isinstance(parts, list)
    last = parts[-1]
    assert isinstance(last, Message)
    del last["Content-Disposition"]
    return msg


def _nested_mixed() -> EmailMessage:
    inner = EmailMessage()
    inner.add_attachment(CSV, maintype="text", subtype="csv", filename="inner.csv")
    msg = build_message()
    msg.make_mixed()
    msg.attach(inner)
    msg.add_attachment(b"outer", maintype="text", subtype="plain", filename="outer.txt")
    return msg


def test_cid_in_an_attached_html_file_does_not_keep_an_image() -> None:
    msg = build_message()
    msg.add_attachment('<img src="cid:photo@x">', subtype="html", filename="page.html")
    msg.add_attachment(JPEG, maintype="image", subtype="jpeg", cid="<photo@x>",
                       disposition="inline")
    result = protect_message(msg.as_bytes(), PASSWORD, now=NOW)
    assert result.files == ["page.html", "attachment-2.jpg"]
    assert not [p for p in _parse(result.message).walk() if p.get_content_maintype() == "image"]


def test_inline_image_referenced_by_cid_stays_even_if_marked_attachment() -> None:
    msg = build_message(attachments=ATTACHMENTS[:1], inline_image=PNG)
    (image,) = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    image.replace_header("Content-Disposition", 'attachment; filename="logo.png"')
    html = msg.get_body(("html",))
    assert html is not None
    html.set_content('<img src="cid:logo-1%40example.co.jp">', subtype="html")
    result = protect_message(msg.as_bytes(), PASSWORD, now=NOW)
    assert result.files == ["見積書.xlsx"]
    out = _parse(result.message)
    assert [p.get_payload(decode=True) for p in out.walk()
            if p.get_content_type() == "image/png"] == [PNG]


def _raw(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


NO_BOUNDARY = _raw("From: a@example.co.jp\nTo: b@example.jp\nSubject: x\nMIME-Version: 1.0\n"
                   "Content-Type: multipart/mixed; boundary=\"MISSING\"\n\n--OTHER\n\nbody\n")


@pytest.mark.parametrize(("raw", "kwargs", "error", "needle"), [
    (build_message().as_bytes(), {}, AttachmentError, "no attachments to encrypt"),
    (build_message(inline_image=PNG).as_bytes(), {}, AttachmentError,
     "no attachments to encrypt"),
    (b"", {}, MessageError, "empty"),
    (b"\x00\x01\x02\xff\xfe garbage \x89PNG" * 50, {}, MessageError, "not an e-mail"),
    (b"hello world\nthis is a note, not mail\n", {}, MessageError, "not an e-mail"),
    (JPEG, {}, MessageError, "not an e-mail"),
    ("From: a@b\n\nx", {}, MessageError, "not bytes"),
    (NO_BOUNDARY, {}, MessageError, "boundary"),
    (build_message(attachments=[("setup.exe", "application/octet-stream", b"MZ")]).as_bytes(),
     {"blocked_extensions": [".exe"]}, AttachmentError, "setup.exe"),
    (build_message(attachments=[("setup.EXE", "application/octet-stream", b"MZ")]).as_bytes(),
     {"blocked_extensions": ["exe"]}, AttachmentError, "setup.EXE"),
    (build_message(attachments=[("run.ｅｘｅ", "application/octet-stream", b"MZ")]).as_bytes(),
     {"blocked_extensions": [".exe"]}, AttachmentError, "run.ｅｘｅ"),
    (build_message(attachments=[("trail.exe. ", "application/octet-stream", b"MZ")]).as_bytes(),
     {"blocked_extensions": [".exe"]}, AttachmentError, "trail.exe"),
    (build_message(attachments=[("ok.txt", "text/plain", b"x"),
                                ("macro.XLSM", "application/octet-stream", b"PK")]).as_bytes(),
     {"blocked_extensions": [".exe", ".xlsm"]}, AttachmentError, "macro.XLSM"),
    (build_message(attachments=ATTACHMENTS).as_bytes(), {"max_size": 4000}, AttachmentError,
     "bytes), over the limit"),
], ids=["no-attachments", "only-inline-image", "empty", "binary-garbage", "plain-text",
        "jpeg-file", "str-not-bytes", "missing-boundary", "blocked", "blocked-no-dot-case",
        "blocked-full-width", "blocked-trailing-dot", "blocked-second", "too-large"])
def test_bad_input_is_refused_with_a_clear_error(raw: bytes, kwargs: dict[str, object],
                                                 error: type[Exception], needle: str) -> None:
    with pytest.raises(error) as info:
        protect_message(raw, PASSWORD, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert needle in str(info.value)


@pytest.mark.parametrize(("name", "blocked"), [
    ("exe.txt", [".exe"]),
    ("report.exe.pdf", [".exe"]),
    ("texe", [".exe"]),
], ids=["ext-in-stem", "middle-ext", "no-dot"])
def test_close_names_are_not_blocked(name: str, blocked: list[str]) -> None:
    raw = build_message(attachments=[(name, "application/octet-stream", b"data")]).as_bytes()
    assert protect_message(raw, PASSWORD, blocked_extensions=blocked, now=NOW).files == [name]


def test_too_large_names_the_size() -> None:
    raw = build_message(attachments=ATTACHMENTS).as_bytes()
    size = len(protect_message(raw, PASSWORD, now=NOW).message)
    with pytest.raises(AttachmentError) as info:
        protect_message(raw, PASSWORD, now=NOW, max_size=size - 1)
    assert f"({size} bytes)" in str(info.value)
    assert protect_message(raw, PASSWORD, now=NOW, max_size=size).message


@pytest.mark.parametrize(("kwargs", "locale", "needle"), [
    ({}, "ja", "暗号化する添付ファイルがありません"),
    ({}, "en", "no attachments to encrypt"),
], ids=["ja", "en"])
def test_errors_speak_the_users_language(kwargs: dict[str, object], locale: str,
                                         needle: str) -> None:
    with using(locale), pytest.raises(AttachmentError, match=needle):
        protect_message(build_message().as_bytes(), PASSWORD, now=NOW)


def test_blocked_error_in_japanese_names_the_file() -> None:
    raw = build_message(attachments=[("給与.exe", "application/octet-stream", b"MZ")]).as_bytes()
    with using("ja"), pytest.raises(AttachmentError, match=r"「給与\.exe」"):
        protect_message(raw, PASSWORD, blocked_extensions=[".exe"], now=NOW)


# --- Long base64 bodies are cut out before parsing and restored: prove nothing changes ---

BIG_PNG = PNG + os.urandom(40_000)
BIG_ZIP = b"PK\x03\x04" + os.urandom(200_000)


def _leaf(msg: EmailMessage, ctype: str) -> EmailMessage:
    (part,) = [p for p in msg.walk() if p.get_content_type() == ctype]
    return part


def test_long_base64_html_and_inline_image_survive_byte_for_byte() -> None:
    msg = build_message(attachments=[("archive.zip", "application/zip", BIG_ZIP)],
                        inline_image=BIG_PNG)
    html = _leaf(msg, "text/html")
    long_html = "<p>" + "お見積りの詳細は添付をご覧ください。" * 300 + "</p>"
    html.set_content(long_html + '<img src="cid:logo-1@example.co.jp">', subtype="html",
                     cte="base64")
    raw = msg.as_bytes()
    source = _parse(raw)
    assert len(str(_leaf(source, "text/html").get_payload()).splitlines()) > 100
    result = protect_message(raw, PASSWORD, now=NOW)
    assert result.files == ["archive.zip"]
    assert b"SENDGUARD-BLOB" not in result.message
    out = _parse(result.message)
    for ctype in ("text/html", "image/png", "text/plain"):
        assert _leaf(out, ctype).get_payload() == _leaf(source, ctype).get_payload(), ctype
    assert _leaf(out, "image/png").get_payload(decode=True) == BIG_PNG
    assert _leaf(out, "text/html").get_content().startswith(long_html)


def test_forwarded_message_keeps_its_own_attachments_exactly(tmp_path: Path,
                                                             sevenzip: SevenZip) -> None:
    inner = build_message(attachments=[*ATTACHMENTS, ("big.zip", "application/zip", BIG_ZIP)],
                          inline_image=BIG_PNG)
    msg = build_message()
    msg.add_attachment(inner, filename="転送.eml")
    result = protect_message(msg.as_bytes(), PASSWORD, now=NOW)
    assert result.files == ["転送.eml"]
    extracted = sevenzip.extract(_zip_of(_parse(result.message), tmp_path), PASSWORD,
                                 tmp_path / "x")["転送.eml"]
    assert b"SENDGUARD-BLOB" not in extracted
    forwarded = _parse(extracted)
    assert {p.get_filename(): p.get_payload(decode=True) for p in _attachments(forwarded)} == {
        "見積書.xlsx": XLSX, "社員名簿.csv": CSV, "big.zip": BIG_ZIP}
    assert _leaf(forwarded, "image/png").get_payload(decode=True) == BIG_PNG
