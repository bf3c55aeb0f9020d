"""The five history checks of SPEC 10.1 (``first_time_recipient``, ``new_domain_in_reply``,
``name_address_mismatch``, ``similar_recipient``, ``salutation_mismatch``).

Pure: the sender's history arrives as a ``HistoryView`` (storage implements it over keyed
hashes and wrapped values; tests pass a plain dict-backed one). Every question is narrow
("how often to this address", "who at this domain") so an adapter never has to decrypt
the whole history for one draft.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from service.i18n import current_locale
from service.policy.model import Finding, Severity

if TYPE_CHECKING:
    from service.policy.addresses import Entry
    from service.policy.context import Context, HistoryView


_HONORIFIC_SUFFIX = re.compile(r"(?:様|さま|サマ|さん|サン|殿|どの|御中|先生|くん|君|氏)+$")
_HONORIFIC_PREFIX = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof)\.?\s+", re.I)
_BLANK = re.compile(r"[\s\u3000・･.,，、。'\"“”‘’()（）]+")


def name_key(name: str) -> str:
    """A display name reduced for comparison: full/half width folded (NFKC), case folded,
    honorifics (様/さん/殿/御中, Mr/Ms) and every space dropped. Empty when nothing is left."""
    s = unicodedata.normalize("NFKC", name).strip().strip("\"'")
    s = _HONORIFIC_PREFIX.sub("", s.strip())
    s = _BLANK.sub("", s).casefold()
    s = _HONORIFIC_SUFFIX.sub("", s)
    if "@" in s:            # a name that is an address says nothing about the person
        return ""
    return s


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it exceeds ``limit``."""
    return int(Levenshtein.distance(a, b, score_cutoff=limit))


# Shared role mailboxes: the same local part at another organisation is normal.
ROLE_LOCALS = frozenset({
    "info", "support", "sales", "contact", "admin", "office", "service", "help", "noreply",
    "no-reply", "webmaster", "postmaster", "press", "pr", "hr", "jinji", "soumu", "eigyo",
    "kouhou", "koho", "toiawase", "inquiry", "mail", "desk", "recruit", "saiyo", "keiri",
    "billing", "accounts", "account", "order", "orders", "shop", "team", "hello", "news",
})
MIN_LOCAL = 4      # shorter local parts are too close to everything to mean anything


# --- the checks ----------------------------------------------------------------------

def _history(ctx: Context) -> HistoryView | None:
    h = ctx.history
    if h is None or not ctx.policy.history_enabled or h.is_empty():
        return None
    return h


def _first_by_address(entries: Iterable[Entry]) -> list[Entry]:
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.address and e.address not in seen:
            seen[e.address] = e
    return list(seen.values())


def first_time_recipient(ctx: Context) -> Iterator[Finding]:
    h = _history(ctx)
    if h is None:
        return
    for e in _first_by_address(ctx.external):
        if h.count(e.address or "") == 0:
            yield ctx.finding("first_time_recipient", Severity.INFO, (e.address or "",),
                              e.field, address=e.address)


# A subaddress tag (RFC 5233 ``+tag``; TMDA's ``-dated-``/``-sender-``/``-keyword-``
# addresses, which change with every message) names the same mailbox.
_SUBADDRESS = re.compile(r"\+.*$|-(?:dated|sender|keyword)-[^@]*$", re.I)


def same_mailbox(a: str, b: str) -> bool:
    """One person's mailbox under two spellings: the same local part (tags removed) in
    the same organisation (``ejw@cse.ucsc.edu`` and ``ejw@soe.ucsc.edu``)."""
    from service.policy.domains import registrable_domain

    (la, _, da), (lb, _, db) = a.lower().rpartition("@"), b.lower().rpartition("@")
    if _SUBADDRESS.sub("", la) != _SUBADDRESS.sub("", lb):
        return False
    return da == db or (registrable_domain(da) or da) == (registrable_domain(db) or db)


def name_address_mismatch(ctx: Context) -> Iterator[Finding]:
    h = _history(ctx)
    if h is None:
        return
    for e in _first_by_address(ctx.external):
        key = name_key(e.display_name)
        if not key:
            continue
        address = e.address or ""
        used = h.addresses_for_name(key)
        if any(same_mailbox(a, address) for a, _ in used):
            continue             # the name went to this mailbox before (another spelling)
        known = [(a, n) for a, n in used if a != address]
        if not known:
            continue
        known.sort(key=lambda an: (-an[1], an[0]))
        other, n = known[0]
        yield ctx.finding("name_address_mismatch", Severity.WARN, (e.address or "",), e.field,
                          name=e.display_name.strip(), known=other, n=n, address=e.address,
                          replace=other)


