"""The SPEC 10.1 codes through ``sendguard check --json`` on real message files (raw
ISO-2022-JP headers, encoded names, attachments), with a policy file using list patterns."""

from __future__ import annotations

import base64
import json
import random
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.policy.test_extract import aes_zip
from tests.support.cli import Run, run  # noqa: F401  (fixture)

POLICY = """
[organization]
internal_domains = ["example.co.jp"]
trusted_domains = ["jipdec.or.jp"]

[recipients]
caution_domains = ["*.rival.example", "-ok.rival.example"]

[content]
blocked_keywords = ["持出禁止"]

[attachments]
max_total_size = "1KB"
"""


def _message(to: str, subject: str, body: str, attachments: list[tuple[str, bytes]]
             ) -> bytes:
    msg = EmailMessage()
    msg["From"] = "me@example.co.jp"
    msg["Subject"] = subject
    msg.set_content(body)
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename=name)
    raw = msg.as_bytes()
    return b"To: " + to.encode() + b"\r\n" + raw


NAME = base64.b64encode("山田@営業部".encode("iso2022_jp")).decode()
CASES = [
    # id, To header, subject, body, attachments, codes that must be present / absent
    ("caution-and-keyword", "a@x.rival.example", "持出禁止の資料", "ご確認ください。", [],
     {"caution_recipient", "blocked_keyword"}, {"invalid_address"}),
    ("caution-excepted", "a@ok.rival.example", "資料", "ご確認ください。", [],
     set(), {"caution_recipient", "blocked_keyword"}),
    ("missing-attachment", f"=?ISO-2022-JP?B?{NAME}?= <yamada@partner.example>",
     "見積書", "見積書を添付いたします。", [], {"missing_attachment"},
     {"invalid_address"}),
    ("ppap-and-large", "t@partner.example", "見積", "パスワードは別途お送りします。",
     [("見積.zip", aes_zip([("見積.xlsx", random.Random(1).randbytes(4000))]))],
     {"password_zip_attached", "large_attachment"}, {"missing_attachment"}),
    ("homoglyph-of-trusted", "joho@jіpdec.or.jp", "ご連絡", "本文", [],
     {"lookalike_domain"}, {"invalid_address"}),
    ("brand-plus-word", "joho@jipdec-login.com", "ご連絡", "本文", [],
     {"lookalike_domain"}, set()),
]


@pytest.mark.parametrize(("to", "subject", "body", "atts", "present", "absent"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_json(run: Run, tmp_path: Path, to: str, subject: str, body: str,  # noqa: F811
                    atts: list[tuple[str, bytes]], present: set[str], absent: set[str]
                    ) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    eml = tmp_path / "m.eml"
    eml.write_bytes(_message(to, subject, body, atts))
    code, out, err = run("check", str(eml), "--policy", str(policy), "--json")
    assert code == 0, err
    findings = json.loads(out)["findings"]
    codes = {f["code"] for f in findings}
    assert present <= codes, findings
    assert not (absent & codes), findings
    for f in findings:
        if f["code"] == "lookalike_domain":
            assert "jipdec.or.jp" in f["message"]


def test_pattern_that_cannot_match_is_a_policy_error_with_line(run: Run,  # noqa: F811
                                                               tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[recipients]\nblocked_domains = [\n  "ok.example",\n'
                      '  "a@b@c.example",\n]\n', encoding="utf-8")
    eml = tmp_path / "m.eml"
    eml.write_bytes(_message("a@b.example", "x", "y", []))
    code, out, err = run("check", str(eml), "--policy", str(policy), "--json")
    assert code == 2 and out == ""
    assert "policy.toml:4" in err and "blocked_domains" in err and "a@b@c.example" in err
