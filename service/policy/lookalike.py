"""Look-alike domains (SPEC section 2 ``lookalike_domain``).

A recipient domain *resembles* a reference (an internal or trusted domain) when it is
neither that domain nor a subdomain of it, nor in the same organisation (same
registrable domain), and one of these holds:

1. **Typo** — the optimal-string-alignment distance (Damerau: a transposition costs
   1) between the registrable domains (or the recipient's whole domain, for a typo
   that leaves the PSL: ``example.co.jo``), in Unicode, is at most the reference's
   allowance: 0 when its distinctive label (the registrable domain less its public
   suffix) has at most 3 characters, 1 for 4-5 characters, 2 (SPEC's "edit distance
   <= 2") for 6 or more. Short labels get less because nearly every 3-letter name is
   one edit from another real company (``ibm.com``/``abc.com``, ``a.co.jp``/``b.co.jp``)
   and two edits turn one 4-5 letter word into another (``sony``/``soup``).
2. **Other public suffix** — the same distinctive label under another public suffix
   (``jipdec.co.jp`` vs ``jipdec.or.jp``, ``example.com`` vs ``example.co.jp``). We
   *do* fire for ``example.org`` against ``example.co.jp``: a sender cannot tell a
   sister domain from a squatted one; a legitimate sister domain belongs in
   ``internal_domains`` or ``trusted_domains``, which silences it.
3. **Homoglyph / IDN skeleton** — equal skeletons (Unicode TR39 style: NFKC, case
   fold, accents dropped, Cyrillic/Greek/Armenian letters mapped to the Latin letters
   they look like, ``0``->``o``, ``1``->``l``, ``rn``->``m``, ``vv``->``w``), computed
   on the decoded form of ``xn--`` labels: of the registrable domains, the whole
   domains, or the distinctive labels (a homoglyph under another suffix).
4. **Embedded reference** — the reference used as labels of another domain
   (``corp.co.jp.evil.com``, ``mail.corp.co.jp-secure.net``) or in dashed form
   (``corp-co-jp.evil.com``).

Everything is pure and cached; references are prepared once per tuple.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from service.policy.domains import (
    normalize_domain,
    public_suffix,
    registrable_domain,
    to_unicode,
)

# Letters of other scripts (and digits) that render like a Latin letter; after NFKC and
# lower-casing. A TR39-style subset chosen for what can appear in a domain label.
_CONFUSABLES = str.maketrans({
    # Cyrillic
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i",
    "ј": "j", "ӏ": "l", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "у": "y", "х": "x",
    "ԝ": "w", "ү": "y",
    # Greek
    "α": "a", "ϲ": "c", "ι": "i", "ϳ": "j", "ν": "v", "ο": "o", "ρ": "p", "υ": "u",
    "χ": "x", "γ": "y",
    # Armenian
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "զ": "q",
    # Latin look-alikes
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i",
    # Digits
    "0": "o", "1": "l",
})
_SEQUENCES = (("rn", "m"), ("vv", "w"))


@lru_cache(maxsize=1 << 14)
def skeleton(text: str) -> str:
    """TR39-style skeleton: two strings that look the same get the same skeleton."""
    if text.isascii():
        s = text.lower()
    else:
        s = unicodedata.normalize("NFKC", text).casefold()
        s = "".join(c for c in unicodedata.normalize("NFD", s)
                    if not unicodedata.combining(c))
    s = s.translate(_CONFUSABLES)
    for seq, rep in _SEQUENCES:
        s = s.replace(seq, rep)
    return s


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, or ``limit + 1`` as soon as it must exceed it."""
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if abs(la - lb) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ca = a[i - 1]
        best = cur[0]
        for j in range(1, lb + 1):
            cb = b[j - 1]
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            if v < best:
                best = v
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[lb], limit + 1)


def allowance(label: str) -> int:
    """Edits tolerated on a distinctive label of this length (see rule 1)."""
    n = len(label)
    return 0 if n <= 3 else 1 if n <= 5 else 2


@dataclass(frozen=True)
class _Shape:
    """What the rules compare, computed once per domain."""

    domain: str          # ASCII
    registrable: str     # ASCII
    label: str           # ASCII distinctive label ("" when the domain is a public suffix)
    suffix: str
    udomain: str         # Unicode domain
    ureg: str            # Unicode registrable domain
    ulabel: str
    skel_domain: str
    skel_reg: str
    skel_label: str
    dashed: str          # the domain with dots as hyphens: corp-co-jp
    limit: int           # edits tolerated when this is the reference (rule 1)


