"""Hostile message shapes (issue 9) built in memory: the kinds of input public mail-parser
test corpora and fuzzers keep finding (deep multipart nesting, giant headers, HTML that
makes naive tag strippers quadratic, PDFs whose pages share one huge content stream,
unknown or dangerous charsets, invalid UTF-8 in headers). Used by the tests and by
``benchmarks/bench_attachments.py``; every builder is deterministic."""

from __future__ import annotations

import base64
import io
import zlib

HEAD = (b"From: sender@example.co.jp\r\nTo: partner@partner.example.com\r\n"
        b"Subject: shape\r\nMIME-Version: 1.0\r\n")


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def with_attachment(name: str, ctype: str, data: bytes, body: bytes = b"see attached\r\n"
                    ) -> bytes:
    """A multipart/mixed message carrying ``data`` as one base64 attachment."""
    return (HEAD + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body +
            b"--b1\r\nContent-Type: " + ctype.encode() + b'; name="' + name.encode() +
            b'"\r\nContent-Disposition: attachment; filename="' + name.encode() +
            b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + _b64(data) + b"--b1--\r\n")


def quadratic_html(size: int) -> bytes:
    """An HTML body of ``size`` bytes: unclosed ``<`` and ``<script`` openers, which make
    ``<[^>]+>``-style and ``<script.*?</script>`` strippers rescan the rest each time."""
    unit = b"<a <script x" + b"<" * 20
    body = (unit * (size // len(unit) + 1))[:size]
    return (HEAD + b"Content-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n")


def shared_stream_pdf(pages: int = 200, ops: int = 400_000) -> bytes:
    """A small PDF whose ``pages`` pages all point at one deflated content stream of
    ``ops`` text-showing operators (tens of MB once inflated, ~35 KB on the wire)."""
    content = b"BT /F1 1 Tf 0 0 Td " + b"(0312345678 a@b.jp) Tj " * ops + b"ET"
    stream = zlib.compress(content, 9)
    objs: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(f"{5 + i} 0 R".encode() for i in range(pages))
        + b"] /Count " + str(pages).encode() + b" >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n"
        + stream + b"\nendstream",
    ]
    for _ in range(pages):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                    b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>")
    return _pdf(objs)


def text_pdf(pages: int, lines: list[str]) -> bytes:
    """A plain PDF of ``pages`` pages, each showing ``lines`` (ASCII) with Helvetica."""
    objs: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                         b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for p in range(pages):
        ops = b"BT /F1 9 Tf 20 770 Td 11 TL " + b" ".join(
            b"(" + f"{line} p{p}".encode("ascii") + b") '" for line in lines) + b" ET"
        data = zlib.compress(ops)
        objs.append(b"<< /Length " + str(len(data)).encode() + b" /Filter /FlateDecode >>"
                    b"\nstream\n" + data + b"\nendstream")
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                    b"/Resources << /Font << /F1 3 0 R >> >> /Contents "
                    + str(len(objs)).encode() + b" 0 R >>")
        kids.append(f"{len(objs)} 0 R".encode())
    objs[1] = (b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count "
               + str(pages).encode() + b" >>")
    return _pdf(objs)


