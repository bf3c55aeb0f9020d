"""Messages from a file: one ``.eml`` or an mbox (a Vault export, the report-mode copy
mailbox). Unreadable input is a ``MessageError`` naming the file, never a traceback."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from pathlib import Path

from service.errors import MessageError

MAX_EML = 64 << 20                     # Gmail's limit is 35 MB; anything larger is not mail
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:", re.MULTILINE)


def _looks_like_mail(raw: bytes) -> bool:
    head = raw[:8192]
    return bool(_HEADER_LINE.match(head))


def read_messages(path: str) -> Iterator[bytes]:
    """Each message's bytes, in file order."""
    p = Path(path)
    try:
        if p.is_dir():
            raise MessageError(f"{path}: is a directory")
        with p.open("rb") as f:
            start = f.read(5)
    except FileNotFoundError:
        raise MessageError(f"{path}: no such file") from None
    except OSError as exc:
        raise MessageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not start:
        raise MessageError(f"{path}: empty file, not a message or mbox")
    if start == b"From ":
        yield from _mbox(p)
        return
    if p.stat().st_size > MAX_EML:
        raise MessageError(f"{path}: larger than {MAX_EML >> 20} MB, not one message")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise MessageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not _looks_like_mail(raw):
        raise MessageError(f"{path}: not an e-mail message (.eml) or mbox")
    yield raw


def _mbox(p: Path) -> Iterator[bytes]:
    try:
        box = mailbox.mbox(p, create=False)
        keys = list(box.keys())
    except (OSError, mailbox.Error) as exc:
        raise MessageError(f"{p}: cannot read mbox: {exc}") from None
    try:
        for n, key in enumerate(keys, 1):
            try:
                raw = box.get_bytes(key)
            except (OSError, KeyError, mailbox.Error) as exc:
                raise MessageError(f"{p}: message {n} unreadable: {exc}") from None
            yield raw
    finally:
        box.close()