def similar_recipient(ctx: Context) -> Iterator[Finding]:
    h = _history(ctx)
    if h is None:
        return
    from service.policy.domains import registrable_domain

    present = {e.address for e in ctx.valid}
    for e in _first_by_address(ctx.external):
        address = e.address or ""
        if h.count(address) > 0:
            continue                 # both used before: no alarm
        local, _, domain = address.rpartition("@")
        candidates: list[tuple[str, int]] = []
        if len(local) >= MIN_LOCAL:
            for other, n in h.at_domain(domain):
                o_local = other.rpartition("@")[0]
                if other != address and edit_distance(local, o_local) <= 2:
                    candidates.append((other, n))
        if len(local) >= MIN_LOCAL and local not in ROLE_LOCALS:
            org = registrable_domain(domain)
            for other, n in h.with_local(local):
                o_domain = other.rpartition("@")[2]
                if other != address and registrable_domain(o_domain) != org:
                    candidates.append((other, n))
        candidates = [c for c in candidates
                      if c[0] not in present and not same_mailbox(c[0], address)]
        if not candidates:
            continue
        candidates.sort(key=lambda an: (-an[1], an[0]))
        other, n = candidates[0]
        names = h.names_for(other)
        yield ctx.finding("similar_recipient", Severity.WARN, (address,), e.field,
                          address=address, known=other, n=n,
                          name=names[0] if names else other, replace=other)


def new_domain_in_reply(ctx: Context) -> Iterator[Finding]:
    h = _history(ctx)
    ids = ctx.draft.references
    if h is None or not ids:
        return
    from service.policy.domains import registrable_domain

    orgs: dict[str, list[Entry]] = {}
    for e in ctx.external:
        orgs.setdefault(registrable_domain(e.domain or ""), []).append(e)
    for org, group in orgs.items():
        if h.thread_has_domain(ids, org) is False:
            addrs = list(dict.fromkeys(e.address or "" for e in group))
            yield ctx.finding("new_domain_in_reply", Severity.WARN, addrs,
                              ",".join(sorted({e.field for e in group})), domain=org)


# --- salutations ---------------------------------------------------------------------

_ORG_MARK = re.compile(r"(株式会社|有限会社|合同会社|\(株\)|（株）|㈱|\(有\)|㈲|社団法人|財団法人"
                       r"|独立行政法人|大学|銀行|病院|事務所)")
_JA_ADDRESSEE = re.compile(r"(様|さま|殿|御中|先生)\s*$")
_EN_DEAR = re.compile(r"^\s*dear\s+(?:(mr|mrs|ms|miss|dr|prof)\.?\s+)?([A-Za-z][A-Za-z .'-]{1,60}?)"
                      r"\s*[,:]?\s*$", re.I)
_UNIT = re.compile(r"\w{0,6}(部|課|室|係|課長|部長|室長|係長|グループ|チーム)")
_OPENERS = re.compile(r"(お世話になって|いつも|お疲れ様|はじめまして|初めまして|突然の|平素)")
_GENERIC_EN = frozenset({"all", "team", "sir", "sirs", "madam", "sir or madam", "colleagues",
                         "customer", "customers", "friends", "everyone", "members",
                         "sir/madam", "valued customer", "partners", "hiring manager"})
_GENERIC_JA = ("各位", "皆様", "皆さま", "みなさま", "ご担当者", "担当者", "関係者", "お客様",
               "ご一同", "会員")


def greeting(text: str) -> tuple[str, ...]:
    """The names a letter's greeting block addresses, each reduced by ``name_key``:
    company lines and ``…様`` lines of a Japanese letter before the opening phrase, or the
    name after ``Dear``. Empty when there is no greeting or it is generic (各位, Dear all):
    unsure means quiet."""
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if ln][:5]
    if not lines:
        return ()
    m = _EN_DEAR.match(lines[0])
    if m:
        name = m.group(2).strip()
        if name.casefold() in _GENERIC_EN:
            return ()
        return (name_key(name.split()[-1] if m.group(1) else name),)
    names: list[str] = []
    for ln in lines:
        if _OPENERS.search(ln) or len(ln) > 40:
            break
        if any(g in ln for g in _GENERIC_JA):
            return ()
        if _JA_ADDRESSEE.search(ln) or _ORG_MARK.search(ln):
            for part in re.split(r"[\s\u3000]+", unicodedata.normalize("NFKC", ln)):
                key = name_key(part)
                if key and len(key) >= 2 and not _UNIT.fullmatch(key):
                    names.append(key)
        else:
            break
    return tuple(dict.fromkeys(names))


