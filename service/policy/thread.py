"""Who saw the earlier messages of a thread, as far as the draft itself tells (SPEC 10.6).

The add-on holds only ``gmail.compose`` (drafts.*, messages.send): the thread's other
messages cannot be read (``threads.get`` needs a read scope), so the earlier messages are
known only from what the draft carries: the header blocks of quoted and forwarded text
(Outlook's "From:/Sent:/To:/Cc:", Japanese 差出人:/宛先:/CC:, forward banners) and the
attribution line of a reply ("On … Sato <sato@b.jp> wrote:", "2025年6月2日(月) 佐藤
<sato@b.jp>:"), which names only the author. ``In-Reply-To``/``References`` carry message
ids, not people. What is not quoted is unknown, and unknown counts as not seen.

A participant is a lower-cased address, or a display name folded to its sorted words
(``name:hanako sato``), because Outlook's quoted headers often give names only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.utils import getaddresses

_FIELD = re.compile(
    r"^[ \t>＞]*(from|sent|date|to|cc|bcc|subject|差出人|送信者|送信日時|日付|宛先|件名)"
    r"[ \t]*[:：][ \t]*(.*)$", re.I)
_START = {"from", "差出人", "送信者"}
_PEOPLE = {"from", "to", "cc", "差出人", "送信者", "宛先"}
_ATTRIBUTION = re.compile(
    r"^[ \t>＞]*(?:On .{1,200}?wrote:|.{0,200}?(?:さんは|さんが)書きました[:：]?"
    r"|.{0,40}\d{4}年\d{1,2}月\d{1,2}日.{0,200}?[:：])[ \t]*$", re.M | re.I)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ENRON_AT = re.compile(r"@(?:ECT|ENRON|HOU|EES|NA)\b.*$", re.I)
MAX_HEADERS = 200


@dataclass(frozen=True)
class Earlier:
    """One earlier message: everyone visible on it (author, To, Cc)."""

    people: frozenset[str]


def name_key(name: str) -> str | None:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold())
    words = [w for w in words if not w.isdigit()]
    return "name:" + " ".join(sorted(words)) if len(words) >= 1 and len("".join(words)) > 1 \
        else None


def people_in(value: str) -> set[str]:
    """Addresses (and names given without one) in a quoted header value."""
    out: set[str] = set()
    value = value.replace(";", ",")
    for name, addr in getaddresses([value]):
        addr = addr.strip().lower()
        if "@" in addr and _ADDRESS.fullmatch(addr):
            out.add(addr)
            key = name_key(name) if name else None
            if key:
                out.add(key)
        else:
            text = _ENRON_AT.sub("", (name + " " + addr).strip())
            key = name_key(text)
            if key:
                out.add(key)
    for addr in _ADDRESS.findall(value):
        out.add(addr.lower())
    return out


def earlier_messages(quoted: str) -> list[Earlier]:
    """The earlier messages whose header block or attribution line is in ``quoted``."""
    found: list[Earlier] = []
    for attribution in _ATTRIBUTION.finditer(quoted):
        who = {a.lower() for a in _ADDRESS.findall(attribution.group())}
        if who:
            found.append(Earlier(frozenset(who)))
    current: set[str] | None = None
    field: str | None = None
    for line in quoted.splitlines():
        m = _FIELD.match(line)
        if m:
            field = m.group(1).lower()
            if field in _START:
                if current:
                    found.append(Earlier(frozenset(current)))
                current = set()
            if current is not None and field in _PEOPLE:
                current |= people_in(m.group(2))
        elif current is not None and field in _PEOPLE and line[:1] in (" ", "\t") \
                and line.strip():
            current |= people_in(line)          # a folded To:/Cc: line
        elif current is not None and not line.strip():
            found.append(Earlier(frozenset(current)))
            current, field = None, None
        else:
            field = None
        if len(found) >= MAX_HEADERS:
            break
    if current:
        found.append(Earlier(frozenset(current)))
    return [e for e in found if e.people]


def keys_of(address: str, display_name: str = "") -> set[str]:
    out = {address.lower()}
    key = name_key(display_name) if display_name else None
    if key:
        out.add(key)
    return out


def seen_together(a: set[str], b: set[str], earlier: list[Earlier]) -> bool:
    """Whether one earlier message showed both participants (given by their keys)."""
    return any(e.people & a and e.people & b for e in earlier)


def received(keys: set[str], earlier: list[Earlier]) -> bool:
    return any(e.people & keys for e in earlier)
