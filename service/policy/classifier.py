"""The classifier the rules ask about each recipient's domain: internal, trusted, personal,
blocked, caution, a look-alike of one of ours (SPEC 2 and 10.1).

Apart from ``domains`` (names and the Public Suffix List), which ``patterns`` and
``lookalike`` build on too: the arrows point one way.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from service.policy.domains import parents, registrable_domain
from service.policy.lookalike import resembles
from service.policy.patterns import PatternList
from service.policy.providers import WITH_SUBDOMAINS, all_providers

_MEMO_LIMIT = 100_000


@cache
def _providers() -> frozenset[str]:
    return all_providers()


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
            found = resembles(d, self._references)
        if len(self._lookalike) >= _MEMO_LIMIT:
            self._lookalike.clear()
        self._lookalike[d] = found
        return found
