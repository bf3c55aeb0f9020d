"""The one-click recipient fixes: who goes to Bcc, computed from the compose window's lists.

Pure functions over parsed entries. Entries that are not one valid address stay where the
user typed them (SendGuard cannot guess what they meant); valid addresses are moved,
de-duplicated and kept in their original order. The sender stays in To so the message is
never addressed to nobody visible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.policy.addresses import Entry

FIXES = ("fix_external", "fix_everyone")


@dataclass(frozen=True)
class Recipients:
    to: list[str]
    cc: list[str]
    bcc: list[str]
    moved: int        # addresses that went to Bcc


def _as_typed(e: Entry) -> str:
    return e.address if e.address else e.raw


def _dedupe(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def move_external(entries: Sequence[Entry], sender: str,
                  is_internal: Callable[[str], bool]) -> Recipients:
    """External To/Cc addresses go to Bcc; internal ones and invalid entries stay."""
    keep: dict[str, list[str]] = {"to": [], "cc": [], "bcc": []}
    moving: list[str] = []
    for e in entries:
        if e.field in ("to", "cc") and e.address and not is_internal(e.domain or ""):
            moving.append(e.address)
        else:
            keep[e.field].append(_as_typed(e))
    to = _dedupe(keep["to"])
    if not to and sender:
        to = [sender]
    visible = {a.lower() for a in to + keep["cc"]}
    bcc = _dedupe([a for a in keep["bcc"] + moving if a.lower() not in visible])
    before = {a.lower() for a in keep["bcc"]}
    return Recipients(to, _dedupe(keep["cc"]), bcc,
                      moved=len({a for a in moving if a not in before}))


def move_everyone(entries: Sequence[Entry], sender: str) -> Recipients:
    """Everyone but the sender goes to Bcc; the sender alone stays in To."""
    me = sender.lower()
    to = [sender] if sender else []
    cc: list[str] = []
    bcc: list[str] = []
    moved: set[str] = set()
    for e in entries:
        if not e.address:
            (to if e.field == "to" else cc if e.field == "cc" else bcc).append(e.raw)
            continue
        if e.address == me:
            continue
        bcc.append(e.address)
        if e.field != "bcc":
            moved.add(e.address)
    return Recipients(_dedupe(to), _dedupe(cc), _dedupe(bcc), moved=len(moved))
