"""Organisation names (SPEC 10.2) from display names and greeting blocks, and what the
salutation check makes of them with the sender's history: the JIPDEC case (a letter to
株式会社B sent to C社's address) fires, its close cases stay quiet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from service.policy import analyze, draft_from_bytes
from service.policy.orgnames import greeting_block_orgs, org_key, org_names
from service.policy.policyfile import parse_policy

from .test_history_checks import ME, MemoryHistory


@pytest.mark.parametrize("display, keys", [
    ("株式会社B 情報 二郎", ("b",)),
    ("株式会社Ｂ 情報課 山田様", ("b",)),              # full width folded
    ("B株式会社 御中", ("b",)),                         # the form after the name
    ("株式会社 B 御中", ("b",)),                        # the form on its own
    ("山田 太郎（C商事株式会社）", ("c商事",)),
    ("(株)D工業 木村", ("d工業",)),
    ("D工業(株) 木村", ("d工業",)),
    ("㈱E銀行", ("e銀行",)),
    ("有限会社F設計 渡辺 真理", ("f設計",)),
    ("一般社団法人G協会 事務局", ("g協会",)),
    ("John Smith (Globex Inc.)", ("globex",)),
    ("Mary Major (Initech Co., Ltd.)", ("initech",)),
    # not a company: no legal form means unsure, and unsure means nothing
    ("情報 二郎", ()),
    ("営業部 佐藤様", ()),
    ("Globex Sales", ()),
    ("株式会社", ()),
    ("", ()),
    ("joho-jiro@b-corp.co.jp", ()),
])
def test_org_names_in_display_names(display: str, keys: tuple[str, ...]) -> None:
    assert org_names(display) == keys


@pytest.mark.parametrize("text, keys", [
    ("株式会社B\n情報課\n山田様\n\nいつもお世話になっております。", ("b",)),
    ("株式会社B 情報課長 様\n\nお世話になっております。", ("b",)),
    ("B株式会社 御中\nいつもお世話になっております。", ("b",)),
    ("山田様\n\nいつもお世話になっております。", ()),
    ("Dear Mr Yamada,\n\nThank you.", ()),
    ("いつもお世話になっております。株式会社Bの件です。", ()),   # not a greeting block
    ("本文だけの短いメモ\n株式会社B", ()),
])
def test_greeting_block_companies(text: str, keys: tuple[str, ...]) -> None:
    assert greeting_block_orgs(text) == keys


def test_one_company_in_many_spellings_is_one_key() -> None:
    assert {org_key(s) for s in ("株式会社B", "Ｂ株式会社", "(株)B", "㈱Ｂ", "B (株)")} == {"b"}


@dataclass
class OrgHistory(MemoryHistory):
    """MemoryHistory plus the companies seen with each organisation."""

    orgs: dict[str, Counter[str]] = field(default_factory=dict)

    def org_domains(self, key: str) -> Sequence[tuple[str, int]]:
        return list(self.orgs.get(key, Counter()).most_common())


HISTORY = OrgHistory(
    sent=[("yamada@b-corp.co.jp", "山田 太郎")] * 5 + [("sato@c-shoji.co.jp", "佐藤 花子")] * 3
    + [("kimura@bgroup.jp", "")],
    orgs={"b": Counter({"b-corp.co.jp": 5, "bgroup.jp": 1}),
          "c商事": Counter({"c-shoji.co.jp": 1})})


def _salutation(to: str, greeting: str, history: MemoryHistory = HISTORY,
                locale: str = "en") -> str | None:
    raw = (f"From: {ME}\nTo: {to}\nSubject: x\nContent-Type: text/plain; charset=utf-8\n\n"
           f"{greeting}\n\nいつもお世話になっております。\n資料をお送りします。\n").encode()
    report = analyze(draft_from_bytes(raw), parse_policy(""), history=history, locale=locale)
    found = [f for f in report.findings if f.code == "salutation_mismatch"]
    return found[0].message if found else None


@pytest.mark.parametrize("to, greeting, expected", [
    # the JIPDEC case: B社's letter to C社's address (no display name to compare)
    pytest.param("sato@c-shoji.co.jp", "株式会社B 御中",
                 "Your mail to that company has gone to b-corp.co.jp (5 times).", id="jipdec"),
    pytest.param("佐藤 <sato@c-shoji.co.jp>", "株式会社B\n営業部\n山田様",
                 "Your mail to that company has gone to b-corp.co.jp (5 times).",
                 id="named-other-person"),
    # close cases: quiet
    pytest.param("yamada@b-corp.co.jp", "株式会社B 御中", None, id="right-company"),
    pytest.param("kimura@bgroup.jp", "株式会社B 御中", None, id="company-seen-once-here"),
    pytest.param("new@b-corp.co.jp", "B株式会社\n山田様", None, id="new-person-same-company"),
    pytest.param("someone@d-kogyo.co.jp", "C商事株式会社 御中", None, id="seen-only-once"),
    pytest.param("someone@d-kogyo.co.jp", "株式会社Z 御中", None, id="unknown-company"),
])
def test_salutation_with_company_history(to: str, greeting: str,
                                         expected: str | None) -> None:
    message = _salutation(to, greeting)
    if expected is None:
        assert message is None
    else:
        assert message is not None and expected in message


def test_the_evidence_in_japanese() -> None:
    message = _salutation("sato@c-shoji.co.jp", "株式会社B 御中", locale="ja")
    assert message is not None
    assert "この会社宛のメールはこれまで b-corp.co.jp に送っています（5回）。" in message


def test_without_company_history_the_check_is_as_before() -> None:
    plain = MemoryHistory(sent=HISTORY.sent)
    assert _salutation("sato@c-shoji.co.jp", "株式会社B 御中", plain) is None
