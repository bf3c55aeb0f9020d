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
5. **Brand plus word** — the reference's distinctive label (4 characters or more) as
   whole hyphen-separated parts of a longer label, next to a lure word of the kind
   phishing domains use (``jipdec-login.com``, ``secure-jipdec.jp``,
   ``jіpdec-support.net`` by skeleton): the commonest phishing form. Other words do not
   count (``digital-filestore.de`` is not the Digital Agency's ``digital.go.jp``), nor do
   glued words (``jipdeclogin``, ``corporate``). Measured quiet on the Public Suffix
   List's private section and a free-mail list (``benchmarks/bench_lookalike.py``).

Homoglyphs use Unicode's own data: ``data/confusables.txt`` (TR39, see its README).

Everything is pure and cached; references are prepared once per tuple.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from rapidfuzz.distance import OSA

from service.policy.domains import (
    normalize_domain,
    public_suffix,
    registrable_domain,
    to_unicode,
)

_DATA_DIR = Path(__file__).with_name("data")
_DATA = "confusables.txt"      # Unicode TR39 confusables, version in data/README.md
# TR39 compares case-sensitively and some prototypes are letters a domain never shows in
# that form: small capitals (т -> ᴛ, ԍ -> ɢ) and a few others. Domain labels are lower
# case, so these are folded to the Latin letter they render as there.
_LOWER_FORMS = {"ĸ": "k", "ʍ": "m", "ƅ": "b", "ɩ": "i", "ȷ": "j", "ı": "i"}
_SMALL_CAPITAL = re.compile(r"^LATIN LETTER SMALL CAPITAL ([A-Z])$")
# Sequences that read as one letter in a lower-case domain, beyond TR39's m -> rn.
_SEQUENCES = (("vv", "w"), ("cl", "d"))


def build_table(confusables: str) -> dict[str, str]:
    """TR39 prototypes from the text of ``confusables.txt``, lower-cased and followed to
    their end: character -> what it reads as in a lower-case domain label.

    Run once when the data is updated (``python -m service.policy.lookalike``), not at
    run time: the result is shipped as ``data/skeleton.json`` and a test rebuilds it
    from ``confusables.txt`` to prove they agree.
    """
    proto: dict[str, str] = {}
    for line in confusables.splitlines():
        if not line or line[0] == "#":
            continue
        fields = line.split(";", 2)
        if len(fields) < 3:
            continue
        try:
            src = chr(int(fields[0].strip(), 16))
            dst = "".join(chr(int(x, 16)) for x in fields[1].split())
        except ValueError:
            continue
        proto[src] = dst

    def fold(c: str) -> str:
        if c in _LOWER_FORMS:
            return _LOWER_FORMS[c]
        m = _SMALL_CAPITAL.match(unicodedata.name(c, ""))
        return m.group(1).lower() if m else c

    def final(c: str) -> str:
        v = c
        for _ in range(4):   # lower-case and map again until nothing changes
            nxt = "".join(fold(ch) for ch in "".join(proto.get(ch, ch) for ch in v).lower())
            nxt = "".join(ch for ch in unicodedata.normalize("NFD", nxt)
                          if not unicodedata.combining(ch))
            if nxt == v:
                break
            v = nxt
        return v

    table: dict[str, str] = {}
    for c in set(proto) | set(_LOWER_FORMS) | {chr(x) for x in range(0x21, 0x7f)}:
        v = final(c)
        if v != c:
            table[c] = v
    for c, v in list(table.items()):
        if any(ch in table for ch in v):
            table[c] = "".join(table.get(ch, ch) for ch in v)
    return dict(sorted(table.items()))


_TABLE = "skeleton.json"     # build_table(confusables.txt), shipped


@cache
def _table() -> dict[int, str]:
    """The shipped skeleton table as a ``str.translate`` table (read once, ~ms)."""
    import json

    data = json.loads((_DATA_DIR / _TABLE).read_text(encoding="utf-8"))
    return {ord(k): v for k, v in data.items()}


def _build_files() -> None:
    import json

    table = build_table((_DATA_DIR / _DATA).read_text(encoding="utf-8-sig"))
    out = json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n"
    (_DATA_DIR / _TABLE).write_text(out, encoding="utf-8")
    print(f"{_DATA_DIR / _TABLE}: {len(table)} characters")


@lru_cache(maxsize=1 << 14)
def skeleton(text: str) -> str:
    """TR39 skeleton of a lower-case label: strings that look alike share it.

    NFKC and case folding, accents dropped, then every character replaced by its TR39
    prototype (``jіpdec`` with Cyrillic і, ``тоуота`` all Cyrillic, ``g00g1e`` all meet
    their Latin originals), then ``rn``/``vv``/``cl`` read as ``m``/``w``/``d``.
    """
    if text.isascii():
        s = text.lower()
    else:
        s = unicodedata.normalize("NFKC", text).casefold()
        s = "".join(c for c in unicodedata.normalize("NFD", s)
                    if not unicodedata.combining(c))
    s = s.translate(_table())
    for seq, rep in _SEQUENCES:
        s = s.replace(seq, rep)
    return s.replace("rn", "m")


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, or ``limit + 1`` as soon as it must exceed it
    (rapidfuzz's C++ OSA: the hand-written loop cost ~20 us a pair, and a cold check of
    a 300-company circular compares every domain with every reference)."""
    return int(OSA.distance(a, b, score_cutoff=limit))


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
        # rule 5: skeleton of each hyphen part of a reference label -> references
        self.brands: dict[tuple[str, ...], list[_Shape]] = {}
        for r in shapes:
            if len(r.ulabel) >= BRAND_MIN and "." not in r.ulabel:
                parts = tuple(skeleton(p) for p in r.ulabel.split("-"))
                self.brands.setdefault(parts, []).append(r)
        self.brand_first = {k[0] for k in self.brands}

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
        if self.brands and "-" in d.udomain:
            r5 = self._brand(d)
            if r5 is not None:
                return r5
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


    def _brand(self, d: _Shape) -> str | None:
        """Rule 5: a reference label as whole hyphen parts of a longer label of ``d``."""
        labels = d.udomain[: len(d.udomain) - len(d.suffix) - 1].split(".") \
            if d.label else []
        for label in labels:
            if "-" not in label:
                continue
            words = label.split("-")
            parts = [skeleton(p) for p in words]
            for i, first in enumerate(parts):
                if first not in self.brand_first:
                    continue
                for key, refs in self.brands.items():
                    n = len(key)
                    if n < len(parts) and tuple(parts[i:i + n]) == key and any(
                            w in LURE_WORDS for w in words[:i] + words[i + n:]):
                        for r in refs:
                            if r.registrable != d.registrable:
                                return r.domain
        return None


BRAND_MIN = 4
# Words phishing domains put next to a brand: sign-in and account pages, security and
# support notices, payment, mail, and "official"/company/country forms.
LURE_WORDS = frozenset({
    "login", "logon", "signin", "sign", "auth", "sso", "id", "account", "accounts",
    "secure", "security", "safe", "verify", "verification", "confirm", "update", "alert",
    "support", "help", "helpdesk", "service", "services", "center", "centre", "desk",
    "mail", "webmail", "email", "portal", "online", "web", "cloud", "app", "office",
    "pay", "payment", "billing", "invoice", "bank", "card", "wallet", "refund",
    "official", "info", "news", "notice", "admin", "hr", "it", "team", "staff",
    "jp", "japan", "co", "corp", "inc", "group", "global", "hd", "holdings",
})


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


if __name__ == "__main__":
    _build_files()
