"""What every check reads: the ``Context`` of one analysis (the draft, the policy, the
parsed recipients, what was inspected, the deadline) and the sender's ``HistoryView``.

Apart from ``rules`` and ``history`` (the checks), which both read it: the arrows point
one way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol

from service.policy.addresses import Entry
from service.policy.classifier import DomainClassifier
from service.policy.deadline import Deadline
from service.policy.extract import Inspection
from service.policy.model import Draft, Finding, Severity
from service.policy.policyfile import Policy
from service.policy.thread import Earlier, earlier_messages, keys_of, received
from service.policy.wording import Body, split_body, without_boilerplate

VISIBLE = ("to", "cc")       # the fields every recipient sees
_ADDRESS = attrgetter("address")

# Addresses listed in one finding (issue 9), above Gmail's own per-message recipient cap.
MAX_LISTED_ADDRESSES = 2000


class HistoryView(Protocol):
    """What the checks may ask about one sender's history."""

    def is_empty(self) -> bool: ...

    def count(self, address: str) -> int:
        """Messages sent to ``address`` (0: never)."""
        ...

    def at_domain(self, domain: str) -> Sequence[tuple[str, int]]:
        """Addresses used at exactly ``domain``, with their counts."""
        ...

    def with_local(self, local: str) -> Sequence[tuple[str, int]]:
        """Addresses used whose local part is exactly ``local`` (any domain)."""
        ...

    def addresses_for_name(self, name_key: str) -> Sequence[tuple[str, int]]:
        """Addresses used with the display name whose ``name_key`` is given."""
        ...

    def names_for(self, address: str) -> Sequence[str]:
        """Display names used with ``address`` (as typed)."""
        ...

    def thread_has_domain(self, message_ids: Sequence[str], domain: str) -> bool | None:
        """Whether an earlier message of the thread (any of ``message_ids``) went to
        ``domain``; ``None`` when no message of the thread is known."""
        ...

    def together(self, addresses: Sequence[str]) -> Sequence[frozenset[str]]:
        """Earlier messages (the sender's own, and those of threads read from Gmail) that
        showed at least two of ``addresses`` to each other (From/To/Cc): for each, which
        of ``addresses`` it showed. Lower-cased addresses in and out."""
        ...


# --- names ---------------------------------------------------------------------------


@dataclass
class Context:
    draft: Draft
    policy: Policy
    classifier: DomainClassifier
    entries: list[Entry]
    inspections: dict[int, Inspection]   # attachment index -> inspection (empty when skipped)
    content: bool = True                 # attachments' contents and the body were read
    deadline: Deadline = field(default_factory=Deadline)
    unchecked: set[str] = field(default_factory=set)  # places whose scan the deadline cut
    skipped: bool = False   # contents not analysed at all (see ``analyze(unchecked=...)``)
    history: HistoryView | None = None   # the sender's history (SPEC 10.2), when known
    _external: list[Entry] | None = None
    _by_domain: dict[str, list[Entry]] | None = None
    _external_addresses: list[str] | None = None
    _visible: list[Entry] | None = None
    _valid: list[Entry] | None = None
    _body: Body | None = None
    _earlier: list[Earlier] | None = None
    _content_text: str | None = None

    @property
    def body(self) -> Body:
        if self._body is None:
            self._body = split_body(self.draft)
        return self._body

    @property
    def earlier(self) -> list[Earlier]:
        """The thread's earlier messages as the quoted text shows them (thread.py)."""
        if self._earlier is None:
            self._earlier = earlier_messages(self.body.quoted) if self.body.quoted else []
        return self._earlier

    @property
    def content_text(self) -> str:
        """The body as SPEC 10.6 judges content: the sender's own text, plus quoted text
        only when some current recipient is not known to have received it; disclaimer
        footers (built-in and ``content.ignore_patterns``) dropped."""
        if self._content_text is None:
            body = self.body
            extra = self.policy.ignore_patterns
            parts = [without_boilerplate(body.own, extra)]
            if body.quoted.strip() and not self.all_received():
                parts.append(without_boilerplate(body.quoted, extra))
            self._content_text = "\n".join(parts)
        return self._content_text

    def all_received(self) -> bool:
        earlier = self.earlier
        if not earlier or not self.valid:
            return False
        return all(received(keys_of(e.address or "", e.display_name), earlier)
                   for e in self.valid)

    @property
    def valid(self) -> list[Entry]:
        if self._valid is None:
            self._valid = [e for e in self.entries if e.address is not None]
        return self._valid

    @property
    def external(self) -> list[Entry]:
        if self._external is None:
            self._split_external()
            assert self._external is not None
        return self._external

    @property
    def external_by_domain(self) -> dict[str, list[Entry]]:
        """External entries grouped by domain (in order of first appearance): rules that
        judge a domain do it once per domain, not once per recipient of a circular."""
        if self._by_domain is None:
            self._split_external()
            assert self._by_domain is not None
        return self._by_domain

    @property
    def external_addresses(self) -> list[str]:
        """Distinct external addresses in order of appearance (what most findings name)."""
        if self._external_addresses is None:
            self._external_addresses = list(dict.fromkeys(map(_ADDRESS, self.external)))
        return self._external_addresses

    @property
    def visible(self) -> list[Entry]:
        """External entries in To and Cc: the ones every recipient sees."""
        if self._visible is None:
            self._visible = [e for e in self.external if e.field in VISIBLE]
        return self._visible

    def _split_external(self) -> None:
        groups: dict[str, list[Entry]] = {}
        for e in self.valid:
            d = e.domain or ""
            try:
                groups[d].append(e)
            except KeyError:
                groups[d] = [e]
        cls = self.classifier
        if cls.internal_by_domain:
            by_domain = {d: es for d, es in groups.items() if not cls.is_internal(d)}
            if len(by_domain) == len(groups):
                external = self.valid
            else:
                external = [e for e in self.valid if (e.domain or "") in by_domain]
        else:
            external = [e for e in self.valid
                        if not cls.is_internal(e.domain or "", e.address)]
            by_domain = {}
            for e in external:
                by_domain.setdefault(e.domain or "", []).append(e)
        self._external, self._by_domain = external, by_domain

    def msg(self, code: str, **params: Any) -> str:
        from service.policy.catalogue import finding_text

        return finding_text(code, params)

    def finding(self, code: str, severity: Severity, addresses: Iterable[str] = (),
                where: str | None = None, **params: object) -> Finding:
        listed = tuple(itertools.islice(addresses, MAX_LISTED_ADDRESSES))
        return Finding(code, severity, self.msg(code, **params), listed, where, dict(params))