def _org_core(key: str) -> str:
    """``株式会社b`` -> ``b``: the company name without its legal form."""
    return _ORG_MARK.sub("", key.replace("(", "").replace(")", "")) or key


def _matches(token: str, texts: Iterable[str]) -> bool:
    core = _org_core(token)
    for text in texts:
        if not text:
            continue
        if core == text or token == text:
            return True
        if len(core) >= 2 and len(text) >= 2 and (core in text or text in core):
            return True
    return False


def salutation_mismatch(ctx: Context) -> Iterator[Finding]:
    if not ctx.content or not ctx.external:
        return

    text = ctx.body.own
    tokens = greeting(text)
    if not tokens:
        return
    h = _history(ctx)
    org = _greeted_company(ctx, h, text)
    if org is _RECIPIENTS_COMPANY:
        return                      # the company greeted is a recipient's, by history
    if isinstance(org, tuple):      # the company greeted is known elsewhere: say so
        addrs = ctx.external_addresses
        from service.i18n import ngettext

        yield ctx.finding("salutation_mismatch", Severity.WARN, addrs, "body",
                          greeting="・".join(tokens) if current_locale() == "ja"
                          else ", ".join(tokens), known=org[0],
                          evidence=ngettext("history.salutation.org_evidence.one",
                                            "history.salutation.org_evidence", org[1],
                                            domain=org[0], n=org[1]))
        return
    known: list[str] = []           # what we know about the recipients, reduced
    for e in ctx.valid:
        known.append(name_key(e.display_name))
        local, _, domain = (e.address or "").partition("@")
        known.append(local.replace(".", "").replace("-", "").replace("_", ""))
        known.extend(label for label in domain.split(".") if len(label) > 2)
        if h is not None:
            known.extend(name_key(n) for n in h.names_for(e.address or ""))
    reduced = [k for k in known if k]
    if any(_matches(tok, reduced) for tok in tokens):
        return
    # Quiet when unsure: alarm only when someone the greeting names is known to be
    # somebody else, or the recipients' own names say who they are (and differ).
    elsewhere = None
    if h is not None:
        for tok in tokens:
            for other, _n in h.addresses_for_name(tok):
                if other not in {e.address for e in ctx.valid}:
                    elsewhere = other
                    break
            if elsewhere:
                break
    named = all(name_key(e.display_name) for e in ctx.external)
    if elsewhere is None and not named:
        return
    addrs = ctx.external_addresses
    yield ctx.finding("salutation_mismatch", Severity.WARN, addrs, "body",
                      greeting="・".join(tokens) if current_locale() == "ja" else ", ".join(tokens),
                      known=elsewhere or "", evidence="")


_RECIPIENTS_COMPANY = object()
MIN_ORG_SEEN = 2        # a company seen with a domain fewer times than this proves nothing


def _greeted_company(ctx: Context, h: HistoryView | None,
                     text: str) -> object | tuple[str, int] | None:
    """What the sender's history says of the companies the greeting names: one of them
    went to a recipient's organisation (``_RECIPIENTS_COMPANY``), or only elsewhere, at
    least ``MIN_ORG_SEEN`` times (``(domain, times)``), or nothing known (None)."""
    lookup = getattr(h, "org_domains", None)
    if lookup is None:
        return None
    from service.policy.domains import registrable_domain
    from service.policy.orgnames import greeting_block_orgs

    companies = greeting_block_orgs(text)
    if not companies:
        return None
    ours = {registrable_domain(e.domain or "") or (e.domain or "") for e in ctx.valid}
    best: tuple[str, int] | None = None
    for key in companies:
        known = list(lookup(key))
        if any(domain in ours for domain, _n in known):
            return _RECIPIENTS_COMPANY
        for domain, n in known:
            if n >= MIN_ORG_SEEN and (best is None or n > best[1]):
                best = (domain, n)
    return best


HISTORY_RULES = (first_time_recipient, new_domain_in_reply, name_address_mismatch,
                 similar_recipient, salutation_mismatch)
