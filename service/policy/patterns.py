"""Recipient list patterns (SPEC 10.1, contract), as FlexConfirmMail users write them.

Every recipient list of the policy (``internal_domains``, ``trusted_domains``,
``personal_domains``, ``blocked_domains``, ``caution_domains``, ``required_bcc_external``)
takes the same entries:

    example.com            the domain and its subdomains
    @example.com           every address at exactly example.com (no subdomains)
    sato@example.com       that address
    *.example.org          subdomains only (not example.org itself)
    ?.example.jp           ``?`` is one character: a.example.jp (and below)
    *+blocked@example.com  ``*`` is any run of characters, in the local part too
    -ok.example.com        a leading ``-`` excepts what it matches from earlier entries

Matching is case-insensitive on IDNA-normalised domains (a pattern in Unicode matches the
punycode a message carries). The last entry that matches decides, so an exception only
undoes the entries before it. Anything that could never match an address (blanks inside,
two ``@``, a domain that cannot exist, a lone ``-``) is a ``PatternError`` naming the
entry: a list entry silently ignored is a safeguard that quietly stopped working.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from service.errors import Text
from service.i18n import N_
from service.policy.domains import normalize_domain, parents, to_unicode

_WILD = "*?"
_LOCAL_OK = re.compile(r"[^\s\"(),:;<>@\[\\\]\x00-\x1f\x7f]+")
_MEMO_LIMIT = 100_000


REASONS = {
    "bad_domain": N_("pattern.bad_domain"), "bad_local": N_("pattern.bad_local"),
    "blanks": N_("pattern.blanks"), "empty": N_("pattern.empty"),
    "excepts_nothing": N_("pattern.excepts_nothing"),
    "invalid_domain": N_("pattern.invalid_domain"),
    "names_no_domain": N_("pattern.names_no_domain"), "no_domain": N_("pattern.no_domain"),
    "no_domain_match": N_("pattern.no_domain_match"), "not_text": N_("pattern.not_text"),
    "two_at": N_("pattern.two_at"),
}


class PatternError(ValueError):
    """An entry that cannot match anything; ``entry`` is the text as written, ``reason``
    a message id (``pattern.*`` in the catalogues of ``service/locale``) and ``text`` the message to
    render in the reader's language; ``str()`` is English."""

    def __init__(self, entry: str, reason: str) -> None:
        self.text = Text(REASONS[reason], {"entry": entry})
        super().__init__(str(self.text))
        self.entry = entry
        self.reason = reason


@dataclass(frozen=True)
class Pattern:
    text: str                  # as written
    exclude: bool              # a leading "-"
    address: bool              # matches whole addresses (has "@")
    exact: str | None          # a plain domain or address (no wildcard), normalised
    regex: re.Pattern[str] | None
    unicode_regex: re.Pattern[str] | None   # for a wildcard pattern written in Unicode

    @property
    def domain(self) -> str | None:
        """The literal domain this entry names (``*.x`` -> ``x``), for look-alike checks."""
        if self.exclude or self.address:
            return None
        if self.exact:
            return self.exact
        body = self.text.lstrip("-").lower()
        if body.startswith("*.") and not any(c in body[2:] for c in _WILD):
            return normalize_domain(body[2:])
        return None

    def matches(self, address: str, domain: str) -> bool:
        if self.address:
            if self.exact is not None:
                return address == self.exact
            subject = address
        else:
            if self.exact is not None:
                return domain == self.exact or domain.endswith("." + self.exact)
            subject = domain
        assert self.regex is not None
        if self.regex.fullmatch(subject):
            return True
        if self.unicode_regex is not None and "xn--" in domain:
            if self.address:
                local, _, dom = address.rpartition("@")
                return bool(self.unicode_regex.fullmatch(f"{local}@{to_unicode(dom)}"))
            return bool(self.unicode_regex.fullmatch(to_unicode(domain)))
        return False


