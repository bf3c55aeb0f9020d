"""SPEC 10.6, quiet on ordinary mail: default severities, escalations, what the sender
adds, quoted forms as mailers write them, disclaimers, the policy keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from service.errors import PolicyError
from service.policy.model import Attachment, Draft, Severity
from service.policy.policyfile import Policy, parse_policy
from service.policy.rules import RISKY_RECIPIENT, analyze
from service.policy.wording import split_text, without_boilerplate

ME = "tanto@example.co.jp"
BASE: dict[str, Any] = {"internal_domains": ("example.co.jp",),
                        "trusted_domains": ("partner.co.jp",)}


def _pdf() -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)
    c.drawString(72, 720, "Quotation")
    c.save()
    return buf.getvalue()


PDF = Attachment("見積書.pdf", "application/pdf", _pdf())
LIST = "\n".join(f"会員{i} member{i}@mail{i}.example.jp 090-1111-{i:04d}" for i in range(12))
CSV = Attachment("名簿.csv", "text/csv", ("\n".join(
    f"社員{i},staff{i}@example.co.jp,090-1234-{i:04d}" for i in range(30))).encode())

OUTLOOK_EN = ("-----Original Message-----\nFrom: Sato Hanako <sato@b-corp.co.jp>\n"
              "Sent: Monday, June 2, 2025 10:00 AM\nTo: tanto@example.co.jp\n"
              "Cc: Keizai <keizai@c-corp.co.jp>\nSubject: list\n\n" + LIST)
OUTLOOK_FROM_SENT = ("From: Sato Hanako <sato@b-corp.co.jp>\nSent: Monday, June 2, 2025\n"
                     "To: tanto@example.co.jp\nSubject: list\n\n" + LIST)
OUTLOOK_JA = ("-----Original Message-----\n差出人: 佐藤 花子 <sato@b-corp.co.jp>\n"
              "送信日時: 2025年6月2日 10:00\n宛先: tanto@example.co.jp\n"
              "CC: keizai@c-corp.co.jp\n件名: 名簿\n\n" + LIST)
GMAIL_EN = ("On Mon, Jun 2, 2025 at 10:00 AM Sato Hanako <sato@b-corp.co.jp> wrote:\n"
            + "\n".join("> " + line for line in LIST.split("\n")))
GMAIL_JA = ("2025年6月2日(月) 10:00 佐藤 花子 <sato@b-corp.co.jp>:\n"
            + "\n".join("> " + line for line in LIST.split("\n")))
ANGLE_ONLY = "\n".join("> " + line for line in LIST.split("\n"))
DISCLAIMER_EN = ("This e-mail and any attachments may contain confidential and privileged "
                 "information. If you are not the intended recipient, please delete it.")
DISCLAIMER_JA = ("本メールは機密情報を含む場合があります。誤って受信された場合は、"
                 "お手数ですが送信者にご連絡のうえ削除してください。")


@dataclass
class Case:
    id: str
    draft: dict[str, Any]
    code: str
    severity: Severity | None          # None: the code does not fire
    policy: dict[str, Any] = field(default_factory=dict)


def reply(quote: str, to: tuple[str, ...] = ("sato@b-corp.co.jp",), **kw: Any
          ) -> dict[str, Any]:
    return {"to": to, "subject": "RE: 名簿", "text": "ありがとうございます。\n\n" + quote,
            "reply": True, **kw}


CASES = [
    # unencrypted_attachment: info by default
    Case("attachment-info", {"to": ("sato@b-corp.co.jp",), "attachments": (PDF,)},
         "unencrypted_attachment", Severity.INFO),
    Case("attachment-warn-policy", {"to": ("sato@b-corp.co.jp",), "attachments": (PDF,)},
         "unencrypted_attachment", Severity.WARN, {"warn_unencrypted": True}),
    Case("attachment-block-policy", {"to": ("sato@b-corp.co.jp",), "attachments": (PDF,)},
         "unencrypted_attachment", Severity.BLOCK,
         {"warn_unencrypted": True, "require_encryption_external": True}),
    Case("attachment-internal-nothing", {"to": ("b@example.co.jp",), "attachments": (PDF,)},
         "unencrypted_attachment", None, {"warn_unencrypted": True}),
    # escalations: the same attachment
    Case("escalate-personal-data", {"to": ("sato@b-corp.co.jp",), "attachments": (CSV,)},
         "unencrypted_attachment", Severity.WARN),
    Case("escalate-confidential-name",
         {"to": ("sato@b-corp.co.jp",),
          "attachments": (Attachment("社外秘_見積.pdf", "application/pdf", PDF.data),)},
         "unencrypted_attachment", Severity.WARN),
    Case("escalate-blocked-keyword",
         {"to": ("sato@b-corp.co.jp",),
          "attachments": (Attachment("案件X_見積.pdf", "application/pdf", PDF.data),)},
         "unencrypted_attachment", Severity.WARN, {"blocked_keywords": ("案件X",)}),
    Case("body-personal-data-does-not-escalate",
         {"to": ("sato@b-corp.co.jp",), "text": LIST, "attachments": (PDF,)},
         "unencrypted_attachment", Severity.INFO),
    # escalations: a risky external recipient
    Case("escalate-lookalike",
         {"to": ("jouhou@jipdec.co.jp",), "attachments": (PDF,)},
         "unencrypted_attachment", Severity.WARN,
         {"trusted_domains": ("jipdec.or.jp",)}),
    Case("escalate-caution",
         {"to": ("sato@b-corp.co.jp",), "attachments": (PDF,)},
         "unencrypted_attachment", Severity.WARN, {"caution_domains": ("b-corp.co.jp",)}),
    # cross_domain_exposure
    Case("two-orgs-new", {"to": ("sato@b-corp.co.jp", "keizai@c-corp.co.jp")},
         "cross_domain_exposure", Severity.WARN),
    Case("trusted-partner-does-not-count",
         {"to": ("sato@b-corp.co.jp",), "cc": ("dev@partner.co.jp",)},
         "cross_domain_exposure", None),
    Case("trusted-plus-two-orgs-still-fires",
         {"to": ("sato@b-corp.co.jp", "keizai@c-corp.co.jp"), "cc": ("dev@partner.co.jp",)},
         "cross_domain_exposure", Severity.WARN),
    Case("reply-all-outlook-seen-together",
         reply(OUTLOOK_EN, to=("sato@b-corp.co.jp", "keizai@c-corp.co.jp")),
         "cross_domain_exposure", None),
    Case("reply-all-japanese-outlook",
         reply(OUTLOOK_JA, to=("sato@b-corp.co.jp", "keizai@c-corp.co.jp")),
         "cross_domain_exposure", None),
    Case("reply-adds-third-org",
         reply(OUTLOOK_EN, to=("sato@b-corp.co.jp", "keizai@c-corp.co.jp",
                               "x@d-corp.co.jp")),
         "cross_domain_exposure", Severity.WARN),
    Case("reply-to-author-with-list-in-cc",
         reply(ANGLE_ONLY, to=("sato@b-corp.co.jp",), cc=("ml@lists.c-corp.co.jp",)),
         "cross_domain_exposure", None),
    Case("reply-author-plus-two-new-orgs",
         reply(ANGLE_ONLY, to=("sato@b-corp.co.jp",), cc=("ml@lists.c-corp.co.jp",
                                                          "x@d-corp.co.jp")),
         "cross_domain_exposure", Severity.WARN),
    Case("not-a-reply-quote-does-not-help",
         {"to": ("sato@b-corp.co.jp", "other@d-corp.co.jp"), "text": "hi\n\n" + GMAIL_EN},
         "cross_domain_exposure", Severity.WARN),
    # personal_data: quoted text everyone received does not count; a forward does
    Case("own-list-counts", {"to": ("sato@b-corp.co.jp",), "text": LIST},
         "personal_data", Severity.WARN),
    Case("reply-outlook-en", reply(OUTLOOK_EN), "personal_data", None),
    Case("reply-outlook-from-sent", reply(OUTLOOK_FROM_SENT), "personal_data", None),
    Case("reply-outlook-ja", reply(OUTLOOK_JA), "personal_data", None),
    Case("reply-gmail-en", reply(GMAIL_EN), "personal_data", None),
    Case("reply-gmail-ja", reply(GMAIL_JA), "personal_data", None),
    Case("forward-to-someone-new", reply(OUTLOOK_EN, to=("yamada@d-corp.co.jp",)),
         "personal_data", Severity.WARN),
    Case("reply-adds-new-recipient", reply(OUTLOOK_EN, to=("sato@b-corp.co.jp",
                                                            "yamada@d-corp.co.jp")),
         "personal_data", Severity.WARN),
    Case("quote-without-header-counts", reply(ANGLE_ONLY), "personal_data", Severity.WARN),
    # confidential_keyword: disclaimers and quoted text
    Case("disclaimer-en", {"to": ("sato@b-corp.co.jp",), "text": "Hello.\n\n" + DISCLAIMER_EN},
         "confidential_keyword", None, {"confidential_keywords": ("confidential",)}),
    Case("disclaimer-ja", {"to": ("sato@b-corp.co.jp",), "text": "資料です。\n\n" + DISCLAIMER_JA},
         "confidential_keyword", None, {"confidential_keywords": ("機密",)}),
    Case("own-confidential-counts", {"to": ("sato@b-corp.co.jp",),
                                     "text": "この資料は社外秘です。"},
         "confidential_keyword", Severity.WARN),
    Case("ignore-pattern", {"to": ("sato@b-corp.co.jp",),
                            "text": "資料です。\n\n当社規程により社外秘情報の取扱いに"
                                    "注意してください。"},
         "confidential_keyword", None, {"ignore_patterns": ("当社規程により",)}),
    Case("ignore-pattern-other-paragraph-still-counts",
         {"to": ("sato@b-corp.co.jp",),
          "text": "社外秘の資料です。\n\n当社規程により取扱いに注意してください。"},
         "confidential_keyword", Severity.WARN, {"ignore_patterns": ("当社規程により",)}),
    Case("quoted-confidential-received",
         reply("-----Original Message-----\nFrom: sato@b-corp.co.jp\nTo: tanto@example.co.jp"
               "\nSubject: x\n\n社外秘の資料です。"),
         "confidential_keyword", None),
    Case("quoted-confidential-forwarded",
         reply("-----Original Message-----\nFrom: sato@b-corp.co.jp\nTo: tanto@example.co.jp"
               "\nSubject: x\n\n社外秘の資料です。", to=("new@d-corp.co.jp",)),
         "confidential_keyword", Severity.WARN),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_quiet_rule(case: Case) -> None:
    report = analyze(Draft(sender=ME, **case.draft), Policy(**{**BASE, **case.policy}))
    hits = [f for f in report.findings if f.code == case.code]
    if case.severity is None:
        assert not hits, [f.to_json() for f in report.findings]
    else:
        assert hits, [f.to_json() for f in report.findings]
        assert {f.severity for f in hits} == {case.severity}


def test_history_codes_escalate_by_name() -> None:
    """The history codes of SPEC 10.2 are named now, so their rules plug in."""
    assert {"first_time_recipient", "similar_recipient", "name_address_mismatch",
            "lookalike_domain", "caution_recipient"} == RISKY_RECIPIENT


def test_interrupts_flag() -> None:
    quiet = analyze(Draft(sender=ME, to=("sato@b-corp.co.jp",), attachments=(PDF,)),
                    Policy(**BASE))
    assert quiet.findings and not quiet.interrupts
    loud = analyze(Draft(sender=ME, to=("sato@b-corp.co.jp",), attachments=(PDF,)),
                   Policy(**BASE, warn_unencrypted=True))
    assert loud.interrupts


@pytest.mark.parametrize("text,own", [
    ("Thanks.\n\nOn Mon, Jun 2, 2025 at 10:00 AM A <a@b.jp> wrote:\n> old", "Thanks."),
    ("了解です。\n\n2025年6月2日(月) 10:00 佐藤 <a@b.jp>:\n> 旧", "了解です。"),
    ("了解です。\n\n佐藤さんは書きました:\n> 旧", "了解です。"),
    ("OK\n\n-----Original Message-----\nFrom: A\nSent: x\n\nold", "OK"),
    ("OK\n\nFrom: A <a@b.jp>\nSent: Monday\nTo: c@d.jp\nSubject: s\n\nold", "OK"),
    ("承知しました\n\n-----Original Message-----\n差出人: 佐藤\n送信日時: x\n\n旧", "承知しました"),
    ("Plain text without any quote.", "Plain text without any quote."),
])
def test_split_text_forms(text: str, own: str) -> None:
    body = split_text(text)
    assert body.own.strip() == own
    assert ("old" in body.quoted or "旧" in body.quoted) == (own != text)


def test_boilerplate_keeps_own_paragraphs() -> None:
    text = "Please find the quote.\n\n" + DISCLAIMER_EN + "\n\n" + DISCLAIMER_JA
    assert without_boilerplate(text).strip() == "Please find the quote."


@pytest.mark.parametrize("toml,key", [
    ('[content]\nignore_patterns = ["(unclosed"]\n', "content.ignore_patterns"),
    ('[content]\nignore_patterns = "x"\n', "content.ignore_patterns"),
    ('[attachments]\nwarn_unencrypted = "yes"\n', "attachments.warn_unencrypted"),
])
def test_new_keys_reject_bad_values(toml: str, key: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(toml, source="p.toml")
    assert key in str(err.value)
    assert err.value.line == 2


def test_new_keys_parse() -> None:
    p = parse_policy('[content]\nignore_patterns = ["当社規程"]\n'
                     '[attachments]\nwarn_unencrypted = true\n')
    assert p.ignore_patterns == ("当社規程",) and p.warn_unencrypted
    assert not Policy().warn_unencrypted and Policy().ignore_patterns == ()
