"""List patterns (SPEC 10.1, contract) as FlexConfirmMail users write them, and entries
that could never match, which must be errors."""

from __future__ import annotations

import pytest

from service.errors import PolicyError
from service.policy.patterns import PatternError, PatternList, compile_pattern
from service.policy.policyfile import parse_policy

MATCH = [
    # id, entries, address, matches
    ("domain", ["example.com"], "a@example.com", True),
    ("domain-sub", ["example.com"], "a@mail.example.com", True),
    ("domain-boundary", ["example.com"], "a@badexample.com", False),
    ("domain-case-and-dot", ["Example.COM."], "a@example.com", True),
    ("domain-idn", ["日本語.jp"], "a@xn--wgv71a119e.jp", True),
    ("at-domain-exact", ["@example.com"], "a@example.com", True),
    ("at-domain-not-sub", ["@example.com"], "a@mail.example.com", False),
    ("address", ["Sato@Example.com"], "sato@example.com", True),
    ("address-other", ["sato@example.com"], "suzuki@example.com", False),
    ("address-not-sub", ["sato@example.com"], "sato@mail.example.com", False),
    ("star-dot-subdomain", ["*.example.org"], "a@www.example.org", True),
    ("star-dot-deeper", ["*.example.org"], "a@x.y.example.org", True),
    ("star-dot-not-parent", ["*.example.org"], "a@example.org", False),
    ("star-local", ["*+blocked@example.com"], "taro+blocked@example.com", True),
    ("star-local-close", ["*+blocked@example.com"], "taro+ok@example.com", False),
    ("star-local-sub-not", ["*+blocked@example.com"], "t+blocked@a.example.com", False),
    ("question-one-char", ["?.example.jp"], "a@b.example.jp", True),
    ("question-and-below", ["?.example.jp"], "a@x.b.example.jp", True),
    ("question-not-two", ["?.example.jp"], "a@bc.example.jp", False),
    ("question-not-zero", ["?.example.jp"], "a@example.jp", False),
    ("flexconfirmmail-mixed", ["*.00@*example.net"], "x.00@myexample.net", True),
    ("flexconfirmmail-mixed-close", ["*.00@*example.net"], "x.01@myexample.net", False),
    ("star-glued", ["*example.net"], "a@badexample.net", True),
    ("star-everything", ["*"], "a@anything.example", True),
    ("except-after", ["example.com", "-ok.example.com"], "a@ok.example.com", False),
    ("except-keeps-rest", ["example.com", "-ok.example.com"], "a@ng.example.com", True),
    ("except-address", ["example.com", "-boss@example.com"], "boss@example.com", False),
    ("except-then-again", ["example.com", "-ok.example.com", "x.ok.example.com"],
     "a@x.ok.example.com", True),
    ("except-only-earlier", ["-ok.example.com", "example.com"], "a@ok.example.com", True),
    ("wildcard-unicode", ["*.日本語.jp"], "a@www.xn--wgv71a119e.jp", True),
    ("fullwidth-entry", ["ｅｘａｍｐｌｅ.com"], "a@example.com", True),
]


@pytest.mark.parametrize(("entries", "address", "expected"), [c[1:] for c in MATCH],
                         ids=[c[0] for c in MATCH])
def test_pattern_matching(entries: list[str], address: str, expected: bool) -> None:
    lst = PatternList(entries)
    assert lst.matches(address, address.rpartition("@")[2]) is expected
    assert lst.matches(address, address.rpartition("@")[2]) is expected   # memoised


NEVER = [
    ("empty", ""),
    ("lone-dash", "-"),
    ("blank-inside", "exa mple.com"),
    ("ideographic-blank-inside", "exa\u3000mple.com"),
    ("two-ats", "a@b@c.com"),
    ("no-domain-after-at", "taro@"),
    ("no-dot", "example"),
    ("underscore", "intranet_host"),
    ("bad-idn", "xn--zz.com"),
    ("bad-domain-in-address", "a@-x-.com"),
    ("bad-local", "a b@c.com"),
    ("star-dot-nothing", "*."),
    ("leading-dot", ".example.com"),
    ("control", "exam\x07ple.com"),
]


@pytest.mark.parametrize("entry", [c[1] for c in NEVER], ids=[c[0] for c in NEVER])
def test_entries_that_cannot_match_are_errors(entry: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(entry)


LISTS = ["internal_domains", "trusted_domains"]
RECIPIENT_LISTS = ["personal_domains", "blocked_domains", "caution_domains",
                   "required_bcc_external"]


@pytest.mark.parametrize("key", LISTS + RECIPIENT_LISTS)
def test_every_list_takes_patterns_and_names_the_bad_line(key: str) -> None:
    section = "organization" if key in LISTS else "recipients"
    good = parse_policy(f'[{section}]\n{key} = ["@example.com", "*.example.org", '
                        f'"?.example.jp", "*+x@example.net", "-ok.example.org"]\n')
    assert len(getattr(good, key)) == 5
    text = f'[{section}]\n{key} = [\n  "example.com",\n  "a@b@c.com",\n]\n'
    with pytest.raises(PolicyError) as err:
        parse_policy(text, source="p.toml")
    assert err.value.line == 4 and err.value.key == f"{section}.{key}"
    assert "a@b@c.com" in str(err.value) and "p.toml:4" in str(err.value)


def test_internal_domains_with_patterns_decide_who_is_external() -> None:
    from service.policy import Draft, analyze
    from service.policy.policyfile import Policy

    policy = Policy(internal_domains=("example.co.jp", "-guest.example.co.jp",
                                      "@partner.jp"))
    draft = Draft(to=("a@tokyo.example.co.jp", "b@guest.example.co.jp", "c@partner.jp",
                      "d@x.partner.jp"))
    ext = next(f for f in analyze(draft, policy).findings if f.code == "external_recipients")
    assert ext.addresses == ("b@guest.example.co.jp", "d@x.partner.jp")


def test_required_bcc_pattern() -> None:
    from service.policy import Draft, analyze
    from service.policy.policyfile import Policy

    policy = Policy(internal_domains=("example.co.jp",),
                    required_bcc_external=("*@archive.example.co.jp",))
    sent = Draft(to=("a@client.jp",), bcc=("box1@archive.example.co.jp",))
    missing = Draft(to=("a@client.jp",), bcc=("box1@example.co.jp",))
    assert "missing_required_bcc" not in {f.code for f in analyze(sent, policy).findings}
    assert "missing_required_bcc" in {f.code for f in analyze(missing, policy).findings}
