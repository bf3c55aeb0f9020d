"""Every SPEC section 2 finding code: cases that must fire and close cases that must not.

Cases follow the incidents in shared/seeds/ (Kiyose 944 in To, Toyama 49+4, a Cc mix of
gmail/hotmail/company, a Bcc template left with 900 addresses, a staff list attached,
社外秘 in the subject) and variants of them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.policy import Attachment, Draft, Severity, analyze
from service.policy.policyfile import Policy

INTERNAL: dict[str, Any] = {"internal_domains": ("example.co.jp",)}
PROVIDERS = ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "hotmail.com")


def many(n: int, domains: tuple[str, ...] = PROVIDERS, prefix: str = "m") -> tuple[str, ...]:
    return tuple(f"{prefix}{i}@{domains[i % len(domains)]}" for i in range(n))


def staff_csv(n: int = 30, encoding: str = "utf-8") -> bytes:
    rows = "氏名,メール,電話\n" + "".join(
        f"社員{i},staff{i}@example.co.jp,090-1234-{5600 + i:04d}\n" for i in range(n))
    return rows.encode(encoding)


@dataclass
class Case:
    id: str
    draft: dict[str, Any]
    code: str
    fires: bool
    policy: dict[str, Any] = field(default_factory=lambda: dict(INTERNAL))
    severity: Severity | None = None
    addresses: tuple[str, ...] | None = None
    where: str | None = None


ME = "me@example.co.jp"
CASES = [
    # external_recipients
    Case("ext-one", {"to": ("a@b-corp.co.jp",)}, "external_recipients", True,
         severity=Severity.INFO, addresses=("a@b-corp.co.jp",), where="to"),
    Case("ext-subdomain-internal", {"to": ("a@tokyo.example.co.jp",)}, "external_recipients",
         False),
    Case("ext-case-insensitive", {"to": ("A@EXAMPLE.CO.JP",)}, "external_recipients", False),
    Case("ext-evil-suffix", {"to": ("a@evil-example.co.jp",)}, "external_recipients", True),
    # many_visible_recipients (Kiyose: 944 members in To)
    Case("kiyose-944-to", {"to": many(944)}, "many_visible_recipients", True,
         severity=Severity.BLOCK, where="to"),
    Case("toyama-49-to-4-cc", {"to": many(49), "cc": many(4, prefix="c")},
         "many_visible_recipients", True, where="to,cc"),
    Case("ten-visible-is-limit", {"to": many(6), "cc": many(4, prefix="c")},
         "many_visible_recipients", False),
    Case("944-in-bcc-not-visible", {"to": (ME,), "bcc": many(944)},
         "many_visible_recipients", False, policy={**INTERNAL, "max_bcc": 1000}),
    Case("internal-many-to", {"to": many(50, ("example.co.jp",))}, "many_visible_recipients",
         False),
    # cross_domain_exposure (seed 000: Cc of gmail/hotmail/company)
    Case("cc-mix", {"to": ("bucho@b-corp.co.jp",),
                    "cc": ("a@gmail.com", "b@b-corp.co.jp", "cc986@hotmail.com")},
         "cross_domain_exposure", True, severity=Severity.WARN),
    Case("two-orgs", {"to": ("a@b-corp.co.jp", "x@c-corp.co.jp")}, "cross_domain_exposure",
         True),
    Case("one-org-subdomains", {"to": ("a@b-corp.co.jp", "b@osaka.b-corp.co.jp")},
         "cross_domain_exposure", False),
    Case("two-gmail-users-are-two-orgs", {"to": ("a@gmail.com", "b@gmail.com")},
         "cross_domain_exposure", True),
    Case("other-org-in-bcc", {"to": ("a@b-corp.co.jp",), "bcc": ("x@c-corp.co.jp",)},
         "cross_domain_exposure", False),
    # personal_address_visible
    Case("gmail-in-cc-with-company", {"to": ("bucho@b-corp.co.jp",), "cc": ("a@gmail.com",)},
         "personal_address_visible", True, addresses=("a@gmail.com",), where="cc"),
    Case("docomo-to-with-bcc-external", {"to": ("p@docomo.ne.jp",), "bcc": ("q@b.co.jp",)},
         "personal_address_visible", True),
    Case("gmail-alone", {"to": ("a@gmail.com",), "cc": (ME,)}, "personal_address_visible",
         False),
    Case("gmail-in-bcc", {"to": ("a@b-corp.co.jp",), "bcc": ("a@gmail.com",)},
         "personal_address_visible", False),
    Case("extra-personal-domain", {"to": ("a@b-corp.co.jp", "p@my-isp.example")},
         "personal_address_visible", True,
         policy={**INTERNAL, "personal_domains": ("my-isp.example",)}),
    # many_bcc_recipients (a template left with 900 addresses)
    Case("template-900-bcc", {"to": ("c1@b-corp.co.jp",), "bcc": many(900)},
         "many_bcc_recipients", True, severity=Severity.WARN, where="bcc"),
    Case("50-bcc-is-limit", {"to": (ME,), "bcc": many(50)}, "many_bcc_recipients", False),
    # invalid_address
    Case("missing-comma", {"to": ("sato@a.co.jp suzuki@a.co.jp",)}, "invalid_address", True,
         severity=Severity.BLOCK, where="to"),
    Case("newline-in-bcc", {"bcc": ("a@b.co.jp\nc@d.co.jp",)}, "invalid_address", True,
         where="bcc"),
    Case("fullwidth-at", {"to": ("jouhou＠jipdec.or.jp",)}, "invalid_address", True),
    Case("no-domain", {"cc": ("taro@",)}, "invalid_address", True, where="cc"),
    Case("bad-idn", {"to": ("a@xn--zz.com",)}, "invalid_address", True),
    Case("japanese-display-name", {"to": ('"佐藤 太郎" <sato@a.co.jp>',)}, "invalid_address",
         False),
    Case("encoded-display-name", {"to": ("=?UTF-8?B?5L2Q6Jek?= <sato@a.co.jp>",)},
         "invalid_address", False),
    Case("idn-domain-ok", {"to": ("user@日本語.jp",)}, "invalid_address", False),
    # lookalike_domain
    Case("typo-of-internal", {"to": ("a@exmaple.co.jp",)}, "lookalike_domain", True,
         severity=Severity.WARN),
    Case("other-suffix-of-trusted", {"to": ("jouhou@jipdec.co.jp",)}, "lookalike_domain",
         True, policy={**INTERNAL, "trusted_domains": ("jipdec.or.jp",)}),
    Case("internal-as-prefix", {"to": ("a@example.co.jp.evil.com",)}, "lookalike_domain",
         True),
    Case("homoglyph-cyrillic", {"to": ("a@ехample.co.jp",)}, "lookalike_domain", True),
    Case("trusted-itself", {"to": ("jouhou@jipdec.or.jp",)}, "lookalike_domain", False,
         policy={**INTERNAL, "trusted_domains": ("jipdec.or.jp",)}),
    Case("unrelated-domain", {"to": ("a@gmail.com", "b@b-corp.co.jp")}, "lookalike_domain",
         False),
    # blocked_recipient
    Case("blocked-domain", {"to": ("a@rival.co.jp",)}, "blocked_recipient", True,
         policy={**INTERNAL, "blocked_domains": ("rival.co.jp",)}, severity=Severity.BLOCK),
    Case("blocked-subdomain", {"bcc": ("a@x.rival.co.jp",)}, "blocked_recipient", True,
         policy={**INTERNAL, "blocked_domains": ("rival.co.jp",)}),
    Case("blocked-address", {"to": ("ex@gmail.com",)}, "blocked_recipient", True,
         policy={**INTERNAL, "blocked_domains": ("ex@gmail.com",)}),
    Case("not-blocked-lookalike-name", {"to": ("a@notrival.co.jp",)}, "blocked_recipient",
         False, policy={**INTERNAL, "blocked_domains": ("rival.co.jp",)}),
    # missing_required_bcc
    Case("archive-missing", {"to": ("a@b-corp.co.jp",)}, "missing_required_bcc", True,
         policy={**INTERNAL, "required_bcc_external": ("archive@example.co.jp",)},
         severity=Severity.BLOCK, addresses=("archive@example.co.jp",)),
    Case("archive-in-cc-not-bcc", {"to": ("a@b-corp.co.jp",), "cc": ("archive@example.co.jp",)},
         "missing_required_bcc", True,
         policy={**INTERNAL, "required_bcc_external": ("archive@example.co.jp",)}),
    Case("archive-present", {"to": ("a@b-corp.co.jp",), "bcc": ("Archive@Example.co.jp",)},
         "missing_required_bcc", False,
         policy={**INTERNAL, "required_bcc_external": ("archive@example.co.jp",)}),
    Case("internal-only-no-archive", {"to": ("b@example.co.jp",)}, "missing_required_bcc",
         False, policy={**INTERNAL, "required_bcc_external": ("archive@example.co.jp",)}),
    # confidential_keyword
    Case("shagai-hi-subject", {"to": ("a@b-corp.co.jp",), "subject": "【社外秘】訪問日程"},
         "confidential_keyword", True, where="subject", severity=Severity.WARN),
    Case("confidential-body-any-case", {"to": ("a@b-corp.co.jp",), "text": "CONFIDENTIAL"},
         "confidential_keyword", True, where="body"),
    Case("keyword-in-attachment-name",
         {"to": ("a@b-corp.co.jp",), "attachments": (Attachment("極秘_計画.txt", "text/plain",
                                                                  b"x"),)},
         "confidential_keyword", True, where="極秘_計画.txt"),
    Case("keyword-internal-only", {"to": ("b@example.co.jp",), "subject": "社外秘"},
         "confidential_keyword", False),
    Case("keyword-absent", {"to": ("a@b-corp.co.jp",), "subject": "社外向けのお知らせ"},
         "confidential_keyword", False),
    # personal_data (a staff list attached)
    Case("staff-list-csv", {"to": ("a@b-corp.co.jp",),
                            "attachments": (Attachment("社員名簿.csv", "text/csv",
                                                       staff_csv(30, "cp932")),)},
         "personal_data", True, where="社員名簿.csv", severity=Severity.WARN),
    Case("staff-list-in-zip", {"to": ("a@b-corp.co.jp",),
                               "attachments": (Attachment("files.zip", "application/zip",
                                                          b""),)},
         "personal_data", True, where="files.zip"),
    Case("nine-items-below-threshold", {"to": ("a@b-corp.co.jp",),
                                        "attachments": (Attachment("list.csv", "text/csv",
                                                                   staff_csv(4)),)},
         "personal_data", False),
    Case("body-phones", {"to": ("a@b-corp.co.jp",),
                         "text": "\n".join(f"090-1111-{2000 + i}" for i in range(12))},
         "personal_data", True, where="body"),
    Case("staff-list-internal", {"to": ("b@example.co.jp",),
                                 "attachments": (Attachment("社員名簿.csv", "text/csv",
                                                            staff_csv(30)),)},
         "personal_data", False),
    # unencrypted_attachment
    Case("plain-attachment-external", {"to": ("a@b-corp.co.jp",),
                                       "attachments": (Attachment("a.txt", "text/plain",
                                                                  b"hi"),)},
         "unencrypted_attachment", True, severity=Severity.INFO, where="a.txt"),  # SPEC 10.6
    Case("require-encryption-blocks", {"to": ("a@b-corp.co.jp",),
                                       "attachments": (Attachment("a.txt", "text/plain",
                                                                  b"hi"),)},
         "unencrypted_attachment", True,
         policy={**INTERNAL, "require_encryption_external": True}, severity=Severity.BLOCK),
    Case("attachment-internal", {"to": ("b@example.co.jp",),
                                 "attachments": (Attachment("a.txt", "text/plain", b"hi"),)},
         "unencrypted_attachment", False),
    # blocked_attachment
    Case("double-extension", {"to": ("b@example.co.jp",),
                              "attachments": (Attachment("invoice.pdf.exe",
                                                         "application/octet-stream",
                                                         b"MZ"),)},
         "blocked_attachment", True, severity=Severity.BLOCK, where="invoice.pdf.exe"),
    Case("upper-case-ext", {"attachments": (Attachment("SETUP.MSI", "application/x-msi",
                                                       b"x"),)},
         "blocked_attachment", True),
    Case("exe-inside-name-only", {"attachments": (Attachment("exe-manual.pdf",
                                                             "application/pdf", b"%PDF"),)},
         "blocked_attachment", False),
]


def _zip_of(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _draft(spec: dict[str, Any]) -> Draft:
    spec = dict(spec)
    atts = spec.get("attachments", ())
    spec["attachments"] = tuple(
        Attachment(a.filename, a.content_type, _zip_of("社員名簿.csv", staff_csv(30)))
        if a.filename == "files.zip" else a for a in atts)
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
    assert f.message and f.code in {
        "external_recipients", "many_visible_recipients", "cross_domain_exposure",
        "personal_address_visible", "many_bcc_recipients", "invalid_address",
        "lookalike_domain", "blocked_recipient", "missing_required_bcc",
        "confidential_keyword", "personal_data", "unencrypted_attachment",
        "blocked_attachment"}


def test_every_code_has_cases() -> None:
    fired = {c.code for c in CASES if c.fires}
    quiet = {c.code for c in CASES if not c.fires}
    assert fired == quiet and len(fired) == 13


def test_addresses_are_lower_case_and_findings_sorted_by_severity() -> None:
    report = analyze(_draft({"to": ("Sato@B-Corp.co.jp", "x@C.co.jp", "bad@"),
                             "subject": "社外秘"}), Policy(**INTERNAL))
    ranks = [f.severity.rank for f in report.findings]
    assert ranks == sorted(ranks, reverse=True)
    for f in report.findings:
        assert all(a == a.lower() for a in f.addresses)
    ext = next(f for f in report.findings if f.code == "external_recipients")
    assert ext.addresses == ("sato@b-corp.co.jp", "x@c.co.jp")


def test_invalid_entry_is_named_in_message() -> None:
    report = analyze(_draft({"to": ("sato@a.co.jp suzuki@a.co.jp",)}), Policy(**INTERNAL),
                     locale="ja")
    f = next(f for f in report.findings if f.code == "invalid_address")
    assert "sato@a.co.jp suzuki@a.co.jp" in f.message
    assert "カンマ" in f.message
    assert set(f.addresses) == {"sato@a.co.jp", "suzuki@a.co.jp"}


@pytest.mark.parametrize("locale,word", [("ja", "社外"), ("en", "external")])
def test_messages_follow_locale(locale: str, word: str) -> None:
    report = analyze(_draft({"to": ("a@b-corp.co.jp",)}), Policy(**INTERNAL), locale=locale)
    assert word in report.findings[0].message


def test_zip_bomb_attachment_gives_note_not_crash() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", b"\0" * (80 * 1024 * 1024))
    report = analyze(_draft({"to": ("b@example.co.jp",),
                             "attachments": (Attachment("bomb.zip", "application/zip",
                                                        buf.getvalue()),)}),
                     Policy(**INTERNAL))
    assert not [f for f in report.findings if f.code == "personal_data"]
    assert report.notes and "bomb.zip" in report.notes[0]


def test_content_false_skips_attachment_contents() -> None:
    draft = _draft({"to": ("a@b-corp.co.jp",),
                    "attachments": (Attachment("社員名簿.csv", "text/csv", staff_csv(30)),)})
    codes = {f.code for f in analyze(draft, Policy(**INTERNAL), content=False).findings}
    assert "personal_data" not in codes and "unencrypted_attachment" in codes


# Recipient findings name addresses in a fixed order, whatever grouping the checks use
# inside (issue 12 groups by domain): organisations in order of first appearance, each
# with its addresses as typed; Bcc-only and internal recipients (a domain, or one address
# of an otherwise external domain) never listed as exposed.
ORDER_DRAFT = Draft(
    sender="me@example.co.jp",
    to=("a@x.co.jp", "p1@gmail.com", "b@y.co.jp", "c@x.co.jp", "boss@example.co.jp",
        "ceo@partner.jp"),
    cc=("d@sub.y.co.jp", "e@exarnple.co.jp"), bcc=("z@w.co.jp", "a@x.co.jp", "p2@gmail.com"),
    subject="s", text="hello")
ORDER = [
    ("internal-domain", ("example.co.jp",), {
        "cross_domain_exposure": ("a@x.co.jp", "c@x.co.jp", "p1@gmail.com", "b@y.co.jp",
                                  "d@sub.y.co.jp", "e@exarnple.co.jp"),
        "personal_address_visible": ("p1@gmail.com",),
        "lookalike_domain": ("e@exarnple.co.jp",),
        "external_recipients": ("a@x.co.jp", "p1@gmail.com", "b@y.co.jp", "c@x.co.jp",
                                "ceo@partner.jp", "d@sub.y.co.jp", "e@exarnple.co.jp",
                                "z@w.co.jp", "p2@gmail.com")}),
    ("internal-address", ("example.co.jp", "c@x.co.jp"), {
        "cross_domain_exposure": ("a@x.co.jp", "p1@gmail.com", "b@y.co.jp", "d@sub.y.co.jp",
                                  "e@exarnple.co.jp"),
        "personal_address_visible": ("p1@gmail.com",),
        "lookalike_domain": ("e@exarnple.co.jp",),
        "external_recipients": ("a@x.co.jp", "p1@gmail.com", "b@y.co.jp", "ceo@partner.jp",
                                "d@sub.y.co.jp", "e@exarnple.co.jp", "z@w.co.jp",
                                "p2@gmail.com")}),
]


@pytest.mark.parametrize(("internal", "expected"), [c[1:] for c in ORDER],
                         ids=[c[0] for c in ORDER])
def test_recipient_findings_keep_the_typed_order(internal: tuple[str, ...],
                                                 expected: dict[str, tuple[str, ...]]) -> None:
    policy = Policy(internal_domains=internal, trusted_domains=("partner.jp",))
    report = analyze(ORDER_DRAFT, policy, locale="en")
    assert {f.code: f.addresses for f in report.findings} == expected
    ext = next(f for f in report.findings if f.code == "external_recipients")
    assert ext.params["by_domain"] == {"gmail.com": 2, "x.co.jp": 2 if len(internal) == 1 else 1,
                                       "exarnple.co.jp": 1, "partner.jp": 1, "sub.y.co.jp": 1,
                                       "w.co.jp": 1, "y.co.jp": 1}
