"""SPEC 10.6 "already visible together", from the sender's history (``HistoryView.together``:
their own earlier mail and the threads read from Gmail), and one mailbox under two
spellings for the name checks: each quiet case next to the case that must still warn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from service.policy import analyze, draft_from_bytes
from service.policy.exposure import MAX_ASKED
from service.policy.history import same_mailbox
from service.policy.policyfile import parse_policy
from tests.policy.test_history_checks import MemoryHistory

ME = "suzuki@a-sys.co.jp"
POLICY = parse_policy('[organization]\ninternal_domains = ["a-sys.co.jp"]\n')
B, C, D = "yamada@b-corp.co.jp", "sato@c-shoji.co.jp", "kimura@d-kogyo.co.jp"
G = "hanako.member@gmail.com"


@dataclass
class Together(MemoryHistory):
    """A history whose ``together`` answers are recorded, to see what was asked."""

    asked: list[tuple[str, ...]] = field(default_factory=list)

    def together(self, addresses: Sequence[str]) -> Sequence[frozenset[str]]:
        self.asked.append(tuple(addresses))
        return super().together(addresses)


def codes(to: str, cc: str = "", history: MemoryHistory | None = None,
          body: str = "よろしくお願いいたします。\n") -> set[str]:
    raw = (f"From: {ME}\nTo: {to}\n" + (f"Cc: {cc}\n" if cc else "")
           + "Subject: 打合せ\nContent-Type: text/plain; charset=utf-8\n\n" + body).encode()
    report = analyze(draft_from_bytes(raw), POLICY, history=history)
    return {f.code for f in report.findings if f.severity.value != "info"}


def seen(*messages: set[str]) -> Together:
    return Together(sent=[(a, "") for m in messages for a in m], shown=list(messages))


CASES = [
    # name, to, cc, history's earlier messages (each its From/To/Cc), code, fires
    ("two customers, never together", B, C, [{ME, B}, {ME, C}],
     "cross_domain_exposure", True),
    ("two customers shown together before", B, C, [{ME, B, C}],
     "cross_domain_exposure", False),
    ("a thread message from B, Cc C", B, C, [{B, ME, C}], "cross_domain_exposure", False),
    ("a third company added to them", f"{B}, {C}", D, [{ME, B, C}],
     "cross_domain_exposure", True),
    ("no history at all", B, C, None, "cross_domain_exposure", True),
    ("private address never shown to B", B, G, [{ME, B}, {ME, G}],
     "personal_address_visible", True),
    ("private address shown to B before", B, G, [{ME, B, G}],
     "personal_address_visible", False),
    ("private address shown to B, not to C", f"{B}, {C}", G, [{ME, B, G}, {ME, B, C}],
     "personal_address_visible", True),
]


@pytest.mark.parametrize("name, to, cc, earlier, code, fires", CASES,
                         ids=[c[0] for c in CASES])
def test_what_the_history_showed_together(name: str, to: str, cc: str,
                                          earlier: list[set[str]] | None, code: str,
                                          fires: bool) -> None:
    history = seen(*earlier) if earlier is not None else None
    assert (code in codes(to, cc, history)) is fires


def test_a_circular_does_not_ask_the_history() -> None:
    many = ", ".join(f"m{i}@org{i}.example.jp" for i in range(MAX_ASKED + 1))
    history = seen({ME, B, C})
    assert codes(many, history=history)          # it interrupts (many_visible_recipients)
    assert history.asked == []
    assert "cross_domain_exposure" not in codes(B, C, history=history)
    assert history.asked and set(history.asked[0]) == {B, C}


def test_the_incident_reply_still_warns_with_a_history() -> None:
    """JIPDEC: a reply in B's thread adds customer C; the sender wrote to each before."""
    body = ("承知しました。\n\n-----Original Message-----\n差出人: 山田 <yamada@b-corp.co.jp>\n"
            "宛先: suzuki@a-sys.co.jp\n件名: 見積\n\n見積の件\n")
    assert "cross_domain_exposure" in codes(B, C, seen({ME, B}, {ME, C}), body)


MAILBOXES = [
    ("another host of the organisation", "ejw@cse.ucsc.edu", "ejw@soe.ucsc.edu", True),
    ("a plus tag", "tanaka+orders@b-corp.co.jp", "tanaka@b-corp.co.jp", True),
    ("TMDA dated addresses", "cwg-dated-1030314468.7c7c85@deepeddy.com",
     "cwg-dated-1030377287.06fa6d@deepeddy.com", True),
    ("another person at the same company", "joho-jiro@b-corp.co.jp",
     "joho-hanako@b-corp.co.jp", False),
    ("the same local part elsewhere", "harley@corton.inria.fr", "harley@argote.ch", False),
    ("a look-alike organisation", "sato@b-corp.co.jp", "sato@b-corp.co", False),
]


@pytest.mark.parametrize("name, a, b, same", MAILBOXES, ids=[m[0] for m in MAILBOXES])
def test_one_mailbox_two_spellings(name: str, a: str, b: str, same: bool) -> None:
    assert same_mailbox(a, b) is same and same_mailbox(b, a) is same


@pytest.mark.parametrize("name, known, now, fires", [
    ("the name with another host of its organisation", "ejw@cse.ucsc.edu", "ejw@soe.ucsc.edu",
     False),
    ("the name with another person's address", "joho-jiro@b-corp.co.jp",
     "joho-hanako@b-corp.co.jp", True),
], ids=["same mailbox", "incident"])
def test_name_address_mismatch_knows_one_mailbox(name: str, known: str, now: str,
                                                 fires: bool) -> None:
    history = MemoryHistory(sent=[(known, "Jim Whitehead")] * 3)
    assert ("name_address_mismatch" in codes(f"Jim Whitehead <{now}>", history=history)) \
        is fires
