"""7-Zip (Debian's ``7zz``) on the ZIP an encrypted send left in the emulator's sent mail."""

from __future__ import annotations

import subprocess
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

from tests.support.parts import sevenzip_path


def sevenzip() -> str:
    return sevenzip_path()


def attachments_of(raw: bytes) -> list[tuple[str, bytes]]:
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    out = []
    for part in msg.iter_attachments():
        data = part.get_content()
        assert isinstance(data, bytes)
        out.append((str(part.get_filename()), data))
    return out


def _run(exe: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=60,
                          check=False)


def open_zip(data: bytes, password: str, tmp: Path) -> dict[str, bytes]:
    """AES-256 on every entry, a wrong password refused, the files as extracted by 7zz."""
    exe = sevenzip()
    archive = tmp / "received.zip"
    archive.write_bytes(data)
    listing = _run(exe, "l", "-slt", f"-p{password}", archive)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    methods = [line.split(" = ", 1)[1] for line in listing.stdout.splitlines()
               if line.startswith("Method = ")]
    assert methods and all(m.startswith("AES-256") for m in methods), methods
    assert _run(exe, "t", f"-p{password}x", archive).returncode != 0
    out = tmp / "extracted"
    out.mkdir()
    done = _run(exe, "x", f"-p{password}", f"-o{out}", "-y", archive)
    assert done.returncode == 0, done.stdout + done.stderr
    return {p.name: p.read_bytes() for p in out.iterdir()}
