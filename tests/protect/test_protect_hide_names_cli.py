"""``delivery.hide_names`` through ``sendguard protect`` (the add-on's Encrypt & send calls
the same ``protect_message`` with the same policy field): 7-Zip lists one neutral name."""

from __future__ import annotations

import json
from email import policy as email_policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from service.protect.mime import INNER_ARCHIVE
from tests.support.cli import Run, run

from .protect_helpers import JPEG, SevenZip, build_message

__all__ = ["run"]

CSV = "氏名,電話\n佐藤,03-1234-5678\n".encode() * 200


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("SENDGUARD_POLICY", "DATABASE_URL", "SENDGUARD_MASTER_KEY", "SENDGUARD_KMS_KEY",
                 "SENDGUARD_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SENDGUARD_VAR_DIR", str(tmp_path / "var"))
    draft = build_message(attachments=[("2026年度_異動予定者.csv", "text/csv", CSV),
                                       ("photo.jpg", "image/jpeg", JPEG)])
    (tmp_path / "in.eml").write_bytes(draft.as_bytes())
    return tmp_path


@pytest.mark.parametrize(("policy", "hidden"), [
    ("[delivery]\nhide_names = true\n", True),
    ("[delivery]\nhide_names = false\n", False),
    ("", False),
], ids=["hide", "show", "default"])
def test_cli_protect_follows_hide_names(workdir: Path, run: Run, sevenzip: SevenZip,
                                        policy: str, hidden: bool) -> None:
    (workdir / "policy.toml").write_text(policy, encoding="utf-8")
    code, out, err = run("protect", "in.eml", "-o", "out.eml", "--policy", "policy.toml",
                         "--json", "--reveal-password")
    assert code == 0, err
    result = json.loads(out)
    assert result["files"] == ["2026年度_異動予定者.csv", "photo.jpg"]   # the real names
    msg = BytesParser(policy=email_policy.default).parsebytes((workdir / "out.eml").read_bytes())
    (part,) = [p for p in msg.walk() if p.get_content_type() == "application/zip"]
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    (workdir / "a.zip").write_bytes(data)
    listing = sevenzip.run("l", "-ba", "-slt", "-pnot-the-password", workdir / "a.zip").stdout
    names = [line[7:] for line in listing.splitlines() if line.startswith("Path = ")]
    assert names == ([INNER_ARCHIVE] if hidden else result["files"])
    extracted = sevenzip.extract(workdir / "a.zip", result["password"], workdir / "x")
    if hidden:
        (workdir / "inner.zip").write_bytes(extracted[INNER_ARCHIVE])
        extracted = sevenzip.extract(workdir / "inner.zip", "", workdir / "inner")
    assert extracted == {"2026年度_異動予定者.csv": CSV, "photo.jpg": JPEG}


def test_cli_protect_refuses_a_bad_hide_names(workdir: Path, run: Run) -> None:
    (workdir / "policy.toml").write_text("[delivery]\nhide_names = 1\n", encoding="utf-8")
    code, _, err = run("protect", "in.eml", "-o", "out.eml", "--policy", "policy.toml",
                       "--reveal-password")
    assert code == 2 and "hide_names" in err and "Traceback" not in err
    assert not (workdir / "out.eml").exists()
