"""Helpers shared by the protect tests: a 7-Zip runner and a Gmail-like draft builder."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import cast

# Small valid-looking files of the kinds users attach (magic numbers are what matter).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@dataclass
class SevenZip:
    """Runs Debian's ``7zz`` and parses ``l -slt`` output."""

    exe: str

    def run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.exe, *map(str, args)], capture_output=True, text=True,
                              timeout=60, check=False)

    def entries(self, archive: Path, password: str) -> list[dict[str, str]]:
        """Technical listing, one dict per entry (Path, Method, Encrypted, Size, …)."""
        res = self.run("l", "-slt", f"-p{password}", archive)
        assert res.returncode == 0, res.stdout + res.stderr
        body = res.stdout.split("----------\n", 1)[1]
        entries = []
        for block in body.strip().split("\n\n"):
            fields = dict(line.split(" = ", 1) for line in block.splitlines() if " = " in line)
            if "Path" in fields:
                entries.append(fields)
        return entries

    def extract(self, archive: Path, password: str, dest: Path) -> dict[str, bytes]:
        res = self.run("x", f"-p{password}", f"-o{dest}", "-y", archive)
        assert res.returncode == 0, res.stdout + res.stderr
        return {p.name: p.read_bytes() for p in dest.iterdir()}

    def test(self, archive: Path, password: str) -> subprocess.CompletedProcess[str]:
        return self.run("t", f"-p{password}", archive)


def build_message(*, attachments: Sequence[tuple[str, str, bytes]] = (),
                  inline_image: bytes | None = None, crlf: bool = True,
                  reply: bool = False) -> EmailMessage:
    """A draft like Gmail makes: plain + HTML (+ related inline image) + attachments."""
    msg = EmailMessage(policy=policy.SMTP if crlf else policy.default)
    msg["From"] = "佐藤 花子 <sato@example.co.jp>"
    msg["To"] = "田中 <tanaka@client.example.jp>"
    msg["Cc"] = "suzuki@example.co.jp"
    msg["Bcc"] = "audit@example.co.jp"
    msg["Subject"] = "【社外秘】見積書の送付について"
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0900"
    msg["Message-ID"] = "<draft-1@example.co.jp>"
    if reply:
        msg["In-Reply-To"] = "<orig-7@client.example.jp>"
        msg["References"] = "<orig-1@client.example.jp> <orig-7@client.example.jp>"
    plain = "田中様\n\n見積書をお送りします。\n"
    html = "<p>田中様</p><p>見積書をお送りします。</p>"
    if inline_image is None:
        msg.set_content(plain)
        msg.add_alternative(html, subtype="html")
    else:
        # Gmail's shape: mixed[related[alternative[plain, html], image], attachments…]
        alternative = MIMEPart(policy=msg.policy)
        alternative.set_content(plain)
        alternative.add_alternative(html + '<img src="cid:logo-1@example.co.jp">',
                                    subtype="html")
        image = MIMEPart(policy=msg.policy)
        image.set_content(inline_image, maintype="image", subtype="png", filename="logo.png",
                          cid="<logo-1@example.co.jp>", disposition="inline")
        related = MIMEPart(policy=msg.policy)
        related.make_related()
        related.attach(alternative)
        related.attach(image)
        msg.make_mixed()
        # The stdlib nests MIMEParts in an EmailMessage (make_mixed does); typeshed's
        # attach() only names the container's own class.
        msg.attach(cast(EmailMessage, related))
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg
