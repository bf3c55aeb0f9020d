"""SPEC 10.1 finding codes (except the history ones): each fires, and a close case stays
quiet. Shapes follow the peers' test cases (FlexConfirmMail-style lists, 添付 phrasings,
PPAP attachments)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from service.policy import Attachment, Draft, Severity, analyze
from service.policy.policyfile import Policy, parse_policy
from tests.policy.test_extract import ENCRYPTED_OFFICE, aes_zip, cfb, encrypt_pdf, pdf_bytes
from tests.policy.test_rules import INTERNAL, ME, Case, staff_csv


def plain_zip(name: str = "資料.csv", data: bytes = b"a,b\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def att(name: str, data: bytes = b"x", ctype: str = "application/octet-stream") -> Attachment:
    return Attachment(name, ctype, data)


EXT = ("tanaka@partner-corp.co.jp",)
PDF = pdf_bytes()
REPLY_EN = "Thanks, see below.\n\nOn Mon, 1 Dec 2026 at 10:00, Tanaka <t@x.jp> wrote:\n" \
           "> Please find the report attached.\n"
REPLY_JA = "承知しました。\n\n2026年12月1日(月) 10:00 田中 <t@x.jp>:\n> 資料を添付します。\n"
OUTLOOK = "了解です。\n\n-----Original Message-----\nFrom: 田中\nSent: Monday\n" \
          "資料を添付いたします。\n"
DISCLAIMER_JA = "よろしくお願いします。\n\n本メール及び添付ファイルは機密情報を含む場合があります。"
DISCLAIMER_EN = "Regards,\n\nThis e-mail and any attachments are confidential."

CASES = [
    # caution_recipient: warn-only list, same syntax as blocked_domains
    Case("caution-domain", {"to": ("a@rival.co.jp",)}, "caution_recipient", True,
         policy={**INTERNAL, "caution_domains": ("rival.co.jp",)}, severity=Severity.WARN,
         addresses=("a@rival.co.jp",), where="to"),
    Case("caution-subdomain", {"cc": ("a@mail.rival.co.jp",)}, "caution_recipient", True,
         policy={**INTERNAL, "caution_domains": ("rival.co.jp",)}, where="cc"),
    Case("caution-address-glob", {"bcc": ("x+blocked@example.com",)}, "caution_recipient",
         True, policy={**INTERNAL, "caution_domains": ("*+blocked@example.com",)}),
    Case("caution-one-char", {"to": ("a@b.example.jp",)}, "caution_recipient", True,
         policy={**INTERNAL, "caution_domains": ("?.example.jp",)}),
    Case("caution-close-other-domain", {"to": ("a@notrival.co.jp",)}, "caution_recipient",
         False, policy={**INTERNAL, "caution_domains": ("rival.co.jp",)}),
    Case("caution-star-dot-not-parent", {"to": ("a@example.org",)}, "caution_recipient",
         False, policy={**INTERNAL, "caution_domains": ("*.example.org",)}),
    Case("caution-excepted", {"to": ("a@ok.rival.co.jp",)}, "caution_recipient", False,
         policy={**INTERNAL, "caution_domains": ("rival.co.jp", "-ok.rival.co.jp")}),
    Case("caution-two-chars-not-one", {"to": ("a@bc.example.jp",)}, "caution_recipient",
         False, policy={**INTERNAL, "caution_domains": ("?.example.jp",)}),
    # blocked_keyword
    Case("blocked-kw-subject", {"to": EXT, "subject": "【持出禁止】設計書"}, "blocked_keyword",
         True, policy={**INTERNAL, "blocked_keywords": ("持出禁止",)},
         severity=Severity.BLOCK, addresses=EXT, where="subject"),
    Case("blocked-kw-body-nfkc", {"to": EXT, "text": "ＴＯＰ ＳＥＣＲＥＴ です"},
         "blocked_keyword", True, policy={**INTERNAL, "blocked_keywords": ("top secret",)},
         where="body"),
    Case("blocked-kw-attachment-name", {"to": EXT, "attachments": (att("持出禁止_図面.pdf"),)},
         "blocked_keyword", True, policy={**INTERNAL, "blocked_keywords": ("持出禁止",)},
         where="持出禁止_図面.pdf"),
    Case("blocked-kw-internal-checked", {"to": ("b@example.co.jp",), "subject": "持出禁止"},
         "blocked_keyword", True,
         policy={**INTERNAL, "blocked_keywords": ("持出禁止",), "check_internal": True}),
    Case("blocked-kw-internal-only", {"to": ("b@example.co.jp",), "subject": "持出禁止"},
         "blocked_keyword", False, policy={**INTERNAL, "blocked_keywords": ("持出禁止",)}),
    Case("blocked-kw-absent", {"to": EXT, "subject": "持出可の資料"}, "blocked_keyword", False,
         policy={**INTERNAL, "blocked_keywords": ("持出禁止",)}),
    # missing_attachment
    Case("missing-att-ja-body", {"to": EXT, "text": "見積書を添付いたします。"},
         "missing_attachment", True, severity=Severity.WARN, where="body"),
    Case("missing-att-ja-subject", {"to": EXT, "subject": "【添付ファイル】請求書"},
         "missing_attachment", True, where="subject"),
    Case("missing-att-betten", {"to": EXT, "text": "別添の通りご確認ください。"},
         "missing_attachment", True),
    Case("missing-att-soufu", {"to": EXT, "text": "契約書を送付します。"},
         "missing_attachment", True),
    Case("missing-att-en", {"to": EXT, "text": "Please find the agenda attached."},
         "missing_attachment", True),
    Case("missing-att-en-enclosed", {"to": EXT, "text": "Enclosed is the invoice."},
         "missing_attachment", True),
    Case("missing-att-html-only", {"to": EXT, "html": "<p>資料を添付します</p>"},
         "missing_attachment", True),
    Case("missing-att-internal-too", {"to": ("b@example.co.jp",), "text": "添付します"},
         "missing_attachment", True),
    Case("missing-att-has-file", {"to": EXT, "text": "見積書を添付いたします。",
                                  "attachments": (att("見積書.pdf", PDF),)},
         "missing_attachment", False),
    Case("missing-att-quoted-en", {"to": EXT, "text": REPLY_EN}, "missing_attachment", False),
    Case("missing-att-quoted-ja", {"to": EXT, "text": REPLY_JA}, "missing_attachment", False),
    Case("missing-att-gmail-ja-unquoted", {"to": EXT, "text": (
        "承知しました。\n\n2026年12月1日(月) 10:00 田中 <t@x.jp>:\n資料を添付します。\n")},
         "missing_attachment", False),
    Case("missing-att-own-date-line-kept", {"to": EXT, "text": (
        "2026年12月1日の議事録を添付します。\n")}, "missing_attachment", True),
    Case("missing-att-disclaimer-ja-including", {"to": EXT, "text": (
        "よろしくお願いします。\n本メール（添付ファイルを含む）の内容は機密情報です。")},
         "missing_attachment", False),
    Case("missing-att-by-post", {"to": EXT, "text": "請求書は郵送にて送付します。"},
         "missing_attachment", False),
    Case("missing-att-outlook-quote", {"to": EXT, "text": OUTLOOK}, "missing_attachment",
         False),
    Case("missing-att-gmail-html-quote", {"to": EXT, "html": (
        '<div>了解です</div><div class="gmail_quote">資料を添付します</div>')},
         "missing_attachment", False),
    Case("missing-att-denied-ja", {"to": EXT, "text": "今回は添付ファイルはありません。"},
         "missing_attachment", False),
    Case("missing-att-denied-en", {"to": EXT, "text": "No attachment this time."},
         "missing_attachment", False),
    Case("missing-att-later", {"to": EXT, "text": "資料は別途お送りします。添付は後ほど。"},
         "missing_attachment", False),
    Case("missing-att-disclaimer-ja", {"to": EXT, "text": DISCLAIMER_JA},
         "missing_attachment", False),
    Case("missing-att-disclaimer-en", {"to": EXT, "text": DISCLAIMER_EN},
         "missing_attachment", False),
    # password_zip_attached (the sender's own PPAP)
    Case("ppap-zip", {"to": EXT, "attachments": (
        att("見積書.zip", aes_zip([("見積書.xlsx", b"x" * 100)])),)},
         "password_zip_attached", True, severity=Severity.WARN, where="見積書.zip"),
    Case("ppap-office", {"to": EXT, "attachments": (att("給与.xlsx", cfb(ENCRYPTED_OFFICE)),)},
         "password_zip_attached", True, where="給与.xlsx"),
    Case("ppap-pdf", {"to": EXT, "attachments": (
        att("契約書.pdf", encrypt_pdf(PDF, user="pw", owner="o")),)},
         "password_zip_attached", True, where="契約書.pdf"),
    Case("ppap-plain-zip", {"to": EXT, "attachments": (att("資料.zip", plain_zip()),)},
         "password_zip_attached", False),
    Case("ppap-permissions-only-pdf", {"to": EXT, "attachments": (
        att("規約.pdf", encrypt_pdf(PDF, user="", owner="o")),)},
         "password_zip_attached", False),
    Case("ppap-plain-pdf", {"to": EXT, "attachments": (att("a.pdf", PDF),)},
         "password_zip_attached", False),
    # large_attachment
    Case("large-over-default", {"to": EXT, "attachments": (
        att("a.bin", b"\0" * (6 * 1024 * 1024)), att("b.bin", b"\1" * (5 * 1024 * 1024)))},
         "large_attachment", True, severity=Severity.INFO),
    Case("large-policy-limit", {"to": EXT, "attachments": (att("a.bin", b"\0" * 2048),)},
         "large_attachment", True, policy={**INTERNAL, "max_total_size": 1024}),
    Case("large-exactly-limit", {"to": EXT, "attachments": (att("a.bin", b"\0" * 1024),)},
         "large_attachment", False, policy={**INTERNAL, "max_total_size": 1024}),
    Case("large-under-default", {"to": EXT, "attachments": (att("a.csv", staff_csv(10)),)},
         "large_attachment", False),
]


def _draft(spec: dict[str, Any]) -> Draft:
    return Draft(sender=ME, **spec)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case) -> None:
    report = analyze(_draft(case.draft), Policy(**case.policy))
    hits = [f for f in report.findings if f.code == case.code]
    assert bool(hits) == case.fires, [f.to_json() for f in report.findings]
    if not case.fires:
        return
    f = hits[0]
    if case.severity is not None:
        assert f.severity is case.severity
    if case.addresses is not None:
        assert f.addresses == case.addresses
    if case.where is not None:
        assert f.where == case.where
    assert f.message


SECOND_WAVE = {"caution_recipient", "blocked_keyword", "missing_attachment",
               "password_zip_attached", "large_attachment"}


def test_every_new_code_fires_and_stays_quiet() -> None:
    assert {c.code for c in CASES if c.fires} == SECOND_WAVE
    assert {c.code for c in CASES if not c.fires} == SECOND_WAVE


@pytest.mark.parametrize("code", sorted(SECOND_WAVE))
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_messages_and_card_hints_in_both_languages(code: str, locale: str) -> None:
    from service.i18n import translator
    from service.policy.catalogue import HINTS

    case = next(c for c in CASES if c.code == code and c.fires)
    report = analyze(_draft(case.draft), Policy(**case.policy), locale=locale)
    f = next(f for f in report.findings if f.code == code)
    assert "{" not in f.message and f.message
    assert code in HINTS
    hint = translator(locale).gettext(HINTS[code])
    assert hint != translator(locale).gettext("hint.default")


def test_missing_attachment_needs_the_whole_draft() -> None:
    """The compose trigger sees no attachments: it must not claim one is missing."""
    draft = _draft({"to": EXT, "subject": "資料を添付します"})
    assert not [f for f in analyze(draft, Policy(), content=False).findings
                if f.code == "missing_attachment"]


def test_caution_patterns_from_policy_file() -> None:
    policy = parse_policy('[recipients]\ncaution_domains = ["*.example.org", '
                          '"-safe.example.org"]\n')
    codes = {(f.code, a) for a in ("a@x.example.org", "a@safe.example.org", "a@example.org")
             for f in analyze(_draft({"to": (a,)}), policy).findings}
    assert ("caution_recipient", "a@x.example.org") in codes
    assert ("caution_recipient", "a@safe.example.org") not in codes
    assert ("caution_recipient", "a@example.org") not in codes


def test_cpython_email_corpus_raises_no_new_finding() -> None:
    """CPython's e-mail test messages (Lib/test/test_email/data: bounces, enclosed
    messages, multipart mail nobody here wrote) run through every check without error,
    and none of them is a missing attachment, a sender's PPAP file or a large one."""
    import sysconfig
    from pathlib import Path

    from service.errors import MessageError
    from service.policy import draft_from_bytes
    from tests.support.parts import unavailable

    corpus = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
    files = sorted(corpus.glob("msg_*.txt"))
    if len(files) < 40:
        unavailable(f"CPython's e-mail test corpus ({corpus})")
    seen = []
    for path in files:
        try:
            draft = draft_from_bytes(path.read_bytes())
        except MessageError:
            continue
        report = analyze(draft, Policy(internal_domains=("python.org",)))
        seen += [(path.name, f.code) for f in report.findings if f.code in SECOND_WAVE]
    assert seen == []


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_card_explains_each_new_finding(locale: str) -> None:
    """On the add-on card each new finding shows its message and what to do, and the
    card parses as google.apps.card_v1.Card."""
    import json

    from google.apps.card_v1 import Card

    from service.addon import markup
    from service.addon.cards import finding_sections
    from service.i18n import translator, using
    from service.policy.catalogue import hint_text

    findings = []
    for code in sorted(SECOND_WAVE):
        case = next(c for c in CASES if c.code == code and c.fires)
        report = analyze(_draft(case.draft), Policy(**case.policy), locale=locale)
        findings.append(next(f for f in report.findings if f.code == code))
    with using(locale):
        card = markup.card("SendGuard", finding_sections(findings))
        hints = {f.code: hint_text(f.code) for f in findings}
    assert all(h != translator(locale).gettext("hint.default") for h in hints.values())
    Card.from_json(json.dumps(card))
    strings: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(card)
    text = "\n".join(strings)
    import html

    def shown(s: str) -> bool:   # card text is HTML-escaped where it may hold markup
        return s in text or html.escape(s) in text or html.escape(s, quote=False) in text

    for f in findings:
        assert shown(f.message)
        assert shown(hints[f.code])