def _pdf(objs: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


def many_parts(n: int) -> bytes:
    """A multipart/mixed message of ``n`` tiny text parts."""
    part = b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    return (HEAD + b'Content-Type: multipart/mixed; boundary="p"\r\n\r\n' + part * n
            + b"--p--\r\n")


def many_params(n: int) -> bytes:
    """A Content-Type header with ``n`` parameters (folded, as a mailer would)."""
    params = b"".join(b";\r\n a%d=\"v%d\"" % (i, i) for i in range(n))
    return (HEAD + b"Content-Type: text/plain; charset=utf-8" + params + b"\r\n\r\nhello\r\n")


def huge_to(size: int) -> bytes:
    """A To header of about ``size`` bytes of short, mostly valid addresses."""
    unit = b"u%d@x%d.example.com, "
    parts = []
    total = 0
    i = 0
    while total < size:
        s = unit % (i, i % 997)
        parts.append(s)
        total += len(s)
        i += 1
    return (b"From: sender@example.co.jp\r\nTo: " + b"".join(parts).rstrip(b", ")
            + b"\r\nSubject: many\r\n\r\nhi\r\n")


def deep_nesting(depth: int) -> bytes:
    """``depth`` levels of multipart/mixed, one text part at the bottom."""
    out = [HEAD.rstrip(b"\r\n") + b"\r\n"]
    for i in range(depth):
        out.append(b'Content-Type: multipart/mixed; boundary="d%d"\r\n\r\n--d%d\r\n' % (i, i))
    out.append(b"Content-Type: text/plain\r\n\r\ndeep 090-1234-5678\r\n")
    for i in reversed(range(depth)):
        out.append(b"--d%d--\r\n" % i)
    return b"".join(out)


def idna_charset(forwarded: bool = False) -> bytes:
    """A text part declaring ``charset=idna`` (a codec Python has, which raises
    UnicodeError on ordinary text); optionally inside a forwarded message/rfc822."""
    inner = (b"Content-Type: text/plain; charset=idna\r\nSubject: =?idna?q?x?=\r\n\r\n"
             b"..bad..label\r\n")
    if not forwarded:
        return HEAD + inner
    return (HEAD + b'Content-Type: multipart/mixed; boundary="f"\r\n\r\n--f\r\n'
            b"Content-Type: text/plain\r\n\r\nFYI\r\n--f\r\n"
            b"Content-Type: message/rfc822\r\n\r\nFrom: a@b.example\r\n" + inner + b"--f--\r\n")


def invalid_utf8_header() -> bytes:
    """Headers with bytes that are not UTF-8 (Latin-1 and a cut Shift_JIS lead byte)."""
    return (b"From: Jos\xe9 <jose@example.co.jp>\r\nTo: Ren\xe9 <rene@partner.example.com>,"
            b" \x82 <bad\xff@partner.example.com>\r\nSubject: caf\xe9 \x83\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n")


def customer_rows(n: int) -> list[list[object]]:
    """``n`` rows of a made-up customer list: name, e-mail, phone, postcode, amount, note."""
    return [[f"顧客{i:06d}", f"customer{i}@example{i % 50}.jp",
             f"0{(i % 8) + 1}-{1000 + i % 9000:04d}-{(i * 7919) % 10000:04d}",
             f"{100 + i % 900:03d}-{i % 10000:04d}", i * 13 % 100000, "備考なし"]
            for i in range(n)]


def big_xlsx(rows: int) -> bytes:
    """A one-sheet customer list of ``rows`` rows, written by openpyxl (write-only)."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("顧客")
    ws.append(["氏名", "メール", "電話", "郵便番号", "金額", "備考"])
    for start in range(0, rows, 10_000):
        for row in customer_rows(min(10_000, rows - start)):
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def big_docx(paragraphs: int) -> bytes:
    """A DOCX of ``paragraphs`` paragraphs with customer lines (python-docx).

    The same bytes as ``document.add_paragraph(line)`` for each line, made in linear time:
    ``add_paragraph`` looks for the section properties among all the body's children every
    time (20,000 paragraphs: 18 s of CPU, now ~1 s). python-docx makes each distinct line's
    paragraph (a run of text and tabs); later ones copy it with their own number."""
    import copy

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    document = docx.Document()
    rows = customer_rows(min(paragraphs, 1000))
    body = document.element.body
    end = body.sectPr
    made = []
    for i in range(paragraphs):
        if i < len(rows):
            p = OxmlElement("w:p")
            Paragraph(p, document._body).add_run("\t".join(str(v) for v in rows[i]) + f" #{i}")
            made.append(p)
        else:
            p = copy.deepcopy(made[i % len(rows)])
            last = p.findall(".//" + qn("w:t"))[-1]
            last.text = last.text.rsplit(" #", 1)[0] + f" #{i}"
        if end is None:
            body.append(p)
        else:
            end.addprevious(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
