"""Which saved draft is the message the user is composing?

Gmail's compose event names the recipients and subject on screen but not the draft id, and
Gmail saves drafts a few seconds behind the screen. Sending a draft that lags the screen
would send what the user no longer sees (say, everyone still in To after "move to Bcc"),
so only a draft whose recipients (per field, when given per field) and subject equal the
screen's counts as found; a near miss means "not saved yet, retry", never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from service.errors import GmailClientError
from service.gmail.headers import addresses
from service.gmail.model import DraftInfo, GmailClient

FIELDS = ("to", "cc", "bcc")


@dataclass(frozen=True)
class Found:
    draft: DraftInfo
    status = "found"


@dataclass(frozen=True)
class Ambiguous:
    """Several drafts match the screen equally well: the user picks one (newest first)."""

    candidates: tuple[DraftInfo, ...]
    status = "ambiguous"


class NotSavedReason(StrEnum):
    MISSING = "missing"      # no draft like it: Gmail has not saved the new message yet
    OUTDATED = "outdated"    # a draft like it exists but lags what is on screen


@dataclass(frozen=True)
class NotSaved:
    reason: NotSavedReason
    stale: tuple[DraftInfo, ...] = ()
    status = "not_saved"


DraftMatch = Found | Ambiguous | NotSaved
Recipients = Sequence[str] | Mapping[str, Sequence[str]]


def _norm(addrs: Sequence[str]) -> frozenset[str]:
    """Bare lower-case addresses; ``Name <a@b>`` entries are reduced to ``a@b``."""
    return addresses([a for a in addrs if a.strip()])


def _fields(recipients: Recipients) -> dict[str, frozenset[str]] | None:
    if not isinstance(recipients, Mapping):
        return None
    unknown = set(recipients) - set(FIELDS)
    if unknown:
        raise ValueError(f"recipient fields must be to, cc, bcc; not {sorted(unknown)}")
    return {f: _norm(recipients.get(f, ())) for f in FIELDS}


def _all(recipients: Recipients) -> frozenset[str]:
    if isinstance(recipients, Mapping):
        return frozenset().union(*(_norm(v) for v in recipients.values()))
    if isinstance(recipients, str):
        raise ValueError("recipients must be a list of addresses, not one string")
    return _norm(recipients)


def _subject(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _same(info: DraftInfo, fields: dict[str, frozenset[str]] | None, union: frozenset[str],
          subject: str | None) -> bool:
    if fields is not None:
        if any(info.field_addresses(f) != fields[f] for f in FIELDS):
            return False
    elif info.recipients != union:
        return False
    return subject is None or _subject(info.subject) == _subject(subject)


def find_compose_draft(client: GmailClient, *, thread_id: str | None, recipients: Recipients,
                       subject: str | None, now: datetime, window_seconds: int = 600,
                       max_candidates: int = 20) -> DraftMatch:
    """Match by thread, recipients, subject and save time (within ``window_seconds``).

    ``recipients`` are the lower-case addresses of the compose event, either all together
    or as ``{"to": [...], "cc": [...], "bcc": [...]}``; per field is stricter and is what
    a caller about to send should pass. Drafts in ``thread_id`` count whatever their age
    (an old reply draft reopened unchanged is not saved again); others must be recent.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    fields, union = _fields(recipients), _all(recipients)
    since = now - timedelta(seconds=window_seconds)
    if thread_id:
        refs = [r for r in client.list_drafts(max_results=100) if r.thread_id == thread_id]
    else:
        refs = client.list_drafts(query=f"after:{int(since.timestamp())}",
                                  max_results=max_candidates)
    infos: list[DraftInfo] = []
    for ref in refs[:max_candidates]:
        try:
            infos.append(client.draft_info(ref.draft_id))
        except GmailClientError as exc:   # sent or discarded since the list: not ours
            if exc.http_status != 404:
                raise
    if not thread_id:
        infos = [i for i in infos if i.internal_date >= since]
    infos.sort(key=lambda i: i.internal_date, reverse=True)
    exact = tuple(i for i in infos if _same(i, fields, union, subject))
    if len(exact) == 1:
        return Found(exact[0])
    if exact:
        return Ambiguous(exact)
    near = tuple(i for i in infos if thread_id or (union and i.recipients & union)
                 or (subject and _subject(i.subject) == _subject(subject)))
    if near:
        return NotSaved(NotSavedReason.OUTDATED, near)
    return NotSaved(NotSavedReason.MISSING)
