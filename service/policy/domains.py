"""Domain names: normalisation, the Public Suffix List, and who a domain belongs to.

Everything here works on ASCII (IDNA/punycode) lower-case domains so that
``日本語.jp``, ``XN--WGV71A119E.JP.`` and ``xn--wgv71a119e.jp`` compare equal
(SPEC section 2: "compared case-insensitively after IDNA normalisation").
Validation is email-validator's (UTS-46 + IDNA 2008 + hostname rules), so a
domain accepted here is one an address may carry. Results are cached: a draft
of 10,000 recipients typically has a few hundred distinct domains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError
from email_validator.syntax import validate_email_domain_name

from service.policy.providers import WITH_SUBDOMAINS

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

    from service.policy.patterns import PatternList

_CACHE = 1 << 16
_DOMAIN_MAX = 253
_STRIP = " \t\u3000"


# Plain lower-case LDH host names: labels of 1-63, no edge hyphens, 2+ labels.
_LDH = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z0-9][a-z0-9-]{0,61})?[a-z]")


@lru_cache(maxsize=_CACHE)
def normalize_domain(domain: str) -> str | None:
    """Lower-case ASCII form of ``domain`` (IDNA A-labels), or None if it is not valid.

    A trailing dot and surrounding blanks are tolerated; anything a mail domain may
    not be (underscores, bad punycode, labels over 63 octets, no dot, special-use
    names such as ``.local`` or ``.test``) gives None. Plain ASCII names take a
    shortcut that accepts a subset of what email-validator accepts (tested).
    """
    if not isinstance(domain, str):
        return None
    d = domain.strip(_STRIP)
    if d.endswith(".") and not d.endswith(".."):
        d = d[:-1]
    if not d or len(d) > 1000:
        return None
    if d.isascii():
        low = d.lower()
        if len(low) <= _DOMAIN_MAX and "--" not in low and _LDH.fullmatch(low) \
                and not _special_use(low):
            return low
    try:
        return validate_email_domain_name(d)["ascii_domain"].lower()
    except (EmailNotValidError, UnicodeError, ValueError):
        return None


def _special_use(domain: str) -> bool:
    """Reserved names (``.local``, ``.test``, ``.invalid``…) that never take mail."""
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    return any(p in SPECIAL_USE_DOMAIN_NAMES for p in parents(domain))


@lru_cache(maxsize=_CACHE)
def to_unicode(domain: str) -> str:
    """Display (U-label) form of an ASCII domain; the input itself if it is not IDNA."""
    if "xn--" not in domain:
        return domain
    import idna

    try:
        return str(idna.decode(domain))
    except (idna.IDNAError, UnicodeError, ValueError):
        return domain


def is_within(domain: str, parent: str) -> bool:
    """True when ``domain`` equals ``parent`` or is a subdomain of it (label boundary)."""
    d = domain.lower().rstrip(".")
    p = parent.lower().rstrip(".")
    if not d or not p:
        return False
    return d == p or d.endswith("." + p)


def parents(domain: str) -> Iterator[str]:
    """``a.b.c.jp`` -> ``a.b.c.jp``, ``b.c.jp``, ``c.jp``, ``jp``: for set look-ups."""
    d = domain
    while True:
        yield d
        dot = d.find(".")
        if dot < 0:
            return
        d = d[dot + 1:]


@cache
def _providers() -> frozenset[str]:
    from service.policy.providers import all_providers

    return all_providers()


@cache
def _psl() -> PublicSuffixList:
    """The PSL shipped inside the ``publicsuffixlist`` package, parsed once on first use."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@lru_cache(maxsize=_CACHE)
def registrable_domain(domain: str) -> str:
    """The organisation's domain by the PSL (``example.co.jp``, never ``co.jp``).

    Falls back to the domain itself when it is a public suffix or unparseable.
    """
    d = domain.lower().rstrip(".")
    try:
        found = _psl().privatesuffix(d)
    except (ValueError, UnicodeError):
        found = None
    return found or d


