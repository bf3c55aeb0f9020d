"""Which saved draft is the message the user is composing?

Gmail's compose event names the recipients on screen (and, for a reply, the thread as
``thread-f:<decimal>``) but not the draft id nor the subject, and Gmail saves drafts a few
seconds behind the screen. Sending a draft that lags the screen would send what the user
no longer sees (say, everyone still in To after "move to Bcc"), so only a draft whose
recipients (per field, when given per field) equal the screen's counts as found; a near
miss means "not saved yet, retry", never a guess; several equal ones, "pick one".
A draft's age does not matter: Gmail does not save an unchanged draft again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from service.errors import GmailClientError
from service.gmail.headers import addresses
from service.gmail.model import DraftInfo, DraftRef, GmailClient

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


def _same(info: DraftInfo, fields: dict[str, frozenset[str]] | None,
          union: frozenset[str]) -> bool:
    if fields is not None:
        return all(info.field_addresses(f) == fields[f] for f in FIELDS)
    return info.recipients == union


def _query(union: frozenset[str]) -> str | None:
    """A Gmail search for drafts holding one of the screen's addresses anywhere (a bare
    address matches To, Cc and Bcc alike, so a draft that still has it in another field
    is found as "not saved yet"); Gmail narrows the list, the headers decide."""
    return f'"{sorted(union)[0]}"' if union else None


def _infos(client: GmailClient, refs: Sequence[DraftRef], limit: int) -> list[DraftInfo]:
    infos: list[DraftInfo] = []
    for ref in refs[:limit]:
        try:
            infos.append(client.draft_info(ref.draft_id))
        except GmailClientError as exc:   # sent or discarded since the list: not ours
            if exc.http_status != 404:
                raise
    infos.sort(key=lambda i: i.internal_date, reverse=True)
    return infos


def _decide(infos: Sequence[DraftInfo], fields: dict[str, frozenset[str]] | None,
            union: frozenset[str], message_id: str | None) -> DraftMatch | None:
    exact = tuple(i for i in infos if _same(i, fields, union))
    if message_id:
        named = tuple(i for i in exact if i.message_id == message_id)
        if len(named) == 1:
            return Found(named[0])
    if len(exact) == 1:
        return Found(exact[0])
    if exact:
        return Ambiguous(exact)
    return None


def find_compose_draft(client: GmailClient, *, thread_id: str | None, recipients: Recipients,
                       message_id: str | None = None, max_candidates: int = 20,
                       max_drafts: int = 500) -> DraftMatch:
    """Match by thread, then by recipients, whatever the draft's age.

    ``thread_id`` and ``message_id`` are API (hex) ids (``service.gmail.ids.api_id``
    converts the event's ``thread-f:``); ``recipients`` are the compose event's
    addresses, either all together or as ``{"to": [...], "cc": [...], "bcc": [...]}``;
    per field is stricter and is what a caller about to send should pass. The thread's
    drafts are tried first (a reply); when none of them matches, the drafts holding the
    screen's addresses (Gmail search, any age: an unchanged draft is not saved again) are.
    """
    fields, union = _fields(recipients), _all(recipients)
    near: list[DraftInfo] = []
    if thread_id:
        refs = [r for r in client.list_drafts(max_results=max_drafts)
                if r.thread_id == thread_id]
        infos = _infos(client, refs, max_candidates)
        found = _decide(infos, fields, union, message_id)
        if found is not None:
            return found
        near += infos
    query = _query(union)
    if query is not None:
        infos = _infos(client, client.list_drafts(query=query, max_results=max_candidates),
                       max_candidates)
        found = _decide(infos, fields, union, message_id)
        if found is not None:
            return found
        near += [i for i in infos if i.recipients & union]
    if near:
        unique = {i.draft_id: i for i in near}
        return NotSaved(NotSavedReason.OUTDATED, tuple(unique.values()))
    return NotSaved(NotSavedReason.MISSING)
