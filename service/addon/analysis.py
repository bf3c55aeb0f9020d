"""Glue between the add-on and the pure policy engine: drafts from events, stable keys.

Keys and fingerprints let the confirmation step recompute, on the server, exactly what the
user had to tick: a warning's key depends only on what it says (code, place, addresses),
so re-running the analysis on an unchanged draft gives the same keys.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from service.policy.model import FIELDS, Draft, Finding

if TYPE_CHECKING:
    from service.addon.event import AddonEvent
    from service.policy.addresses import Entry
    from service.policy.config import Policy
    from service.policy.domains import DomainClassifier
    from service.policy.history import HistoryView
    from service.policy.rules import Report


@lru_cache(maxsize=8)
def classifier(policy: Policy) -> DomainClassifier:
    """One classifier per policy: it caches domain look-ups across requests."""
    from service.policy.rules import classifier_for

    return classifier_for(policy)


def draft_from_event(event: AddonEvent, sender: str) -> Draft:
    """The recipients-only draft the compose trigger can see (no body, no attachments)."""
    return Draft(sender=sender, to=event.to, cc=event.cc, bcc=event.bcc)


def analyze(draft: Draft, policy: Policy, locale: str, *, content: bool,
            history: HistoryView | None = None) -> Report:
    from service.policy.rules import analyze as run

    return run(draft, policy, locale=locale, classifier=classifier(policy), content=content,
               history=history)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:20]


def finding_key(f: Finding) -> str:
    """Stable id of a finding: same code, place and addresses give the same key."""
    return _digest(f.code, f.severity.value, f.where or "", *sorted(f.addresses))


def fingerprint(report: Report) -> str:
    """Changes whenever a recipient or a finding changes."""
    parts = [f"{e.field}:{e.address or e.raw}" for e in report.recipients]
    parts += sorted(finding_key(f) for f in report.findings)
    return _digest(*parts)


@dataclass
class DomainGroup:
    domain: str
    external: bool
    addresses: list[str] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.addresses)

    def field_list(self) -> list[str]:
        return [f for f in FIELDS if f in self.fields]


def valid_recipients(entries: Iterable[Entry]) -> dict[str, Entry]:
    """Distinct valid addresses in field order (To, Cc, Bcc), first occurrence kept."""
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.address and e.address not in seen:
            seen[e.address] = e
    return seen


def domain_groups(entries: Iterable[Entry], cls: DomainClassifier) -> list[DomainGroup]:
    """Valid recipients grouped by domain: external first, then by size, then by name."""
    groups: dict[str, DomainGroup] = {}
    fields_of: dict[str, set[str]] = defaultdict(set)
    all_entries = list(entries)
    for e in all_entries:
        if e.address:
            fields_of[e.address].add(e.field)
    for address, e in valid_recipients(all_entries).items():
        domain = e.domain or ""
        g = groups.get(domain)
        if g is None:
            g = groups[domain] = DomainGroup(domain, not cls.is_internal(domain))
        g.addresses.append(address)
        g.fields |= fields_of[address]
    return sorted(groups.values(), key=lambda g: (not g.external, -g.count, g.domain))
