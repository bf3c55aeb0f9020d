"""Thread participants for ``new_domain_in_reply`` on the compose card (SPEC 10.1/10.2).

The compose event names the open thread only by Gmail's id (``thread-f:<decimal>``,
``gmail.ids`` converts it) and carries no References. With the opt-in ``gmail.metadata``
scope, ``threads.get(format=metadata)`` lists the thread's messages with their From/To/Cc
headers: the organisations of every earlier message (received ones included; the draft
itself, labelled DRAFT, excluded) are stored as keyed hashes under the thread's id, and
who each message showed to whom (``history_together``, for SPEC 10.6's "already visible
together" in ``cross_domain_exposure`` and ``personal_address_visible``), read
after a compose response in the background (``addon.sent_import``), so the next check of
that reply knows them. Without the scope nothing is read: the reply check then has only
what SendGuard's own sends recorded under their Message-IDs (Check & send, with the
draft's References), and on the compose card it stays quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from service.errors import MessageError
from service.gmail.sent_reader import HeaderMessage, SentReader, as_raw

THREAD_PREFIX = "<gmail-thread:"


def thread_ref(api_thread_id: str) -> str:
    """The id a draft's ``references`` carries for its Gmail thread (not a Message-ID:
    angle-bracketed but never a valid one, so the two cannot collide)."""
    return f"{THREAD_PREFIX}{api_thread_id.lower()}>"


def thread_people(messages: Iterable[HeaderMessage]) -> list[tuple[str, list[str]]]:
    """``(message key, From/To/Cc addresses)`` of every message but drafts: the key is
    the Message-ID (the sender's own sends are recorded under it too), else Gmail's id."""
    from service.policy import draft_from_bytes
    from service.policy.addresses import parse_field

    out: list[tuple[str, list[str]]] = []
    for m in messages:
        if "DRAFT" in m.label_ids:
            continue
        try:
            draft = draft_from_bytes(as_raw(m.headers))
        except MessageError:
            continue
        addresses = [e.address for f in ("to", "cc")
                     for e in parse_field(draft.entries(f), f) if e.address]
        if draft.sender:
            addresses.append(draft.sender)
        out.append((draft.message_id or f"gmail:{m.id}", addresses))
    return out


def thread_orgs(people: Iterable[tuple[str, list[str]]]) -> set[str]:
    """Registrable domains of everyone the thread's messages showed."""
    from service.policy.domains import registrable_domain

    orgs: set[str] = set()
    for _key, addresses in people:
        for address in addresses:
            domain = address.rpartition("@")[2]
            orgs.add(registrable_domain(domain) or domain)
    return orgs


def learn_thread(store: Any, crypto: Any, reader: SentReader, user: str, api_thread_id: str,
                 now: datetime) -> int:
    """Read one thread's participants: store their organisations (``new_domain_in_reply``)
    and who each message showed to whom (SPEC 10.6); organisation rows added."""
    people = thread_people(reader.thread(api_thread_id))
    orgs = thread_orgs(people)
    if not orgs:
        return 0
    ref = thread_ref(api_thread_id)
    added = int(store.record_thread_orgs(crypto, user, ref, orgs, now))
    if added + int(store.record_together(crypto, user, people, now)):
        # what the next check of this reply answers changed: no memoised card of before
        store.touch_history(crypto, user, f"learned:{ref}:{now.isoformat()}", now)
    return added