@lru_cache(maxsize=1 << 14)
def _shape(domain: str) -> _Shape:
    reg = registrable_domain(domain)
    suffix = public_suffix(reg)
    label = reg[: -len(suffix) - 1] if reg != suffix and reg.endswith("." + suffix) else ""
    udomain = to_unicode(domain)
    ureg = to_unicode(reg)
    ulabel = to_unicode(label) if label else ""
    return _Shape(domain, reg, label, suffix, udomain, ureg, ulabel, skeleton(udomain),
                  skeleton(ureg), skeleton(ulabel), domain.replace(".", "-"),
                  allowance(ulabel))


def _embedded(domain: str, ref: _Shape) -> bool:
    """``ref`` (or its dashed form) starts a label run of ``domain``, followed by . or -."""
    s = "." + domain
    for form in (ref.domain, ref.dashed):
        if form not in domain:
            continue
        needle = "." + form
        i = s.find(needle)
        while i >= 0:
            end = i + len(needle)
            if end < len(s) and s[end] in ".-":
                return True
            i = s.find(needle, i + 1)
    return False


class _References:
    """References indexed so that one domain is checked in a few look-ups."""

    def __init__(self, shapes: tuple[_Shape, ...]) -> None:
        self.shapes = shapes
        self.exact = frozenset(r.domain for r in shapes)
        self.dotted = tuple("." + r.domain for r in shapes)
        self.by_label: dict[str, list[_Shape]] = {}
        self.by_skeleton: dict[str, list[_Shape]] = {}
        self.by_skel_label: dict[str, list[_Shape]] = {}
        for r in shapes:
            if r.label:
                self.by_label.setdefault(r.label, []).append(r)
                self.by_skel_label.setdefault(r.skel_label, []).append(r)
            for key in {r.skel_reg, r.skel_domain}:
                self.by_skeleton.setdefault(key, []).append(r)
        forms = sorted({f for r in shapes for f in (r.domain, r.dashed)}, key=len, reverse=True)
        self.embedded = re.compile(
            r"(?:^|\.)(" + "|".join(map(re.escape, forms)) + r")[.-]") if forms else None
        self.fuzzy = tuple(r for r in shapes if r.limit > 0)

    def within(self, domain: str) -> bool:
        return domain in self.exact or domain.endswith(self.dotted)

    def match(self, d: _Shape) -> str | None:
        """The first reference ``d`` imitates, by rules 4, 2, 3, 1 (cheapest first)."""
        if self.embedded is not None:
            m = self.embedded.search(d.domain)
            if m is not None:
                form = m.group(1)
                for r in self.shapes:
                    if form in (r.domain, r.dashed):
                        return r.domain
        candidates: list[_Shape] = []
        if d.label:
            candidates += [r for r in self.by_label.get(d.label, ()) if r.suffix != d.suffix]
            candidates += [r for r in self.by_skel_label.get(d.skel_label, ())
                           if r.suffix != d.suffix]
        candidates += self.by_skeleton.get(d.skel_reg, ())
        if d.skel_domain != d.skel_reg:
            candidates += self.by_skeleton.get(d.skel_domain, ())
        for r in candidates:
            if r.registrable != d.registrable:
                return r.domain
        # The whole domain too: a typo in the suffix can leave the PSL ("example.co.jo").
        forms = (d.ureg,) if d.udomain == d.ureg else (d.ureg, d.udomain)
        for r in self.fuzzy:
            if r.registrable == d.registrable:
                continue
            for form in forms:
                if abs(len(form) - len(r.ureg)) <= r.limit \
                        and osa_distance(form, r.ureg, r.limit) <= r.limit:
                    return r.domain
        return None


@lru_cache(maxsize=256)
def _references(references: tuple[str, ...]) -> _References:
    shapes: dict[str, _Shape] = {}
    for ref in references:
        r = normalize_domain(ref)
        if r and r not in shapes:
            shapes[r] = _shape(r)
    return _References(tuple(shapes.values()))


def resembles(domain: str, references: Sequence[str]) -> str | None:
    """A reference ``domain`` imitates (rules 1-4 above), or None.

    Never one that ``domain`` is, is under, or shares its registrable domain with.
    """
    d = normalize_domain(domain)
    refs = _references(tuple(references))
    if not d or not refs.shapes or refs.within(d):
        return None
    return refs.match(_shape(d))
