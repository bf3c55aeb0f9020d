"""Recipient entries as typed: split them, and judge each as exactly one address or not.

The stdlib is lenient on purpose: ``email.policy.default`` turns
``sato@a.co.jp suzuki@a.co.jp`` into one address plus defects, and a newline pasted
into Bcc into something else again. Those are exactly the entries that leak mail
(SPEC section 2 ``invalid_address``), so every entry is judged here and anything that
is not one clean address gets a ``problem``:

    newline            a CR or LF inside the entry (header injection, the Bcc incident)
    empty              nothing but blanks, ``<>``
    missing_separator  two or more addresses with no comma between them
    name_is_address    an unquoted display name that is itself another valid address
                       (``suzuki@b.jp <sato@a.co.jp>``): the reader sees one address, the
                       mail goes to the other
    fullwidth_at       ``＠`` (U+FF20) or ``﹫`` (U+FE6B) instead of ``@``
    no_domain          ``taro``, ``taro@``
    invalid_domain     a domain that cannot exist (bad IDN, ``-x-``, spaces, ``_``, …)
    syntax             anything else that is not exactly one valid address

Valid addresses are checked by email-validator (no DNS) with IDNA/UTS-46 domains. A
strict precompiled pattern accepts the common shapes (``local@domain``,
``Name <local@domain>``, ``"Name" <local@domain>``) without that cost; it accepts a
subset of what email-validator accepts (tested), and everything else takes the full
path. Domains are validated once each (``domains.normalize_domain`` is cached).
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from functools import lru_cache
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email

from service.policy.charsets import WORD, decode_words
from service.policy.domains import normalize_domain

PROBLEMS = ("empty", "missing_separator", "name_is_address", "newline", "fullwidth_at",
            "no_domain", "invalid_domain", "syntax")

# Characters that stand in for "@" when typed with a Japanese IME or pasted from a page.
FULLWIDTH_ATS = "\uff20\ufe6b"
_ATS = "@" + FULLWIDTH_ATS
_BLANKS = " \t\u3000"
_LONG = 4096          # an entry longer than this is never one address: judge it cheaply
_LOCAL_MAX = 64
_ADDRESS_MAX = 254


class Entry(NamedTuple):
    """One recipient entry. A named tuple, not a dataclass: a 10,000-recipient draft
    builds 10,000 of them and a frozen dataclass costs four times as much to make."""

    raw: str                 # exactly as typed / as found in the header (unfolded)
    field: str               # "to" | "cc" | "bcc"
    address: str | None      # lower-cased addr-spec, ASCII (IDNA) domain; None when invalid
    display_name: str        # decoded (RFC 2047 encoded words decoded)
    domain: str | None       # ASCII lower-case domain of ``address``
    problem: str | None      # None when valid, else one of PROBLEMS
    found: tuple[str, ...]   # lower-cased address-like tokens seen in raw

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def addresses(self) -> tuple[str, ...]:
        """What a finding should name: the address, else whatever looked like one."""
        return (self.address,) if self.address else self.found


# --- the fast path -----------------------------------------------------------------

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_DOMCHARS = r"[^\s\"<>()\[\]@,;:\\\x00-\x1f\x7f\uff20\ufe6b]+"
_FAST_MAX = 512
# The two common shapes, told apart by the last character: ``local@domain`` (a domain
# never holds ">") and ``name <local@domain>``.
_PLAIN = re.compile(rf"({_LOCAL})@({_DOMCHARS})")
_NAMED = re.compile(
    r'(?:"([^"\\\x00-\x1f\x7f]*)"|([^"<>@,;:()\\\[\]\x00-\x1f\x7f\uff20\ufe6b]*))'
    rf"[ \t]*<({_LOCAL})@({_DOMCHARS})>"
)
_new_entry = tuple.__new__


def parse_entry(raw: str, field: str = "to") -> Entry:
    """Judge one entry; never raises, whatever the input."""
    if raw.__class__ is not str:
        raw = "" if raw is None else str(raw)
    return _parse_all([raw], field)[0]


def _parse_all(pieces: list[str], field: str) -> list[Entry]:
    """``parse_entry`` of each piece.

    A 10,000-recipient circular spends most of its check here: the fast path is written
    inline (a call per entry was a fifth of the time), the domains of this call are
    remembered in a dict, and for a long list the cyclic collector is paused: the loop
    makes two tuples of strings per entry and no cycle, yet their count set off ~30
    collections per check, three of them walking every object of the process (~10 ms of
    ~60, issue 12). Paused only if it was running, so an enclosing pause (protect) or a
    concurrent one stays as it was.
    """
    if len(pieces) >= _PAUSE_GC_FROM and gc.isenabled():
        gc.disable()
        try:
            return _parse_pieces(pieces, field)
        finally:
            gc.enable()
    return _parse_pieces(pieces, field)


_PAUSE_GC_FROM = 1000


def _parse_pieces(pieces: list[str], field: str) -> list[Entry]:
    out: list[Entry] = []
    append = out.append
    plain, named = _PLAIN.fullmatch, _NAMED.fullmatch
    domains: dict[str, str | None] = {}
    new = _new_entry
    for raw in pieces:
        s = raw.strip(_BLANKS)
        if s and len(s) <= _FAST_MAX:
            m = named(s) if s[-1] == ">" else plain(s)
            if m is not None:
                if m.re is _PLAIN:
                    local, dom_raw = m.groups()
                    name = ""
                else:
                    quoted, name, local, dom_raw = m.groups()
                    if quoted is not None:
                        name = quoted
                    if "=?" in name or "  " in name or "\t" in name:
                        name = _display(name)
                    else:
                        name = name.strip(" ")
                if dom_raw[-1] != ".":
                    try:
                        dom = domains[dom_raw]
                    except KeyError:
                        dom = domains[dom_raw] = normalize_domain(dom_raw)
                    if dom is not None and len(local) <= _LOCAL_MAX and \
                            len(local) + len(dom) < _ADDRESS_MAX:
                        address = local.lower() + "@" + dom
                        append(new(Entry, (raw, field, address, name, dom, None,
                                           (address,))))
                        continue
        append(_parse_slow(raw, s, field))
    return out


# --- the full path -------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# ASCII delimiters plus the full-width / ideographic ones a Japanese IME produces.
_FOUND_SPLIT = re.compile(r"[\s<>()\[\],;:\"\uff0c\u3001\uff1b\uff1c\uff1e\uff08\uff09\uff1a]+")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_WS = re.compile(r"\s")
_FULLWIDTH_FORMS = re.compile(r"[\uff01-\uff5e\u3000]")
_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str    # q(uoted) c(omment) a(ngle) t(ext) s(eparator) k (colon)
    text: str    # content: unescaped for quoted strings, without delimiters
    raw: str
    closed: bool = True


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)("?)|<([^>]*)(>?)|([^"(<,;:]+)|([,;:])', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def _comment_end(s: str, i: int) -> tuple[int, bool]:
    """(index just past the comment opening at ``s[i]``, closed?); comments nest."""
    depth, j, n = 0, i, len(s)
    while j < n:
        ch = s[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1, True
        j += 1
    return n, False


def _scan(s: str) -> list[_Tok]:
    """Tokens of one entry, honouring quotes, (nested) comments and <angles>."""
    out: list[_Tok] = []
    i, n = 0, len(s)
    while i < n:
        if s[i] == "(":
            j, closed = _comment_end(s, i)
            body = s[i + 1:j - 1] if closed else s[i + 1:j]
            out.append(_Tok("c", _ESCAPE.sub(r"\1", body), s[i:j], closed))
            i = j
            continue
        m = _TOKEN.match(s, i)
        assert m is not None
        q, qclose, angle, aclose, text, sep = m.groups()
        if q is not None:
            out.append(_Tok("q", _ESCAPE.sub(r"\1", q) if "\\" in q else q, m.group(),
                            bool(qclose)))
        elif angle is not None:
            out.append(_Tok("a", angle, m.group(), bool(aclose)))
        elif text is not None:
            out.append(_Tok("t", text, text))
        else:
            out.append(_Tok("k" if sep == ":" else "s", sep, sep))
        i = m.end()
    return out


def found_addresses(text: str) -> tuple[str, ...]:
    """Address-like tokens in ``text``, lower-cased (domain IDNA-normalised when valid)."""
    return tuple(dict.fromkeys(_tokens(text)))


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for tok in _FOUND_SPLIT.split(text):
        if len(tok) < 2 or not any(a in tok for a in _ATS):
            continue
        tok = tok.strip(".").lower()
        local, at, dom = tok.rpartition("@")
        if at and local:
            nd = normalize_domain(dom) if dom else None
            if nd:
                tok = f"{local}@{nd}"
        if len(tok) >= 2:
            out.append(tok)
    return out


@lru_cache(maxsize=4096)
def _display(name: str) -> str:
    """Display name as a person reads it: blanks collapsed, RFC 2047 words decoded."""
    if "  " in name or "\t" in name:
        name = _SPACES.sub(" ", name)
    name = name.strip(" ")
    if "=?" in name:
        with contextlib.suppress(HeaderParseError, LookupError, UnicodeError, ValueError):
            name = str(make_header(decode_header(name)))
    return name


# One bare word without any @ (a name typed alone, a piece of a pasted list): no domain,
# without the full path's tokenising (50,000 of them in one pasted line must stay fast).
_BARE = re.compile(r'[^\s@\uff20\ufe6b<>()\[\]",;:\\\x00-\x1f\x7f-\x9f]+')


def _parse_slow(raw: str, s: str, field: str) -> Entry:
    if len(s) <= _LONG and _BARE.fullmatch(s) and raw.find("\n") < 0 and "\r" not in raw:
        return _new_entry(Entry, (raw, field, None, "", None, "no_domain", ()))
    tokens = _tokens(raw)
    found = tuple(dict.fromkeys(tokens))
    several = "missing_separator" if len(tokens) > 1 else "syntax"

    def bad(problem: str, name: str = "") -> Entry:
        return Entry(raw, field, None, name, None, problem, found)

    if "\r" in raw or "\n" in raw:
        return bad("newline")
    if not s:
        return bad("empty")
    if len(s) > _LONG or _CONTROL.search(s):
        return bad(several)

    toks = _scan(s)
    if any(t.kind == "s" for t in toks):
        return bad(several)
    angles = [t for t in toks if t.kind == "a"]
    if len(angles) > 1:
        with_at = sum(1 for t in angles if any(a in t.text for a in _ATS))
        return bad("missing_separator" if with_at > 1 else "syntax")
    if any(t.kind == "k" for t in toks) or any(not t.closed for t in toks):
        return bad(several)

    if angles:
        at = toks.index(angles[0])
        name_parts: list[str] = []
        for t in toks[:at]:
            name_parts.append(t.text if t.kind == "q" else t.raw)
        name = _display("".join(name_parts))
        after = "".join(t.raw for t in toks[at + 1:] if t.kind != "c").strip(_BLANKS)
        addr = angles[0].text.strip(_BLANKS)
        if after:
            extra = any(a in after for a in _ATS)
            return bad("missing_separator" if extra else "syntax", name)
        # An unquoted address as display name is common ("a@x <a@x>"); another one is not.
        unquoted = "".join(t.raw for t in toks[:at] if t.kind == "t")
        if ">" in unquoted or ")" in unquoted:
            return bad("syntax", name)
        # A display name is never an address: only an unquoted name that is itself a
        # valid, different address is refused ("suzuki@b.jp <sato@a.co.jp>": the reader
        # sees suzuki, the mail goes to sato). "山田@営業部 <yamada@x.jp>" is a name.
        named = [f for f in found_addresses(unquoted) if "@" in f]
        if named:
            problem, entry_addr, dom = _check_addr(addr)
            others = [f for f in named if f != entry_addr and _check_addr(f)[0] is None]
            if problem is None and others:
                return bad("name_is_address", name)
    else:
        comments = [t.text.strip() for t in toks if t.kind == "c"]
        name = _display(comments[0]) if comments else ""
        addr = "".join(t.raw for t in toks if t.kind != "c").strip(_BLANKS)
        if ">" in addr or ")" in addr:
            return bad(several, name)

    problem, address, dom = _check_addr(addr)
    if problem is not None:
        return bad(problem, name)
    assert address is not None
    return Entry(raw, field, address, name, dom, None, (address,))


def _check_addr(addr: str) -> tuple[str | None, str | None, str | None]:
    """(problem, address, domain) for a bare addr-spec candidate."""
    if not addr:
        return "empty", None, None
    bare = _QUOTED.sub("q", addr)
    words = bare.split()
    if sum(1 for w in words if any(a in w for a in _ATS)) > 1:
        return "missing_separator", None, None
    n_at = bare.count("@")
    n_fw = sum(bare.count(a) for a in FULLWIDTH_ATS)
    if n_at + n_fw > 1:
        # "sato@a.co.jpsuzuki@a.co.jp": a dotted domain then more address = two glued.
        parts = re.split("[@\uff20\ufe6b]", bare)
        glued = all(parts) and all("." in p for p in parts[1:-1])
        return ("missing_separator" if glued else "syntax"), None, None
    if n_fw:
        return "fullwidth_at", None, None
    if not n_at:
        return "no_domain", None, None
    local, _, domain = addr.rpartition("@")
    if not domain.strip(_BLANKS):
        return "no_domain", None, None
    if _WS.search(domain) or domain.endswith(".") or domain.startswith("["):
        return "invalid_domain", None, None
    dom = normalize_domain(domain)
    if dom is None:
        return "invalid_domain", None, None
    if not local or _WS.search(_QUOTED.sub("q", local)) or _FULLWIDTH_FORMS.search(local):
        return "syntax", None, None
    try:
        checked = validate_email(f"{local}@{dom}", check_deliverability=False,
                                 allow_smtputf8=True, allow_quoted_local=True,
                                 allow_domain_literal=False, allow_display_name=False,
                                 strict=True)
    except (EmailNotValidError, UnicodeError, ValueError):
        return "syntax", None, None
    return None, f"{checked.local_part.lower()}@{dom}", dom


# --- splitting ------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SLOW_SPLIT = re.compile(r'["(:\\]|=\?')
_ANGLE = re.compile(r"<[^<>]*>")
_SEP = re.compile(r"[,;]")


def _keep(piece: str) -> str | None:
    p = piece.strip(_BLANKS)
    if p or "\r" in piece or "\n" in piece:
        return p
    return None


def split_header(value: str) -> list[str]:
    """Entries of one header value or pasted text, split at commas and semicolons.

    Separators inside quotes, comments and angle brackets do not split; CRLF (or LF)
    followed by a blank is unfolded. A group (``Team: a@x, b@y;``) yields its
    members and ``undisclosed-recipients:;`` nothing. Blank pieces are skipped;
    every other piece is kept, including a lone line break.
    """
    if not isinstance(value, str) or not value:
        return []
    v = _FOLD.sub("", value) if "\n" in value else value
    if "," not in v and ";" not in v:
        p = _keep(v)   # nothing to split at (a lone "name:" is no group without ";")
        return [] if p is None else [p]
    if not _SLOW_SPLIT.search(v) and ("<" not in v or not _separator_in_angle(v)):
        pieces = _SEP.split(v)
    else:
        pieces = _split_quoted(v) or _split_slow(v)
    return [p for p in map(_keep, pieces) if p is not None]


# One entry up to its separator: quoted strings, <angles> and flat comments are opaque.
_PIECE = re.compile(r'((?:"(?:[^"\\]|\\.)*"|<[^<>]*>|\([^()\\]*\)'
                    r'|=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=|[^,;"(<:])*)(?:[,;]|\Z)', re.S)


def _split_quoted(v: str) -> list[str] | None:
    """Piece by piece with one regex; None for what it cannot do (groups, nesting, an
    unclosed quote), which the token scanner then handles."""
    pieces: list[str] = []
    i, n = 0, len(v)
    while i < n:
        m = _PIECE.match(v, i)
        if m is None:
            return None
        pieces.append(m.group(1))
        i = m.end()
    return pieces


def _separator_in_angle(v: str) -> bool:
    """A comma inside <...>? (A scan, not one regex: that one backtracks quadratically.)"""
    return any("," in m.group() or ";" in m.group() for m in _ANGLE.finditer(v))


def _split_slow(v: str) -> list[str]:
    pieces: list[str] = []
    start = i = 0
    n = len(v)
    group: tuple[int, str] | None = None   # an open group: (its first piece, "name:")
    at_seen = False                        # an @ in the current piece so far
    while i < n:
        if v[i] == "(":
            i = _comment_end(v, i)[0]
            continue
        m = _TOKEN.match(v, i)
        assert m is not None
        sep = m.group(6)
        if sep is None:
            if not at_seen:
                token = m.group()
                at_seen = any(a in token for a in _ATS)
            i = m.end()
            continue
        if sep == ":":
            if group is None and not at_seen:
                group = (len(pieces), v[start:i + 1])
                start = i + 1
        else:
            pieces.append(v[start:i])
            start = i + 1
            at_seen = False
            if sep == ";":
                group = None
        i += 1
    pieces.append(v[start:])
    if group is not None:
        # No ";" closed it, so it was no group ("mailto:x@y"): give the text back.
        first, head = group
        pieces[first] = head + pieces[first]
    return pieces


def parse_field(values: Iterable[str], field: str) -> list[Entry]:
    """Every entry of a field; each value may hold several comma-separated entries."""
    pieces: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue                         # split_header's answer: nothing
        if "," not in value and ";" not in value and "\n" not in value \
                and "\r" not in value:
            piece = value.strip(_BLANKS)     # one entry: split_header's answer, cheaper
            if piece:
                pieces.append(piece)
            continue
        pieces.extend(split_header(value))
    return _parse_all(pieces, field)


# --- header values as read from a message ----------------------------------------------

_JIS_ESC = "\x1b"
_LINE_BREAKS = re.compile(r"[\r\n]+")


def header_text(value: str) -> str:
    """A raw header value as text: 8-bit bytes the parser kept as surrogates are read as
    UTF-8 (else Shift_JIS, else EUC-JP), and ISO-2022-JP escape sequences are decoded.

    Done before anything is split, so bytes of a raw Japanese name that happen to be
    ``;``, ``,``, ``@`` or ``"`` (ISO-2022-JP writes 山 as ``;3``) never act as syntax.
    """
    if not value.isascii():
        try:
            data = value.encode("utf-8", "surrogateescape")
        except UnicodeError:
            data = None
        if data is not None:
            for codec in ("utf-8", "cp932", "euc_jp"):
                try:
                    value = data.decode(codec)
                    break
                except UnicodeError:
                    continue
            else:
                value = data.decode("utf-8", "replace")
    if _JIS_ESC in value and value.isascii():
        with contextlib.suppress(UnicodeError):
            value = value.encode("ascii").decode("iso2022_jp_ext")
    return value


_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."\uff20\ufe6b]')


def _quote(name: str) -> str:
    """A decoded display name as header text: quoted when it holds anything that could
    be read as structure (``@``, ``,``, ``;``, ``<``…), as it is."""
    name = _LINE_BREAKS.sub(" ", name).strip(_BLANKS)
    if not _SPECIALS.search(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _decode_entry(entry: str) -> str:
    """Encoded words of one entry, decoded by its structure.

    In ``phrase <addr-spec>`` the phrase is decoded as a name and comes back quoted: a
    display name is never re-read as an address (``=?ISO-2022-JP?B?…?= <yamada@x.jp>``
    whose name is ``山田@営業部`` stays one valid address). Words inside the angle
    brackets, or an entry with no angle address, are decoded in place, since then the
    encoded text is the address as typed (a client may encode a full-width ＠ into it).
    Encoded words are opaque while the structure is read: a ``;`` inside one is text.
    """
    if "=?" not in entry or "\x01" in entry:
        return entry
    words: list[str] = []

    def hide(m: re.Match[str]) -> str:
        words.append(m.group())
        return f"\x01{len(words) - 1}\x02"

    masked = WORD.sub(hide, entry)

    def show(text: str) -> str:
        return _HIDDEN.sub(lambda m: words[int(m.group(1))], text)

    toks = _scan(masked)
    angles = [i for i, t in enumerate(toks) if t.kind == "a"]
    if not angles:
        decoded = decode_words(entry)
        return decoded if len(split_header(decoded)) == 1 else entry
    first = angles[0]
    if len(angles) > 1 or not all(t.closed for t in toks) \
            or any(t.kind in "sk" for t in toks[:first]):
        return entry
    phrase = show("".join(t.text if t.kind == "q" else t.raw for t in toks[:first]))
    rest = show("".join(t.raw for t in toks[first:]))
    if "=?" in rest.split(">", 1)[0]:
        rest = decode_words(rest)
    if "=?" not in phrase:
        return (phrase.rstrip(_BLANKS) + " " + rest) if phrase.strip(_BLANKS) else rest
    return _quote(decode_words(phrase)) + " " + rest


_HIDDEN = re.compile("\x01(\\d+)\x02")


def header_entries(values: Iterable[str]) -> tuple[str, ...]:
    """Entries of raw To/Cc/Bcc header values from a message, split by structure.

    Bytes are read as text first (``header_text``), the value is split at its real
    separators, and then each entry's encoded words are decoded (``_decode_entry``).
    """
    out: list[str] = []
    for value in values:
        for entry in split_header(header_text(value)):
            out.append(_decode_entry(entry))
    return tuple(out)
