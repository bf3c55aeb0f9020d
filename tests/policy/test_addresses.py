"""Recipient entries: one valid address, or a named problem (SPEC section 2 invalid_address)."""

from __future__ import annotations

import time
from email import policy
from email.parser import HeaderParser

import pytest
from email_validator import EmailNotValidError, validate_email

from service.policy.addresses import (
    PROBLEMS,
    Entry,
    found_addresses,
    parse_entry,
    parse_field,
    split_header,
)

VALID = [
    # id, raw, address, display name, domain
    ("plain", "sato@a.co.jp", "sato@a.co.jp", "", "a.co.jp"),
    ("upper-case", "SATO@A.CO.JP", "sato@a.co.jp", "", "a.co.jp"),
    ("blanks-around", "  sato@a.co.jp\t", "sato@a.co.jp", "", "a.co.jp"),
    ("ideographic-blank-around", "\u3000sato@a.co.jp\u3000", "sato@a.co.jp", "", "a.co.jp"),
    ("quoted-japanese-name", '"佐藤 太郎" <sato@a.co.jp>', "sato@a.co.jp", "佐藤 太郎",
     "a.co.jp"),
    ("unquoted-japanese-name", "佐藤 <sato@a.co.jp>", "sato@a.co.jp", "佐藤", "a.co.jp"),
    ("name-with-fullwidth-space", "佐藤\u3000太郎 <sato@a.co.jp>", "sato@a.co.jp",
     "佐藤\u3000太郎", "a.co.jp"),
    ("encoded-word-b", "=?UTF-8?B?5L2Q6Jek?= <sato@a.co.jp>", "sato@a.co.jp", "佐藤",
     "a.co.jp"),
    ("encoded-word-q", "=?utf-8?q?Sato_Taro?= <sato@a.co.jp>", "sato@a.co.jp", "Sato Taro",
     "a.co.jp"),
    ("encoded-word-iso2022jp", "=?ISO-2022-JP?B?GyRCOjRGIxsoQg==?= <sato@a.co.jp>",
     "sato@a.co.jp", "佐藤", "a.co.jp"),
    ("name-with-comma-quoted", '"Sato, Taro" <sato@a.co.jp>', "sato@a.co.jp", "Sato, Taro",
     "a.co.jp"),
    ("name-with-escaped-quote", r'"Sato \"T\"" <sato@a.co.jp>', "sato@a.co.jp", 'Sato "T"',
     "a.co.jp"),
    ("name-with-comment", "Sato (Sales) <sato@a.co.jp>", "sato@a.co.jp", "Sato (Sales)",
     "a.co.jp"),
    ("old-style-comment-name", "sato@a.co.jp (Sato Taro)", "sato@a.co.jp", "Sato Taro",
     "a.co.jp"),
    ("address-as-own-name", "sato@a.co.jp <sato@a.co.jp>", "sato@a.co.jp", "sato@a.co.jp",
     "a.co.jp"),
    ("quoted-address-name", '"suzuki@b.jp" <sato@a.co.jp>', "sato@a.co.jp", "suzuki@b.jp",
     "a.co.jp"),
    ("name-with-at-not-an-address", "山田@営業部 <yamada@a.co.jp>", "yamada@a.co.jp",
     "山田@営業部", "a.co.jp"),
    ("quoted-japanese-name-with-at", '"山田@営業部" <yamada@a.co.jp>', "yamada@a.co.jp",
     "山田@営業部", "a.co.jp"),
    ("angle-only", "<sato@a.co.jp>", "sato@a.co.jp", "", "a.co.jp"),
    ("no-space-before-angle", "Sato<sato@a.co.jp>", "sato@a.co.jp", "Sato", "a.co.jp"),
    ("idn-domain", "user@日本語.jp", "user@xn--wgv71a119e.jp", "", "xn--wgv71a119e.jp"),
    ("idn-domain-ascii", "user@XN--WGV71A119E.JP", "user@xn--wgv71a119e.jp", "",
     "xn--wgv71a119e.jp"),
    ("idn-named", "山田 <yamada@例え.テスト.jp>", "yamada@xn--r8jz45g.xn--zckzah.jp", "山田",
     "xn--r8jz45g.xn--zckzah.jp"),
    ("fullwidth-domain-letters", "sato@ａ.co.jp", "sato@a.co.jp", "", "a.co.jp"),
    ("plus-and-dots", "first.last+tag@mail.example.com", "first.last+tag@mail.example.com",
     "", "mail.example.com"),
    ("quoted-local", '"a b"@x.jp', '"a b"@x.jp', "", "x.jp"),
    ("unicode-local", "佐藤@a.co.jp", "佐藤@a.co.jp", "", "a.co.jp"),
    ("max-local-64", "a" * 64 + "@x.jp", "a" * 64 + "@x.jp", "", "x.jp"),
    ("label-63", "a@" + "b" * 63 + ".jp", "a@" + "b" * 63 + ".jp", "", "b" * 63 + ".jp"),
]


