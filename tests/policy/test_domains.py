"""Domains: normalisation, PSL organisations, and the classifier the rules ask."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError
from email_validator.syntax import validate_email_domain_name

from service.policy.classifier import DomainClassifier
from service.policy.domains import (
    is_within,
    normalize_domain,
    public_suffix,
    registrable_domain,
    to_unicode,
)
from service.policy.providers import PERSONAL_PROVIDERS, WITH_SUBDOMAINS

NORMALIZE = [
    ("plain", "example.co.jp", "example.co.jp"),
    ("upper", "EXAMPLE.CO.JP", "example.co.jp"),
    ("blanks", "  example.co.jp \t", "example.co.jp"),
    ("trailing-dot", "example.co.jp.", "example.co.jp"),
    ("idn", "日本語.jp", "xn--wgv71a119e.jp"),
    ("idn-upper-ace", "XN--WGV71A119E.JP", "xn--wgv71a119e.jp"),
    ("fullwidth", "ＥＸＡＭＰＬＥ．ｃｏ．ｊｐ", "example.co.jp"),
    ("ideographic-dot", "例え。jp", "xn--r8jz45g.jp"),
    ("hyphen-inside", "my-company.co.jp", "my-company.co.jp"),
    ("digits", "123.example.com", "123.example.com"),
    ("double-hyphen-not-at-3", "abc--d.com", "abc--d.com"),
    ("long-label", "a" * 63 + ".jp", "a" * 63 + ".jp"),
    ("empty", "", None),
    ("blank", "   ", None),
    ("dot", ".", None),
    ("two-dots", "example.co.jp..", None),
    ("single-label", "localhost", None),
    ("label-64", "a" * 64 + ".jp", None),
    ("too-long", ".".join(["a" * 63] * 4) + ".jp", None),
    ("underscore", "a_b.com", None),
    ("space", "exa mple.com", None),
    ("leading-hyphen", "-bad.jp", None),
    ("trailing-hyphen", "bad-.jp", None),
    ("bad-punycode", "xn--zz.com", None),
    ("r-ldh", "ab--cd.com", None),
    ("numeric-tld", "1.2.3.4", None),
    ("special-local", "pc.local", None),
    ("special-test", "foo.test", None),
    ("special-invalid", "x.invalid", None),
    ("zero-width", "exa\u200bmple.com", None),
    ("at-sign", "a@b.jp", None),
    ("huge", "a" * 100_000, None),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in NORMALIZE],
                         ids=[c[0] for c in NORMALIZE])
def test_normalize_domain(raw: str, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("domain", [
    "a.b", "a.b1", "a.1b", "a.b-c", "a-.b", "a.-b", "ab--c.com", "abc--d.com", "x.onion",
    "a.test.com", "b" * 63 + ".c", ".".join(["b" * 63] * 3) + "." + "c" * 61,
    ".".join(["b" * 63] * 3) + "." + "c" * 62, "a..b", "0.com", "com.0a",
])
def test_ascii_shortcut_agrees_with_email_validator(domain: str) -> None:
    try:
        expected: str | None = validate_email_domain_name(domain)["ascii_domain"]
    except EmailNotValidError:
        expected = None
    assert normalize_domain(domain) == expected


def test_non_string_is_not_a_domain() -> None:
    assert normalize_domain(None) is None


def test_to_unicode() -> None:
    assert to_unicode("xn--wgv71a119e.jp") == "日本語.jp"
    assert to_unicode("xn--zz.com") == "xn--zz.com"      # not IDNA: kept as is
    assert to_unicode("example.jp") == "example.jp"


WITHIN = [
    ("equal", "corp.co.jp", "corp.co.jp", True),
    ("subdomain", "mail.corp.co.jp", "corp.co.jp", True),
    ("deep", "a.b.corp.co.jp", "corp.co.jp", True),
    ("case-and-dot", "Mail.Corp.co.jp.", "corp.co.jp", True),
    ("label-boundary", "evil-corp.co.jp", "corp.co.jp", False),
    ("suffix-glued", "xcorp.co.jp", "corp.co.jp", False),
    ("parent-of", "co.jp", "corp.co.jp", False),
    ("prefix-embed", "corp.co.jp.evil.com", "corp.co.jp", False),
    ("empty-domain", "", "corp.co.jp", False),
    ("empty-parent", "corp.co.jp", "", False),
]


@pytest.mark.parametrize(("domain", "parent", "expected"), [c[1:] for c in WITHIN],
                         ids=[c[0] for c in WITHIN])
def test_is_within(domain: str, parent: str, expected: bool) -> None:
    assert is_within(domain, parent) is expected


PSL = [
    ("co-jp", "example.co.jp", "example.co.jp", "co.jp"),
    ("subdomain", "mail.tokyo.example.co.jp", "example.co.jp", "co.jp"),
    ("com", "www.example.com", "example.com", "com"),
    ("geo-jp", "city.kiyose.tokyo.jp", "city.kiyose.tokyo.jp", "kiyose.tokyo.jp"),
    ("lg-jp", "city.kiyose.lg.jp", "kiyose.lg.jp", "lg.jp"),
    ("ac-jp", "mail.keio.ac.jp", "keio.ac.jp", "ac.jp"),
    ("idn", "xn--wgv71a119e.jp", "xn--wgv71a119e.jp", "jp"),
    ("private-section", "foo.blogspot.com", "foo.blogspot.com", "blogspot.com"),
    ("public-suffix-itself", "co.jp", "co.jp", "co.jp"),
    ("tld-itself", "jp", "jp", "jp"),
    ("unknown-tld", "foo.unknowntld", "foo.unknowntld", "unknowntld"),
    ("provider-subdomain", "abc.ocn.ne.jp", "ocn.ne.jp", "ne.jp"),
]


@pytest.mark.parametrize(("domain", "registrable", "suffix"), [c[1:] for c in PSL],
                         ids=[c[0] for c in PSL])
def test_registrable_domain_and_public_suffix(domain: str, registrable: str,
                                              suffix: str) -> None:
    assert registrable_domain(domain) == registrable
    assert public_suffix(domain) == suffix


@pytest.mark.parametrize("garbage", ["", ".", "..", "a..b", "\x00", "日本語"])
def test_psl_garbage_never_raises(garbage: str) -> None:
    assert isinstance(registrable_domain(garbage), str)
    assert isinstance(public_suffix(garbage), str)


def _rules() -> list[str]:
    from publicsuffixlist import PSLFILE

    with open(PSLFILE, encoding="utf-8") as f:
        return [line.split(" ")[0].strip().lower() for line in f
                if line.strip() and not line.startswith("//")]


def test_no_rule_is_ascii_only_once_encoded_unless_it_was() -> None:
    """Why a domain without an ``xn--`` label may use the PSL without punycode rules."""
    from publicsuffixlist import encode_idn

    rules = _rules()
    assert len(rules) > 9000
    for rule in rules:
        encoded = encode_idn(rule.lstrip("!"))
        assert encoded == rule.lstrip("!") or "xn--" in encoded, rule


def test_registrable_domains_as_with_the_whole_psl_for_every_rule() -> None:
    """Every rule of the list, as a name under it and as the name itself, in Unicode and
    in punycode, wildcards filled in: the same answers as the PSL with punycode rules."""
    from publicsuffixlist import PublicSuffixList, encode_idn

    whole = PublicSuffixList()
    names: set[str] = set()
    for rule in _rules():
        bare = rule.lstrip("!").replace("*", "x")
        for form in (bare, encode_idn(bare)):
            names.update((form, f"a.{form}", f"b.a.{form}"))
    assert sum("xn--" in n for n in names) > 1000 and len(names) > 25000
    for name in sorted(names):
        assert registrable_domain(name) == (whole.privatesuffix(name) or name), name
        assert public_suffix(name) == (whole.publicsuffix(name) or name), name


def test_provider_list_is_normalised_and_unique() -> None:
    assert len(PERSONAL_PROVIDERS) == len(set(PERSONAL_PROVIDERS))
    assert all(normalize_domain(d) == d for d in PERSONAL_PROVIDERS)
    assert set(WITH_SUBDOMAINS) <= set(PERSONAL_PROVIDERS)
    for required in ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "au.com",
                     "softbank.ne.jp", "i.softbank.jp", "icloud.com", "outlook.jp",
                     "hotmail.co.jp", "nifty.com", "ocn.ne.jp", "biglobe.ne.jp"):
        assert required in PERSONAL_PROVIDERS


@pytest.fixture
def classifier() -> DomainClassifier:
    return DomainClassifier(
        internal=["corp.co.jp", "日本語.jp", "Group.Example.COM."],
        trusted=["partner.co.jp"],
        personal_extra=["myisp.ne.jp"],
        blocked=["rival.co.jp", "Leaker@Gmail.com", "@spam.example", "*.bad.jp",
                 "ex@日本語.jp"],
    )


CLASSIFY = [
    # id, domain, internal, trusted, personal
    ("internal", "corp.co.jp", True, False, False),
    ("internal-sub", "tokyo.corp.co.jp", True, False, False),
    ("internal-idn", "xn--wgv71a119e.jp", True, False, False),
    ("internal-normalised-config", "group.example.com", True, False, False),
    ("internal-not-parent", "example.com", False, False, False),
    ("lookalike-not-internal", "evil-corp.co.jp", False, False, False),
    ("trusted", "partner.co.jp", False, True, False),
    ("trusted-sub", "mail.partner.co.jp", False, True, False),
    ("gmail", "gmail.com", False, False, True),
    ("gmail-sub-not-listed", "mail.gmail.com", False, False, False),
    ("docomo", "docomo.ne.jp", False, False, True),
    ("softbank-iphone", "i.softbank.jp", False, False, True),
    ("softbank-corporate", "softbank.jp", False, False, False),
    ("ocn-sub", "xyz.ocn.ne.jp", False, False, True),
    ("ezweb-biz", "biz.ezweb.ne.jp", False, False, True),
    ("vodafone-legacy", "d.vodafone.ne.jp", False, False, True),
    ("extra", "myisp.ne.jp", False, False, True),
    ("extra-sub", "a.myisp.ne.jp", False, False, True),
    ("company", "toyota.co.jp", False, False, False),
    ("docomo-corporate", "nttdocomo.com", False, False, False),
]


@pytest.mark.parametrize(("domain", "internal", "trusted", "personal"),
                         [c[1:] for c in CLASSIFY], ids=[c[0] for c in CLASSIFY])
def test_classifier(classifier: DomainClassifier, domain: str, internal: bool,
                    trusted: bool, personal: bool) -> None:
    assert classifier.is_internal(domain) is internal
    assert classifier.is_trusted(domain) is trusted
    assert classifier.is_personal(domain) is personal


ORGANIZATION = [
    ("company-subdomain", "a@mail.acme.co.jp", "mail.acme.co.jp", "acme.co.jp"),
    ("company", "b@acme.co.jp", "acme.co.jp", "acme.co.jp"),
    ("personal-is-own-org", "taro@gmail.com", "gmail.com", "taro@gmail.com"),
    ("personal-sub", "hana@abc.ocn.ne.jp", "abc.ocn.ne.jp", "hana@abc.ocn.ne.jp"),
    ("lg-jp", "x@city.kiyose.lg.jp", "city.kiyose.lg.jp", "kiyose.lg.jp"),
]


@pytest.mark.parametrize(("address", "domain", "org"), [c[1:] for c in ORGANIZATION],
                         ids=[c[0] for c in ORGANIZATION])
def test_organization(classifier: DomainClassifier, address: str, domain: str,
                      org: str) -> None:
    assert classifier.organization(address, domain) == org


BLOCKED = [
    ("domain", "x@rival.co.jp", "rival.co.jp", True),
    ("domain-sub", "x@mail.rival.co.jp", "mail.rival.co.jp", True),
    ("domain-boundary", "x@notrival.co.jp", "notrival.co.jp", False),
    ("address", "leaker@gmail.com", "gmail.com", True),
    ("address-case", "LEAKER@gmail.com", "gmail.com", True),
    ("other-gmail", "friend@gmail.com", "gmail.com", False),
    ("at-prefixed-domain", "x@spam.example", "spam.example", True),
    ("at-prefixed-domain-not-sub", "x@a.spam.example", "a.spam.example", False),
    ("star-prefixed-domain", "x@www.bad.jp", "www.bad.jp", True),
    ("star-excludes-parent", "x@bad.jp", "bad.jp", False),
    ("idn-address", "ex@xn--wgv71a119e.jp", "xn--wgv71a119e.jp", True),
    ("unlisted", "x@corp.co.jp", "corp.co.jp", False),
]


@pytest.mark.parametrize(("address", "domain", "blocked"), [c[1:] for c in BLOCKED],
                         ids=[c[0] for c in BLOCKED])
def test_is_blocked(classifier: DomainClassifier, address: str, domain: str,
                    blocked: bool) -> None:
    assert classifier.is_blocked(address, domain) is blocked


def test_blocked_entry_that_is_no_domain_is_an_error() -> None:
    from service.policy.patterns import PatternError

    with pytest.raises(PatternError, match="intranet_host"):
        DomainClassifier(internal=[], blocked=["intranet_host"])


LOOKALIKE = [
    ("brand-plus-word", "corp-co.co.jp", "corp.co.jp"),
    ("brand-plus-other-word", "corp-cafe.co.jp", None),
    ("transposition", "copr.co.jp", "corp.co.jp"),
    ("other-suffix-of-trusted", "partner.com", "partner.co.jp"),
    ("embedded", "corp.co.jp.evil.com", "corp.co.jp"),
    ("internal-itself", "corp.co.jp", None),
    ("internal-sub", "a.corp.co.jp", None),
    ("trusted-itself", "partner.co.jp", None),
    ("unrelated", "gmail.com", None),
    ("homoglyph-idn", "xn--crp-sed.co.jp", "corp.co.jp"),   # cоrp with Cyrillic о
]


@pytest.mark.parametrize(("domain", "expected"), [c[1:] for c in LOOKALIKE],
                         ids=[c[0] for c in LOOKALIKE])
def test_classifier_lookalike(classifier: DomainClassifier, domain: str,
                              expected: str | None) -> None:
    assert classifier.lookalike(domain) == expected
    assert classifier.lookalike(domain) == expected       # cached answer is the same


def test_classifier_without_references_never_flags() -> None:
    c = DomainClassifier(internal=[])
    assert c.lookalike("corp.co.jp.evil.com") is None
    assert not c.is_internal("corp.co.jp")
    assert not c.is_blocked("a@b.jp", "b.jp")


@pytest.mark.parametrize("domain", [
    "orange.fr", "libero.it", "hotmail.com.br", "comcast.net", "sfr.fr", "ktv.ne.jp",
    "kcn.ne.jp", "tiki.ne.jp", "coara.or.jp", "fastmail.jp"])
def test_free_mail_abroad_and_regional_japanese_isps_are_personal(domain: str) -> None:
    assert DomainClassifier(internal=[]).is_personal(domain)


@pytest.mark.parametrize("domain", ["orange.com", "toyota.co.jp", "ktv.jp"])
def test_company_domains_are_not_personal(domain: str) -> None:
    assert not DomainClassifier(internal=[]).is_personal(domain)
