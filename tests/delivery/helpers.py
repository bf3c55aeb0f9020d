"""Shared pieces of the delivery tests: drafts, a settable clock, 7-Zip, mail parsing."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

from tests.support.parts import sevenzip_path

SENDER = "sato@corp.example.jp"
PARTNER = "tanaka@partner.example.com"
OTHER = "suzuki@other.example.net"
BCC = "audit@corp.example.jp"
BASE_URL = "https://keys.example.jp"
FILES = {"見積書 2026年度.xlsx": b"PK\x03\x04" + os.urandom(3000),
         "顧客一覧.csv": "名前,電話\n佐藤,03-1234-5678\n".encode() * 200,
         "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(5000)}
CODE = re.compile(r"(?<!\d)(\d{8})(?!\d)")


class Clock:
    """A settable UTC clock for the store, the key page and releases."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 1, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def draft_bytes(files: dict[str, bytes] | None = None, *, to: str = PARTNER,
                cc: str = OTHER, bcc: str | None = BCC, message_id: bool = True,
                cte: str | None = None) -> bytes:
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["From"] = "佐藤 花子 <sato@corp.example.jp>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = "【社外秘】見積書の送付について"
    if message_id:
        msg["Message-ID"] = "<draft-1@corp.example.jp>"
    msg.set_content("田中様\n\n見積書をお送りします。\n", cte=cte)
    for name, data in (FILES if files is None else files).items():
        if name.endswith(".jpg"):
            msg.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
        elif name.endswith(".csv"):
            msg.add_attachment(data, maintype="text", subtype="csv", filename=name)
        else:
            msg.add_attachment(data, maintype="application", subtype="octet-stream",
                               filename=name)
    return msg.as_bytes()


def parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def zip_of(raw: bytes) -> tuple[str, bytes]:
    """The one attachment of a protected message: (name, bytes)."""
    parts = [p for p in parse(raw).iter_attachments()]
    assert len(parts) == 1, [p.get_filename() for p in parts]
    data = parts[0].get_content()
    assert isinstance(data, bytes)
    return str(parts[0].get_filename()), data


def link_token(text: str, base_url: str = BASE_URL) -> str:
    m = re.search(re.escape(base_url) + r"/k/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])", text)
    assert m, "no key link in the notice"
    return m.group(1)


def code_in(text: str) -> str:
    m = CODE.search(text)
    assert m, "no code in the mail"
    return m.group(1)


@dataclass
class SevenZip:
    exe: str

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.exe, *map(str, args)], capture_output=True, text=True,
                              timeout=60, check=False)

    def extract(self, archive: Path, password: str, dest: Path) -> dict[str, bytes]:
        res = self.run("x", f"-p{password}", f"-o{dest}", "-y", archive)
        assert res.returncode == 0, res.stdout + res.stderr
        return {p.name: p.read_bytes() for p in dest.iterdir()}

    def methods(self, archive: Path, password: str) -> list[str]:
        res = self.run("l", "-slt", f"-p{password}", archive)
        assert res.returncode == 0, res.stdout + res.stderr
        return [line.split(" = ", 1)[1] for line in res.stdout.splitlines()
                if line.startswith("Method = ")]

    def refuses(self, archive: Path, password: str) -> bool:
        return self.run("t", f"-p{password}", archive).returncode != 0


def sevenzip() -> SevenZip:
    return SevenZip(sevenzip_path())


def open_zip(seven: SevenZip, data: bytes, password: str, tmp: Path) -> dict[str, bytes]:
    """Check the archive with 7-Zip: AES-256 everywhere, the password opens it, a wrong
    one does not; returns the extracted files."""
    archive = tmp / "attachments.zip"
    archive.write_bytes(data)
    methods = seven.methods(archive, password)
    assert methods and all(m.startswith("AES-256") for m in methods), methods
    assert seven.refuses(archive, password + "x")
    out = tmp / "out"
    out.mkdir()
    return seven.extract(archive, password, out)
