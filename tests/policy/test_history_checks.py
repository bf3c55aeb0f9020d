"""The five history checks (SPEC 10.1/10.2) over a plain in-memory history: each fires on
its incident-shaped case and stays quiet on the close case next to it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.policy import analyze, draft_from_bytes
from service.policy.history import edit_distance, greeting, name_key
from service.policy.policyfile import parse_policy

ME = "suzuki@a-sys.co.jp"


@dataclass
class MemoryHistory:
    """``HistoryView`` from a list of sent (address, name) pairs and threads."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    threads: dict[str, set[str]] = field(default_factory=dict)   # message id -> orgs
    shown: list[set[str]] = field(default_factory=list)  # each earlier message's From/To/Cc

    def __post_init__(self) -> None:
        self.counts = Counter(a for a, _ in self.sent)
        self.names = Counter((name_key(n), a) for a, n in self.sent if name_key(n))
        self.display = {a: n for a, n in self.sent if n}

    def is_empty(self) -> bool:
        return not self.sent

    def count(self, address: str) -> int:
        return self.counts[address]

    def at_domain(self, domain: str) -> Sequence[tuple[str, int]]:
        return [(a, n) for a, n in self.counts.items() if a.rpartition("@")[2] == domain]

    def with_local(self, local: str) -> Sequence[tuple[str, int]]:
        return [(a, n) for a, n in self.counts.items() if a.rpartition("@")[0] == local]

    def addresses_for_name(self, key: str) -> Sequence[tuple[str, int]]:
        return [(a, n) for (k, a), n in self.names.items() if k == key]

    def names_for(self, address: str) -> Sequence[str]:
        return [self.display[address]] if address in self.display else []

    def thread_has_domain(self, ids: Sequence[str], domain: str) -> bool | None:
        orgs = [self.threads[i] for i in ids if i in self.threads]
        return None if not orgs else any(domain in o for o in orgs)

    def together(self, addresses: Sequence[str]) -> Sequence[frozenset[str]]:
        groups = [frozenset(set(addresses) & people) for people in self.shown]
        return [g for g in groups if len(g) >= 2]


HISTORY = MemoryHistory(
    sent=[("joho-jiro@b-corp.co.jp", "情報 二郎")] * 14
    + [("yamada@b-corp.co.jp", "株式会社B 山田 太郎 様")] * 6
    + [("h.sato@c-shoji.co.jp", "Hanako Sato")] * 3
    + [("taro.kimura@d-kogyo.co.jp", "木村 太郎")] * 2
    + [("info@e-shop.jp", "")] * 2
    + [("tanaka@b-corp.co.jp", "田中")] + [("tanak@b-corp.co.jp", "")],
    threads={"<t1@a-sys.co.jp>": {"b-corp.co.jp"}})