@lru_cache(maxsize=_CACHE)
def public_suffix(domain: str) -> str:
    """The public suffix of ``domain`` by the PSL (``co.jp`` for ``example.co.jp``)."""
    d = domain.lower().rstrip(".")
    try:
        found = _psl().publicsuffix(d)
    except (ValueError, UnicodeError):
        found = None
    return found or d


_MEMO_LIMIT = 100_000


class _Tree:
    """A set of domains, each standing for itself and all its subdomains."""

    def __init__(self, domains: Iterable[str]) -> None:
        self.exact = frozenset(d for d in domains if d)

    def holds(self, domain: str) -> bool:
        if not domain or not self.exact:
            return False
        exact = self.exact
        return any(d in exact for d in parents(domain.lower()))


class DomainClassifier:
    """Answers the policy's questions about one recipient (cheap, memoised per domain).

    Lists are ``patterns.PatternList`` (SPEC 10.1 syntax; a domain entry includes its
    subdomains). Domains passed in are expected normalised (``Entry.domain``); each
    personal provider in ``providers.WITH_SUBDOMAINS`` also covers its subdomains.
    Construction raises ``patterns.PatternError`` for an entry that cannot match
    (the policy loader reports it with its line first).
    """

    def __init__(self, internal: Iterable[str], trusted: Iterable[str] = (),
                 personal_extra: Iterable[str] = (), blocked: Iterable[str] = (),
                 caution: Iterable[str] = ()) -> None:
        from service.policy.patterns import PatternList

        self._internal = PatternList(internal)
        self._trusted = PatternList(trusted)
        self._personal_extra = PatternList(personal_extra)
        self._blocked = PatternList(blocked)
        self._caution = PatternList(caution)
        self.internal = self._internal.domains
        self.internal_by_domain = self._internal.domain_only   # no address entries
        self.trusted = self._trusted.domains
        self._personal_exact = _providers()
        self._personal_tree = _Tree(WITH_SUBDOMAINS)
        self._references = self.internal + tuple(t for t in self.trusted
                                                 if not self._internal.matches_domain(t))
        self._memo: dict[tuple[str, str], bool] = {}
        self._lookalike: dict[str, str | None] = {}

    def _ask(self, kind: str, lst: PatternList, domain: str, address: str | None) -> bool:
        if not lst:
            return False
        if address is not None and not lst.domain_only:
            return lst.matches(address, domain)
        key = (kind, domain)
        try:
            return self._memo[key]
        except KeyError:
            pass
        found = lst.matches_domain(domain.lower())
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = found
        return found

    def is_internal(self, domain: str, address: str | None = None) -> bool:
        return self._ask("i", self._internal, domain, address)

    def is_trusted(self, domain: str, address: str | None = None) -> bool:
        return self._ask("t", self._trusted, domain, address)

    def is_personal(self, domain: str, address: str | None = None) -> bool:
        key = ("p", domain)
        try:
            return self._memo[key]
        except KeyError:
            pass
        d = domain.lower()
        found = d in self._personal_exact or self._personal_tree.holds(d) or \
            self._ask("P", self._personal_extra, d, None)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = found
        if address is not None and not found and not self._personal_extra.domain_only:
            return self._personal_extra.matches(address, d)
        return found

    def organization(self, address: str, domain: str) -> str:
        """Each personal-provider mailbox is its own organisation (SPEC section 2)."""
        if self.is_personal(domain):
            return address.lower()
        return registrable_domain(domain)

    def is_blocked(self, address: str, domain: str) -> bool:
        return self._blocked.matches(address, domain)

    def is_caution(self, address: str, domain: str) -> bool:
        return self._caution.matches(address, domain)

    def lookalike(self, domain: str) -> str | None:
        """The internal or trusted domain this one imitates, or None (cached per domain)."""
        d = domain.lower()
        try:
            return self._lookalike[d]
        except KeyError:
            pass
        found = None
        if self._references and not (self.is_internal(d) or self.is_trusted(d)):
            from service.policy.lookalike import resembles

            found = resembles(d, self._references)
        if len(self._lookalike) >= _MEMO_LIMIT:
            self._lookalike.clear()
        self._lookalike[d] = found
        return found