def _glob(text: str, subdomains: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(rf"(?:.*\.)?{body}" if subdomains else body, re.S)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _check_domain_glob(dom: str, entry: str) -> None:
    """A wildcard domain must become a valid domain once its wildcards are filled in."""
    if dom == "*":
        return                    # every domain
    probe = dom.replace("*", "a").replace("?", "a")
    if probe.startswith(".") or (normalize_domain(probe) is None and normalize_domain(
            "a" + probe) is None):
        raise PatternError(entry, "no_domain_match")


def compile_pattern(entry: str) -> Pattern:
    """One list entry -> ``Pattern``; ``PatternError`` when it could never match."""
    if not isinstance(entry, str):
        raise PatternError(str(entry), "not_text")
    text = entry.strip(" \t\u3000")
    exclude = text.startswith("-")
    body = _fold(text[1:] if exclude else text).strip(" \t")
    if not body:
        raise PatternError(entry, "empty" if not exclude else "excepts_nothing")
    if any(c.isspace() for c in body) or any(ord(c) < 32 for c in body):
        raise PatternError(entry, "blanks")
    wild = any(c in body for c in _WILD)
    if "@" in body:
        local, _, dom = body.partition("@")
        if "@" in dom:
            raise PatternError(entry, "two_at")
        if not dom:
            raise PatternError(entry, "no_domain")
        if local and not _LOCAL_OK.fullmatch(local):
            raise PatternError(entry, "bad_local")
        if dom.endswith("."):
            dom = dom[:-1]
        if not any(c in dom for c in _WILD):
            nd = normalize_domain(dom)
            if nd is None:
                raise PatternError(entry, "bad_domain")
            dom = nd
        else:
            _check_domain_glob(dom, entry)
        if not local:
            local = "*"           # "@example.com": every address at exactly that domain
        pattern = f"{local}@{dom}"
        if not any(c in pattern for c in _WILD):
            return Pattern(text, exclude, True, pattern, None, None)
        uni = _glob(pattern, False) if not dom.isascii() else None
        ascii_pat = pattern if dom.isascii() else f"{local}@{_ascii_glob(dom)}"
        return Pattern(text, exclude, True, None, _glob(ascii_pat, False), uni)
    if body.endswith(".") and not body.rstrip(".").strip(_WILD):
        raise PatternError(entry, "names_no_domain")
    dom = body[:-1] if body.endswith(".") else body
    if not wild:
        nd = normalize_domain(dom)
        if nd is None:
            raise PatternError(entry, "invalid_domain")
        return Pattern(text, exclude, False, nd, None, None)
    _check_domain_glob(dom, entry)
    uni = _glob(dom, True) if not dom.isascii() else None
    return Pattern(text, exclude, False, None, _glob(_ascii_glob(dom), True), uni)


def _ascii_glob(dom: str) -> str:
    """IDNA-encode the wildcard-free labels of a domain pattern."""
    out = []
    for label in dom.split("."):
        if label.isascii() or any(c in label for c in _WILD):
            out.append(label)
        else:
            nd = normalize_domain(label + ".jp")
            out.append(nd[:-3] if nd else label)
    return ".".join(out)


def compile_patterns(entries: Iterable[str]) -> tuple[Pattern, ...]:
    return tuple(compile_pattern(e) for e in entries)


class PatternList:
    """An ordered list of patterns; ``matches`` answers with the last matching entry.

    Plain domain entries without exceptions (the common case) are set look-ups over the
    domain's parents; everything else is checked entry by entry, memoised per address.
    """

    def __init__(self, entries: Iterable[str | Pattern]) -> None:
        self.patterns = tuple(p if isinstance(p, Pattern) else compile_pattern(p)
                              for p in entries)
        simple = all(not p.exclude and p.exact is not None for p in self.patterns)
        self._domains = frozenset(p.exact for p in self.patterns
                                  if simple and not p.address and p.exact)
        self._addresses = frozenset(p.exact for p in self.patterns
                                    if simple and p.address and p.exact)
        self._simple = simple
        # True when no entry needs the address (a domain alone answers ``matches``).
        self.domain_only = not any(p.address for p in self.patterns)
        self._memo: dict[tuple[str, str], bool] = {}
        self._domain_part: PatternList | None = None

    def __bool__(self) -> bool:
        return bool(self.patterns)

    @property
    def domains(self) -> tuple[str, ...]:
        """Literal domains named by positive entries (for look-alike references)."""
        return tuple(dict.fromkeys(d for p in self.patterns if (d := p.domain)))


    def matches(self, address: str, domain: str) -> bool:
        if not self.patterns:
            return False
        address = address.lower()
        domain = domain.lower()
        if self._simple:
            if address in self._addresses:
                return True
            doms = self._domains
            return bool(doms) and any(d in doms for d in parents(domain))
        key = (address, domain)
        try:
            return self._memo[key]
        except KeyError:
            pass
        found = False
        for p in reversed(self.patterns):
            if p.matches(address, domain):
                found = not p.exclude
                break
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = found
        return found

    def matches_domain(self, domain: str) -> bool:
        """Domain entries only: is this domain (and so any address at it) listed?"""
        if self.domain_only:
            return self.matches("", domain)
        if self._domain_part is None:
            self._domain_part = PatternList([p for p in self.patterns if not p.address])
        return self._domain_part.matches("", domain)