def msg(to: str, body: str = "よろしくお願いいたします。\n", extra: str = "") -> bytes:
    return (f"From: {ME}\nTo: {to}\nSubject: 打合せの件\n{extra}"
            "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()


def codes(raw: bytes, history: MemoryHistory | None = HISTORY, policy: str = ""
          ) -> dict[str, Any]:
    report = analyze(draft_from_bytes(raw), parse_policy(policy), history=history)
    return {f.code: f for f in report.findings}


HISTORY_CODES = {"first_time_recipient", "new_domain_in_reply", "name_address_mismatch",
                 "similar_recipient", "salutation_mismatch"}

CASES = [
    # name, message, codes that must fire, codes that must not
    ("autocomplete neighbour same name", msg("情報 二郎 <joho-hanako@b-corp.co.jp>"),
     {"name_address_mismatch", "first_time_recipient"}, {"similar_recipient"}),
    ("name with honorific and full width", msg("情報　二郎 様 <joho-hanako@b-corp.co.jp>"),
     {"name_address_mismatch"}, set()),
    ("known name, known address", msg("情報 二郎 <joho-jiro@b-corp.co.jp>"),
     set(), HISTORY_CODES),
    ("one edit from a frequent local part", msg("joho-jir0@b-corp.co.jp"),
     {"similar_recipient", "first_time_recipient"}, {"name_address_mismatch"}),
    ("same local part at another organisation", msg("h.sato@c-shojl.co.jp"),
     {"similar_recipient"}, set()),
    ("both used before: no alarm", msg("tanak@b-corp.co.jp"), set(),
     {"similar_recipient", "first_time_recipient"}),
    ("role mailbox at another organisation", msg("info@f-shop.jp"),
     {"first_time_recipient"}, {"similar_recipient"}),
    ("far from everything", msg("someone.else@g-corp.co.jp"),
     {"first_time_recipient"}, {"similar_recipient", "name_address_mismatch"}),
    ("reply adds an outsider", msg("joho-jiro@b-corp.co.jp, x@evil.example",
                                   extra="In-Reply-To: <t1@a-sys.co.jp>\n"),
     {"new_domain_in_reply"}, set()),
    ("reply within the thread's organisations",
     msg("joho-jiro@b-corp.co.jp, yamada@b-corp.co.jp",
         extra="References: <t1@a-sys.co.jp>\n"), set(), {"new_domain_in_reply"}),
    ("reply to an unknown thread", msg("x@evil.example", extra="In-Reply-To: <zz@q>\n"),
     set(), {"new_domain_in_reply"}),
    ("greeting to B社, mail to someone known at C社",
     msg("Hanako Sato <h.sato@c-shoji.co.jp>",
         "株式会社B\n情報課\n山田様\n\nお世話になっております。\n"),
     {"salutation_mismatch"}, set()),
    ("greeting matches the recipient's name",
     msg("株式会社B 山田 太郎 様 <yamada@b-corp.co.jp>",
         "株式会社B 情報課\n山田様\n\nお世話になっております。\n"), set(), HISTORY_CODES),
    ("English greeting matches", msg("Hanako Sato <h.sato@c-shoji.co.jp>",
                                     "Dear Ms Sato,\n\nThank you.\n"), set(), HISTORY_CODES),
    ("English greeting to someone else", msg("Hanako Sato <h.sato@c-shoji.co.jp>",
                                             "Dear Mr Kimura,\n\nThank you.\n"),
     {"salutation_mismatch"}, set()),
    ("generic greeting is quiet",
     msg("someone@g-corp.co.jp", "関係者各位\n\nお世話になっております。\n"),
     set(), {"salutation_mismatch"}),
    ("unsure: unnamed unknown recipient", msg("someone@g-corp.co.jp",
                                             "鈴木様\n\nお世話になっております。\n"),
     set(), {"salutation_mismatch"}),
]


@pytest.mark.parametrize(("raw", "fire", "quiet"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_history_checks(raw: bytes, fire: set[str], quiet: set[str]) -> None:
    found = codes(raw)
    assert fire <= set(found), found.keys()
    assert not quiet & set(found), found.keys()


def test_evidence_names_the_known_address_and_count() -> None:
    f = codes(msg("情報 二郎 <joho-hanako@b-corp.co.jp>"))["name_address_mismatch"]
    assert f.severity.value == "warn" and f.addresses == ("joho-hanako@b-corp.co.jp",)
    assert "joho-jiro@b-corp.co.jp" in f.message and "14" in f.message
    assert f.params["replace"] == "joho-jiro@b-corp.co.jp"


@pytest.mark.parametrize("history", [None, MemoryHistory()], ids=["no history", "empty"])
def test_no_history_no_history_findings(history: MemoryHistory | None) -> None:
    assert not HISTORY_CODES & set(codes(msg("情報 二郎 <joho-hanako@b-corp.co.jp>"),
                                         history))


def test_history_enabled_false_turns_them_off() -> None:
    found = codes(msg("情報 二郎 <joho-hanako@b-corp.co.jp>"),
                  policy="[history]\nenabled = false\n")
    assert not HISTORY_CODES & set(found)


@pytest.mark.parametrize(("a", "b"), [
    ("情報 二郎", "情報二郎"), ("情報　二郎 様", "情報 二郎"), ("ｼﾞﾛｳ", "ジロウ"),
    ("Mr. John Smith", "john smith"), ("山田さん", "山田"), ("株式会社B 御中", "株式会社Ｂ"),
])
def test_name_key_equal(a: str, b: str) -> None:
    assert name_key(a) == name_key(b) != ""


@pytest.mark.parametrize(("a", "b"), [("山田 太郎", "山田 次郎"), ("Sato", "Kato")])
def test_name_key_different(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_name_key_of_an_address_is_empty() -> None:
    assert name_key("joho@b-corp.co.jp") == ""


@pytest.mark.parametrize(("text", "names"), [
    ("株式会社B 情報課 山田様\n\nお世話になっております。", ("株式会社b", "山田")),
    ("株式会社B\n情報課長 山田 様\nいつもお世話になっております。", ("株式会社b", "山田")),
    ("Dear Ms Sato,\nThanks", ("sato",)),
    ("Dear Hanako Sato,\n", ("hanakosato",)),
    ("Dear all,\n", ()), ("関係者各位\n", ()), ("お世話になっております。\n", ()),
    ("", ()), ("Hi there, the numbers are attached.", ()),
])
def test_greeting(text: str, names: tuple[str, ...]) -> None:
    assert greeting(text) == names


@pytest.mark.parametrize(("a", "b", "d"), [("sato", "kato", 1), ("joho-jiro", "joho-jir0", 1),
                                           ("abc", "abc", 0), ("abcdef", "ab", 3)])
def test_edit_distance(a: str, b: str, d: int) -> None:
    assert edit_distance(a, b) == d
