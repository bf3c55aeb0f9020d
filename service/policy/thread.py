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
    r"^[ \t>＞]*(?:On .{1,200}?(?:wrote|said|writes):|.{0,200}?(?:さんは|さんが)書きました[:：]?"
    r"|.{0,40}\d{4}年\d{1,2}月\d{1,2}日.{0,200}?[:：]"
    r"|[^:\n]{2,80}\b(?:wrote|said|writes)\s*:)[ \t]*$", re.M | re.I)
# The author's name in an attribution without an address: "On <date>, Ann Lee wrote:"
_AUTHOR = re.compile(r"(?:^|,\s*|\bat\s+\d{1,2}:\d{2}(?:\s*[AP]M)?\s*)([^,:<>\d]{3,60}?)"
                     r"\s*(?:<[^<>]*>\s*)?(?:\bwrote|\bsaid|\bwrites|さんは書きました|さんが書きました)",
                     re.I)
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_ENRON_AT = re.compile(r"@(?:ECT|ENRON|HOU|EES|NA)\b.*$", re.I)
MAX_HEADERS = 200


@dataclass(frozen=True)
class Earlier:
    """One earlier message: everyone visible on it (author, To, Cc); ``author_only`` when
    only a reply's attribution line names it (its recipients are not shown)."""

    people: frozenset[str]
    author_only: bool = False


def name_key(name: str) -> str | None:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold())
    # initials and numbers differ between "Vince J Kaminski" and "Kaminski, Vince"
    words = sorted({w for w in words if not w.isdigit() and (len(w) > 1 or ord(w) > 0x2FFF)})
    return "name:" + " ".join(words) if words and len("".join(words)) > 1 else None


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
        line = attribution.group().strip(" \t>＞")
        who = {a.lower() for a in _ADDRESS.findall(line)}
        m = _AUTHOR.search(line)
        if m:
            key = name_key(m.group(1).strip(" \"'"))
            if key:
                who.add(key)
        if who:
            found.append(Earlier(frozenset(who), author_only=True))
    current: set[str] | None = None
    field: str | None = None
    recipients_shown = False

    def close() -> None:
        if current:
            found.append(Earlier(frozenset(current), author_only=not recipients_shown))

    for line in quoted.splitlines():
        m = _FIELD.match(line)
        if m:
            field = m.group(1).lower()
            if field in _START:
                close()
                current, recipients_shown = set(), False
            if current is not None and field in _PEOPLE:
                current |= people_in(m.group(2))
                recipients_shown |= field not in _START
        elif current is not None and field in _PEOPLE and line[:1] in (" ", "\t") \
                and line.strip():
            current |= people_in(line)          # a folded To:/Cc: line
        elif current is not None and not line.strip(" \t>＞"):
            close()
            current, field = None, None
        else:
            field = None
        if len(found) >= MAX_HEADERS:
            break
    close()
    return [e for e in found if e.people]


def keys_of(address: str, display_name: str = "") -> set[str]:
    """An address's keys: itself, its display name, and the name its local part spells
    (``john.hall@`` -> ``name:hall john``; a quoted header may give only the name)."""
    out = {address.lower()}
    for name in (display_name, re.sub(r"[._-]+", " ", address.partition("@")[0])):
        key = name_key(name) if name else None
        if key:
            out.add(key)
    return out


def seen_together(a: set[str], b: set[str], earlier: list[Earlier], *,
                  reply: bool = False) -> bool:
    """Whether one earlier message showed both participants (given by their keys). In a
    reply, the author of a quoted message was seen by that message's recipients, which a
    reply presumably addresses again (reply-all): a pair with that author counts as seen."""
    for e in earlier:
        if e.author_only:
            if reply and (e.people & a or e.people & b):
                return True
        elif e.people & a and e.people & b:
            return True
    return False


def received(keys: set[str], earlier: list[Earlier]) -> bool:
    return any(e.people & keys for e in earlier)