@pytest.mark.parametrize(("raw", "address", "name", "domain"),
                         [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_entries(raw: str, address: str, name: str, domain: str) -> None:
    e = parse_entry(raw, "cc")
    assert e.problem is None, e
    assert e.valid
    assert e.address == address
    assert e.display_name == name
    assert e.domain == domain
    assert e.field == "cc"
    assert e.raw == raw
    assert e.found == (address,)
    assert e.addresses == (address,)


INVALID = [
    # id, raw, problem, found
    ("missing-comma", "sato@a.co.jp suzuki@a.co.jp", "missing_separator",
     ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("missing-comma-ideographic-space", "sato@a.co.jp\u3000suzuki@a.co.jp",
     "missing_separator", ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("missing-comma-tab", "sato@a.co.jp\tsuzuki@a.co.jp", "missing_separator",
     ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("missing-comma-named", "Sato <sato@a.co.jp> Suzuki <suzuki@a.co.jp>",
     "missing_separator", ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("missing-comma-glued", "sato@a.co.jpsuzuki@a.co.jp", "missing_separator",
     ("sato@a.co.jpsuzuki@a.co.jp",)),
    ("missing-comma-ideographic-comma", "sato@a.co.jp、suzuki@a.co.jp", "missing_separator",
     ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("missing-comma-fullwidth-comma", "sato@a.co.jp，suzuki@a.co.jp", "missing_separator",
     ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("other-address-as-name", "suzuki@b.jp <sato@a.co.jp>", "name_is_address",
     ("suzuki@b.jp", "sato@a.co.jp")),
    ("other-address-as-name-no-space", "suzuki@b.jp<sato@a.co.jp>", "name_is_address",
     ("suzuki@b.jp", "sato@a.co.jp")),
    ("address-after-angle", "<sato@a.co.jp> suzuki@b.jp", "missing_separator",
     ("sato@a.co.jp", "suzuki@b.jp")),
    ("newline-lf", "sato@a.co.jp\nsuzuki@a.co.jp", "newline",
     ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("newline-crlf", "sato@a.co.jp\r\nsuzuki@a.co.jp", "newline",
     ("sato@a.co.jp", "suzuki@a.co.jp")),
    ("newline-cr", "sato@a.co.jp\rBcc: x@evil.com", "newline",
     ("sato@a.co.jp", "x@evil.com")),
    ("newline-trailing", "sato@a.co.jp\n", "newline", ("sato@a.co.jp",)),
    ("newline-in-name", '"Sato\nTaro" <sato@a.co.jp>', "newline", ("sato@a.co.jp",)),
    ("newline-only", "\n", "newline", ()),
    ("fullwidth-at", "jouhou＠jipdec.or.jp", "fullwidth_at", ("jouhou＠jipdec.or.jp",)),
    ("fullwidth-at-named", "情報 <jouhou＠jipdec.or.jp>", "fullwidth_at",
     ("jouhou＠jipdec.or.jp",)),
    ("small-commercial-at", "jouhou﹫jipdec.or.jp", "fullwidth_at", ("jouhou﹫jipdec.or.jp",)),
    ("no-domain-at", "taro@", "no_domain", ("taro@",)),
    ("no-domain-bare", "taro", "no_domain", ()),
    ("no-domain-angle", "Taro <taro@>", "no_domain", ("taro@",)),
    ("no-domain-quoted-name", '"Sato Taro"', "no_domain", ()),
    ("bad-punycode", "a@xn--zz.com", "invalid_domain", ("a@xn--zz.com",)),
    ("edge-hyphens", "a@-bad-.jp", "invalid_domain", ("a@-bad-.jp",)),
    ("space-in-domain", "a@exa mple.com", "invalid_domain", ("a@exa",)),
    ("label-64", "a@" + "b" * 64 + ".com", "invalid_domain", ("a@" + "b" * 64 + ".com",)),
    ("underscore", "a@a_b.com", "invalid_domain", ("a@a_b.com",)),
    ("no-dot", "a@localhost", "invalid_domain", ("a@localhost",)),
    ("special-use", "a@pc.local", "invalid_domain", ("a@pc.local",)),
    ("numeric-tld", "a@1.2.3.4", "invalid_domain", ("a@1.2.3.4",)),
    ("domain-literal", "a@[192.0.2.1]", "invalid_domain", ("a@",)),
    ("trailing-dot", "a@b.jp.", "invalid_domain", ("a@b.jp",)),
    ("double-dot-domain", "a@b..jp", "invalid_domain", ("a@b..jp",)),
    ("fullwidth-angle", "佐藤＜sato@a.co.jp＞", "invalid_domain", ("sato@a.co.jp",)),
    ("empty-local", "@a.co.jp", "syntax", ("@a.co.jp",)),
    ("double-at", "a@@b.jp", "syntax", ("a@@b.jp",)),
    ("double-dot-local", "a..b@x.jp", "syntax", ("a..b@x.jp",)),
    ("fullwidth-local", "ｓａｔｏ@a.co.jp", "syntax", ("ｓａｔｏ@a.co.jp",)),
    ("local-65", "a" * 65 + "@x.jp", "syntax", ("a" * 65 + "@x.jp",)),
    ("mailto", "mailto:a@b.jp", "syntax", ("a@b.jp",)),
    ("unclosed-angle", "<a@b.jp", "syntax", ("a@b.jp",)),
    ("unclosed-quote", '"Sato <a@b.jp>', "syntax", ("a@b.jp",)),
    ("unclosed-comment", "a@b.jp (Sato", "syntax", ("a@b.jp",)),
    ("stray-bracket", "a@b.jp>", "syntax", ("a@b.jp",)),
    ("words-and-address", "Sato Taro sato@a.co.jp", "syntax", ("sato@a.co.jp",)),
    ("space-before-at", "sato @a.co.jp", "syntax", ("@a.co.jp",)),
    ("apostrophe-kept-in-found", "o'brien@x.jp suzuki@a.co.jp", "missing_separator",
     ("o'brien@x.jp", "suzuki@a.co.jp")),
    ("control-nul", "a\x00b@x.jp", "syntax", ("a\x00b@x.jp",)),
    ("control-bell", "Sato\x07 <a@x.jp>", "syntax", ("a@x.jp",)),
    ("zero-width-space-local", "a\u200bb@x.jp", "syntax", ("a\u200bb@x.jp",)),
    ("zero-width-in-domain", "a@ex\u200bample.com", "invalid_domain",
     ("a@ex\u200bample.com",)),
    ("two-angles-one-address", "<a@b.jp> <c>", "syntax", ("a@b.jp",)),
    ("separator-inside", "a@b.jp, c@d.jp", "missing_separator", ("a@b.jp", "c@d.jp")),
    ("empty", "", "empty", ()),
    ("blanks", "   \t ", "empty", ()),
    ("ideographic-blanks", "\u3000\u3000", "empty", ()),
    ("null-address", "<>", "empty", ()),
    ("named-null-address", "Sato <>", "empty", ()),
    ("emoji", "🙂", "no_domain", ()),
    ("rtl-override", "\u202eaaa@b.jp", "syntax", ("\u202eaaa@b.jp",)),
]


@pytest.mark.parametrize(("raw", "problem", "found"),
                         [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_entries(raw: str, problem: str, found: tuple[str, ...]) -> None:
    e = parse_entry(raw, "bcc")
    assert e.problem == problem, e
    assert problem in PROBLEMS
    assert not e.valid
    assert e.address is None and e.domain is None
    assert e.raw == raw and e.field == "bcc"
    assert e.found == found
    assert e.addresses == found


def test_stdlib_accepts_what_we_reject() -> None:
    """The reason this module exists: policy.default swallows a missing comma."""
    msg = HeaderParser(policy=policy.default).parsestr("To: sato@a.co.jp suzuki@a.co.jp\n\n")
    header = msg["to"]
    assert len(header.addresses) == 1 and header.defects   # one address plus defects
    assert str(header) == "sato@a.co.jp"                    # ...and suzuki is gone
    raw = dict(msg.raw_items())["To"]                       # so we read the raw value
    assert parse_field([raw], "to")[0].problem == "missing_separator"


NASTY = [
    ("huge-garbage", "x" * 100_000),
    ("huge-addresses-no-commas", "a@b.jp " * 20_000),
    ("huge-one-address", "a" * 50_000 + "@" + "b" * 50_000 + ".jp"),
    ("huge-quote", '"' + "q" * 100_000),
    ("huge-nested-comments", "(" * 50_000 + "a@b.jp"),
    ("huge-angles", "<" * 100_000),
    ("all-controls", "".join(chr(c) for c in range(32)) + "\x7f"),
    ("only-at", "@"),
    ("only-fullwidth-at", "＠"),
    ("only-dots", "..."),
    ("lone-surrogate", "a\ud800@b.jp"),
    ("combining-marks", "a\u0301\u0301@b.jp"),
    ("private-use", "\ue000@\ue001.jp"),
    ("backslash-end", 'a@b.jp "\\'),
    ("colons", ":::"),
    ("semicolons-only", ";;;"),
    ("bidi-name", "\u202egpj.exe\u202c <a@b.jp>"),
    ("unclosed-angle-many-commas", "<" + "a," * 50_000),
    ("unclosed-quote-many-commas", '"' + "a," * 50_000),
    ("unclosed-comment-many-commas", "(" + "a," * 50_000),
    ("many-colons", "a:" * 50_000 + ";"),
    ("many-angles-and-commas", "<" * 50_000 + "," + ">" * 50_000),
    ("many-backslashes", "\\" * 100_000 + ","),
]


@pytest.mark.parametrize("raw", [c[1] for c in NASTY], ids=[c[0] for c in NASTY])
def test_nasty_input_never_raises(raw: str) -> None:
    # CPU seconds bound the work: a loaded machine (two test workers on two cores, other
    # jobs) stretches wall time, not CPU time (as tests/policy/test_hostile.py measures).
    start = time.process_time()
    e = parse_entry(raw, "to")
    assert isinstance(e, Entry)
    assert e.problem in (*PROBLEMS, None)
    assert (e.problem is None) == (e.address is not None)
    entries = parse_field([raw], "to")
    assert all(isinstance(x, Entry) for x in entries)
    assert time.process_time() - start < 2.0


def test_huge_pasted_list_names_every_address() -> None:
    raw = "\n".join(f"member{i}@example.jp" for i in range(2000))
    e = parse_entry(raw, "bcc")
    assert e.problem == "newline"
    assert len(e.found) == 2000 and e.found[0] == "member0@example.jp"


def test_non_string_input_is_an_entry() -> None:
    e = parse_entry(None, "to")  # type: ignore[arg-type]
    assert e.problem == "empty"


SPLIT = [
    ("single", "a@b.jp", ["a@b.jp"]),
    ("commas", "a@b.jp, c@d.jp,e@f.jp", ["a@b.jp", "c@d.jp", "e@f.jp"]),
    ("semicolons", "a@b.jp; c@d.jp", ["a@b.jp", "c@d.jp"]),
    ("trailing-and-empty", "a@b.jp,, ,\t,", ["a@b.jp"]),
    ("comma-in-quotes", '"Sato, Taro" <s@a.jp>, x@y.jp', ['"Sato, Taro" <s@a.jp>', "x@y.jp"]),
    ("escaped-quote", r'"a \", b" <s@a.jp>, x@y.jp', [r'"a \", b" <s@a.jp>', "x@y.jp"]),
    ("comma-in-comment", "a@b.jp (Sato, Taro), c@d.jp", ["a@b.jp (Sato, Taro)", "c@d.jp"]),
    ("nested-comment", "a@b.jp (x (y, z)), c@d.jp", ["a@b.jp (x (y, z))", "c@d.jp"]),
    ("comma-in-angle", "<a,b@c.jp>, d@e.jp", ["<a,b@c.jp>", "d@e.jp"]),
    ("group-empty", "undisclosed-recipients:;", []),
    ("group-members", "Team: a@b.jp, c@d.jp;, z@z.jp", ["a@b.jp", "c@d.jp", "z@z.jp"]),
    ("japanese-group", "関係者各位: a@b.jp;", ["a@b.jp"]),
    ("not-a-group", "mailto:a@b.jp", ["mailto:a@b.jp"]),
    ("unclosed-group", "Team: a@b.jp, c@d.jp", ["Team: a@b.jp", "c@d.jp"]),
    ("colon-after-address", "a@b.jp: c@d.jp;", ["a@b.jp: c@d.jp"]),
    ("folded-crlf", "a@b.jp,\r\n c@d.jp", ["a@b.jp", "c@d.jp"]),
    ("folded-lf-tab", "a@b.jp,\n\tc@d.jp", ["a@b.jp", "c@d.jp"]),
    ("newline-kept", "a@b.jp,\nc@d.jp", ["a@b.jp", "\nc@d.jp"]),
    ("newline-no-comma", "a@b.jp\nc@d.jp", ["a@b.jp\nc@d.jp"]),
    ("lone-newline-kept", "a@b.jp,\n", ["a@b.jp", "\n"]),
    ("missing-comma-kept", "a@b.jp c@d.jp, e@f.jp", ["a@b.jp c@d.jp", "e@f.jp"]),
    ("unclosed-quote-swallows", '"a, b@c.jp, d@e.jp', ['"a, b@c.jp, d@e.jp']),
    ("empty", "", []),
    ("blank", "  ", []),
]


@pytest.mark.parametrize(("value", "pieces"), [c[1:] for c in SPLIT], ids=[c[0] for c in SPLIT])
def test_split_header(value: str, pieces: list[str]) -> None:
    assert split_header(value) == pieces


@pytest.mark.parametrize("value", [c[1] for c in SPLIT] + [
    '"a" <b@c.jp>, (x) d@e.jp; "f, g" <h@i.jp>', '"x\\"y" <a@b.jp>,c@d.jp', "(a)(b) c@d.jp, e",
    '<a@b.jp>, "<>", (,)', '"a"b"c", d',
], ids=[c[0] for c in SPLIT] + ["mixed", "escape", "comments", "specials", "odd-quotes"])
def test_regex_splitter_agrees_with_token_scanner(value: str) -> None:
    from service.policy import addresses

    fast = addresses._split_quoted(value)
    if fast is not None:
        keep = addresses._keep
        assert [keep(p) for p in fast if keep(p) is not None] == \
            [keep(p) for p in addresses._split_slow(value) if keep(p) is not None]


def test_parse_field_mixes_values_and_keeps_field() -> None:
    entries = parse_field(["佐藤 <sato@a.co.jp>, suzuki@b.jp", "taro", "x@y.jp z@w.jp"],
                          "cc")
    assert [(e.address, e.problem) for e in entries] == [
        ("sato@a.co.jp", None), ("suzuki@b.jp", None), (None, "no_domain"),
        (None, "missing_separator")]
    assert {e.field for e in entries} == {"cc"}


def test_parse_field_skips_values_that_are_not_text() -> None:
    entries = parse_field([None, 5, "a@b.jp"], "to")  # type: ignore[list-item]
    assert [e.address for e in entries] == ["a@b.jp"]


# A circular: long enough for the batch path's collector pause (addresses._PAUSE_GC_FROM),
# every shape of the fast path and its fall-backs, domains repeated in other spellings.
CIRCULAR = [v for i in range(300) for v in (
    f"m{i}@Corp{i % 7}.CO.JP", f'"会員 {i}" <m{i}@corp{i % 7}.co.jp>', f"会員{i} <m{i}@日本語.jp>",
    f"m{i}@corp{i % 7}.co.jp.", f"taro{i}", f"m{i}@a.jp m{i}@b.jp")]


@pytest.mark.parametrize("collecting", [True, False], ids=["gc-on", "gc-off"])
def test_long_field_parses_like_each_entry_and_leaves_the_collector(collecting: bool) -> None:
    import gc

    from service.policy import addresses

    assert len(CIRCULAR) >= addresses._PAUSE_GC_FROM
    was = gc.isenabled()
    try:
        if collecting:
            gc.enable()
        else:
            gc.disable()
        entries = parse_field(CIRCULAR, "to")
        assert gc.isenabled() is collecting
    finally:
        if was:
            gc.enable()
    assert entries == [parse_entry(v, "to") for v in CIRCULAR]
    problems = {e.problem for e in entries}
    assert problems == {None, "invalid_domain", "no_domain", "missing_separator"}
    assert entries[0].address == "m0@corp0.co.jp" and entries[2].domain == "xn--wgv71a119e.jp"


def test_found_addresses_normalises_and_dedupes() -> None:
    assert found_addresses("A@日本語.JP a@xn--wgv71a119e.jp, <b@c.jp>") == (
        "a@xn--wgv71a119e.jp", "b@c.jp")


# The fast path must never accept what the full path (email-validator) rejects.
FAST_CORPUS = [
    "a@b.jp", "a.b@c.jp", "a+b@c.co.jp", "a!#$%&'*+/=?^_`{|}~-@x.jp", "a@b-c.jp",
    "a@1.jp", "a@b.c1", "a@b.x-y", "a@b.c", "Name <a@b.jp>", '"N" <a@b.jp>', "a@xn--zz.jp",
    "a@ab--c.jp", "a@b.test", "a@b.onion", "x" * 64 + "@a.jp", "x" * 65 + "@a.jp",
    "a@" + ".".join(["b" * 63] * 3) + ".jp", "a@" + ".".join(["b" * 63] * 4) + ".jp",
    "a@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "." + "e" * 60 + ".jp",
    "a@-b.jp", "a@b-.jp", "a@b.-jp", "a@b.jp-", "a@.jp", "a@b..jp",
]


@pytest.mark.parametrize("raw", FAST_CORPUS)
def test_fast_path_agrees_with_email_validator(raw: str) -> None:
    spec = raw.rsplit("<", 1)[-1].rstrip(">")
    try:
        expected: str | None = validate_email(spec, check_deliverability=False,
                                              strict=True).normalized
    except EmailNotValidError:
        expected = None
    got = parse_entry(raw).address
    assert got == (expected.lower() if expected else None)


# --- header values from real messages: names come from the structure, never re-read ---

def _b(text: str, charset: str) -> str:
    import base64

    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def _q(text: str, charset: str) -> str:
    import quopri

    return f"=?{charset}?Q?{quopri.encodestring(text.encode(charset), header=True).decode()}?="


def _jis(text: str) -> bytes:
    return text.encode("iso2022_jp")


HEADERS = [
    # id, raw To header bytes, expected (display name, address) per entry
    ("encoded-iso2022jp-name-with-at", f"{_b('山田@営業部', 'ISO-2022-JP')} "
     "<yamada@partner-corp.co.jp>".encode(), [("山田@営業部", "yamada@partner-corp.co.jp")]),
    ("encoded-utf8-name-with-comma", f"{_b('山田, 太郎', 'UTF-8')} <a@b.jp>, c@d.jp".encode(),
     [("山田, 太郎", "a@b.jp"), ("", "c@d.jp")]),
    ("encoded-q-name-with-semicolon", f"{_q('営業部; 山田', 'UTF-8')} <a@b.jp>".encode(),
     [("営業部; 山田", "a@b.jp")]),
    ("encoded-name-with-quote", (_b('山田 "課長"', "UTF-8") + " <a@b.jp>").encode(),
     [('山田 "課長"', "a@b.jp")]),
    ("encoded-name-mixed-with-text", f"{_b('山田', 'ISO-2022-JP')} Taro <a@b.jp>".encode(),
     [("山田 Taro", "a@b.jp")]),
    # 山 is ";3" and 田 "ED" in ISO-2022-JP: the raw bytes hold a semicolon
    ("raw-iso2022jp-name-semicolon", _jis("山田 <a@b.jp>, 佐藤 <s@b.jp>"),
     [("山田", "a@b.jp"), ("佐藤", "s@b.jp")]),
    ("raw-iso2022jp-quoted-comma", _jis('"山田，太郎" <a@b.jp>'), [("山田，太郎", "a@b.jp")]),
    ("raw-iso2022jp-name-at", _jis("山田＠営業部 <a@b.jp>"), [("山田＠営業部", "a@b.jp")]),
    ("raw-utf8-quoted-comma-semicolon", '"山田, 太郎; 営業" <a@b.jp>, 佐藤 <s@b.jp>'.encode(),
     [("山田, 太郎; 営業", "a@b.jp"), ("佐藤", "s@b.jp")]),
    ("raw-shift-jis-name", "山田 <a@b.jp>".encode("cp932"), [("山田", "a@b.jp")]),
    ("raw-utf8-idn-homoglyph", "joho@jіpdec.or.jp".encode(), [("", "joho@xn--jpdec-n2e.or.jp")]),
    ("encoded-whole-address", _b("jouhou@jipdec.or.jp", "UTF-8").encode(),
     [("", "jouhou@jipdec.or.jp")]),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in HEADERS],
                         ids=[c[0] for c in HEADERS])
def test_header_names_are_parsed_from_structure(raw: bytes, expected: list[tuple[str, str]]
                                                ) -> None:
    from service.policy.mimeparse import draft_from_bytes

    msg = b"From: me@example.co.jp\r\nTo: " + raw + b"\r\nSubject: x\r\n\r\nbody\r\n"
    draft = draft_from_bytes(msg)
    entries = parse_field(draft.to, "to")
    assert [(e.display_name, e.address) for e in entries] == expected, entries
    assert all(e.problem is None for e in entries)


HEADER_PROBLEMS = [
    # the close cases: real missing commas and other-address names stay refused
    ("encoded-whole-fullwidth-at", _b("jouhou＠jipdec.or.jp", "UTF-8").encode(), "fullwidth_at"),
    ("real-missing-comma", b"a@b.jp c@d.jp", "missing_separator"),
    ("raw-name-is-other-address", b"suzuki@b.jp <sato@a.co.jp>", "name_is_address"),
    ("encoded-address-in-angle", f"Taro <{_b('a＠b.jp', 'UTF-8')}>".encode(),
     "fullwidth_at"),
]


@pytest.mark.parametrize(("raw", "problem"), [c[1:] for c in HEADER_PROBLEMS],
                         ids=[c[0] for c in HEADER_PROBLEMS])
def test_header_problems_stay_problems(raw: bytes, problem: str) -> None:
    from service.policy.mimeparse import draft_from_bytes

    msg = b"From: me@example.co.jp\r\nTo: " + raw + b"\r\nSubject: x\r\n\r\nbody\r\n"
    entries = parse_field(draft_from_bytes(msg).to, "to")
    assert [e.problem for e in entries] == [problem]


def test_name_is_address_reason_says_what_it_is() -> None:
    from service.policy import Draft, analyze
    from service.policy.policyfile import Policy

    report = analyze(Draft(to=("suzuki@b.jp <sato@a.co.jp>",)), Policy(), locale="en")
    f = next(f for f in report.findings if f.code == "invalid_address")
    assert "comma" not in f.message
    assert "suzuki@b.jp" in f.message and "sato@a.co.jp" in f.message


# What each message of CPython's own e-mail test corpus (Lib/test/test_email/data, written
# by the stdlib's authors, not us) should give: the entries we refuse, and why.
CORPUS_PROBLEMS = {
    ("msg_05.txt", "baz"): "no_domain",
    ("msg_15.txt", "XX"): "no_domain",
    ("msg_26.txt", "timbo@jeeves.wooster.local"): "invalid_domain",
}


def test_cpython_email_corpus_addresses_agree_with_the_stdlib() -> None:
    """Every address we accept is one the stdlib's parser finds too; every refusal is
    one we expect. Nothing raises."""
    import sysconfig
    from email import message_from_bytes
    from email import policy as email_policy
    from email.utils import getaddresses
    from pathlib import Path

    from service.errors import MessageError
    from service.policy.mimeparse import draft_from_bytes
    from tests.support.parts import unavailable

    corpus = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
    files = sorted(corpus.glob("msg_*.txt"))
    if len(files) < 40:
        unavailable(f"CPython's e-mail test corpus ({corpus})")
    refused: dict[tuple[str, str], str] = {}
    accepted = 0
    for path in files:
        raw = path.read_bytes()
        try:
            draft = draft_from_bytes(raw)
        except MessageError:
            continue
        msg = message_from_bytes(raw, policy=email_policy.compat32)
        for name in ("to", "cc"):
            std = {a.lower() for _, a in getaddresses(msg.get_all(name, [])) if a}
            for e in parse_field(draft.entries(name), name):
                if e.address is None:
                    refused[(path.name, e.raw)] = e.problem or ""
                else:
                    accepted += 1
                    assert e.address in std, (path.name, e)
    assert accepted >= 30
    assert refused == CORPUS_PROBLEMS
