"""Who is newly shown to whom (SPEC 10.6): the thread evidence ``cross_domain_exposure``
and ``personal_address_visible`` share.

Addresses an earlier message of the same thread already showed together are not newly
exposed by a reply. What the draft tells about the earlier messages (``thread.py``): the
quoted header blocks (every participant shown), the attribution line of a reply (its
author only), and, in a reply that quotes, its first To recipient, to whom a reply goes
back (the author of the message answered). What the sender's history tells
(``HistoryView.together``): the From/To/Cc of the sender's own earlier mail and of the
threads read from Gmail (``gmail.metadata``), exact and with no quote needed.

The author presumption differs by code. Two organisations: a reply presumably addresses
the answered message's recipients again (reply-all), so a pair with its author counts as
seen. A private address: only its owner's own choice counts, so the presumption holds
only when the private address *is* the author (they wrote to the thread themselves);
someone else's private address needs a quoted header that showed it with the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.policy.thread import Earlier, keys_of

if TYPE_CHECKING:
    from service.policy.addresses import Entry
    from service.policy.context import Context


def thread_evidence(ctx: Context) -> list[Earlier]:
    """The earlier messages the draft shows, plus (in a reply that quotes) the author of
    the answered message as its first To recipient. Evidence beats presumption: an author
    whose message's header block is quoted (its To/Cc shown) is judged by that block, so
    a reply that adds someone the block did not show is not presumed a reply-all."""
    earlier = list(ctx.earlier)
    if ctx.draft.reply and ctx.body.quoted.strip():
        first = next((e for e in ctx.valid if e.field == "to"), None)
        if first is not None:
            earlier.append(Earlier(frozenset(keys_of(first.address or "", first.display_name)),
                                   author_only=True))
    shown = [e.people for e in earlier if not e.author_only]
    return [e for e in earlier
            if not (e.author_only and any(e.people & people for people in shown))]


# Visible external addresses the history is asked about at most: past this (a circular)
# the history is not asked, and what the draft shows decides alone.
MAX_ASKED = 100


def history_evidence(ctx: Context, entries: list[Entry]) -> list[Earlier]:
    """The earlier messages of the sender's history that showed two or more of
    ``entries`` to each other (each a complete message: its people are all shown)."""
    history = ctx.history
    addresses = sorted({e.address for e in entries if e.address})
    if history is None or not 2 <= len(addresses) <= MAX_ASKED:
        return []
    return [Earlier(frozenset(group)) for group in history.together(addresses)
            if len(group) >= 2]


# Pairs (private address x other recipient) the personal-address evidence may compare:
# past this (a pasted list of thousands) the warning stays, never a quadratic check.
MAX_PAIRS = 200_000


def quiet_bounded(flagged: list[Entry], recipients: list[Entry]) -> bool:
    return len(flagged) * len(recipients) <= MAX_PAIRS


def entry_keys(e: Entry) -> set[str]:
    return keys_of(e.address or "", e.display_name)


def shown_with_all(owner: Entry, recipients: list[Entry], earlier: list[Earlier], *,
                   reply: bool) -> bool:
    """Whether the thread already showed the private address of ``owner`` to each other
    address of ``recipients``: one quoted header with both, or (in a reply) ``owner``
    wrote an earlier message of the thread themselves."""
    others = [o for o in recipients if o.address != owner.address]
    if not earlier or not others:
        return False
    mine = entry_keys(owner)
    if reply and any(e.author_only and e.people & mine for e in earlier):
        return True
    shown = [e.people for e in earlier if not e.author_only and e.people & mine]
    return bool(shown) and all(any(people & entry_keys(o) for people in shown)
                               for o in others)
