"""The checks of SPEC section 2: one function per finding code over a parsed draft.

``analyze`` parses the recipient entries once, classifies each distinct domain once
(``DomainClassifier`` caches), inspects each attachment once, then runs the rules. All
pure: no Flask, network or database.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from operator import attrgetter

from service.i18n import _, current_locale, join_list, using
from service.policy.addresses import Entry, parse_field
from service.policy.catalogue import FIELDS as FIELDS_TEXT
from service.policy.catalogue import KINDS, NOTES, PLACES, PROTECTIONS, REASONS
from service.policy.classifier import DomainClassifier
from service.policy.context import Context, HistoryView
from service.policy.deadline import Deadline
from service.policy.domains import registrable_domain, to_unicode
from service.policy.exposure import (
    history_evidence,
    quiet_bounded,
    shown_with_all,
    thread_evidence,
)
from service.policy.extract import (
    Inspection,
    Limits,
    blocked_name,
    html_text,
    inspect_attachment,
)
from service.policy.history import HISTORY_RULES
from service.policy.model import FIELDS, Draft, Finding, Severity
from service.policy.personal_data import PersonalData, scan_text
from service.policy.policyfile import Policy
from service.policy.thread import keys_of, seen_together

# Bound on the output (issue 9: a 5 MB To header gave a million findings): findings per
# code (addresses listed in one finding: ``context.MAX_LISTED_ADDRESSES``).
MAX_FINDINGS_PER_CODE = 1000
# Draft notes (service.policy.mimeparse) that mean part of the message was not checked.
UNCHECKED_MESSAGE = frozenset({"mime_too_many_parts", "mime_too_deep", "body_truncated",
                               "header_truncated", "too_many_recipients"})


@dataclass
class Report:
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)          # rendered in the language
    recipients: list[Entry] = field(default_factory=list)   # every parsed entry, in order

    @property
    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    @property
    def interrupts(self) -> bool:
        """SPEC 10.6: the sender must stop for this mail (any ``warn`` or ``block``)."""
        return any(f.severity is not Severity.INFO for f in self.findings)


def classifier_for(policy: Policy) -> DomainClassifier:
    return DomainClassifier(policy.internal_domains, policy.trusted_domains,
                            policy.personal_domains, policy.blocked_domains,
                            policy.caution_domains)


def analyze(draft: Draft, policy: Policy, *, locale: str | None = None,
            classifier: DomainClassifier | None = None, content: bool = True,
            limits: Limits | None = None, deadline: Deadline | None = None,
            unchecked: str | None = None, history: HistoryView | None = None) -> Report:
    """Every finding for ``draft``. ``content=False`` skips attachment contents (the
    compose trigger only sees recipients and metadata).

    Content work ends by ``deadline`` (default: ``attachments.check_deadline`` from now):
    reading attachments may use 60% of it, the personal-data scans the rest; whatever
    was not reached is noted and reported as ``incomplete_check``. ``unchecked`` (a note
    code: why) reports the contents as not checked at all (the add-on's pool was busy or
    its analysis failed). ``history`` adds the checks of SPEC 10.2
    (``policy.history_enabled`` turns them off). Texts are in the current language
    (``service.i18n``), or in ``locale`` when given."""
    if locale is not None:
        with using(locale):
            return analyze(draft, policy, classifier=classifier, content=content,
                           limits=limits, deadline=deadline, unchecked=unchecked,
                           history=history)
    deadline = deadline or Deadline(policy.check_deadline)
    if unchecked is not None:
        content = False
    entries = [e for name in FIELDS for e in parse_field(draft.entries(name), name)]
    ctx = Context(draft, policy, classifier or classifier_for(policy), entries, {},
                  content, deadline, history=history)
    notes: list[str] = [_note(n) for n in draft.notes]
    if unchecked is not None:
        ctx.skipped = True
        notes.append(_note(f"{unchecked}:"))
    if content:
        lim = limits or Limits()
        reading = deadline.share(0.6)
        for i, att in enumerate(draft.attachments):
            ins = inspect_attachment(att.filename, att.content_type, att.data, lim, reading)
            ctx.inspections[i] = ins
            notes.extend(_note(n) for n in ins.notes)
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(_capped(rule(ctx), notes))
    notes.extend(_note(f"deadline:{place}") for place in sorted(ctx.unchecked))
    findings = escalate(findings, ctx)
    findings.sort(key=lambda f: -f.severity.rank)   # stable: rule order within a severity
    return Report(findings, notes, entries)


def _capped(found: Iterable[Finding], notes: list[str]) -> list[Finding]:
    """At most ``MAX_FINDINGS_PER_CODE`` findings of one rule; the rest becomes a note."""
    kept: list[Finding] = []
    more = 0
    for f in found:
        if len(kept) < MAX_FINDINGS_PER_CODE:
            kept.append(f)
        else:
            more += 1
    if more:
        notes.append(_("note.more_findings", n=more, code=kept[0].code))
    return kept


def _note(note: str) -> str:
    code, _sep, path = note.partition(":")
    if code in NOTES:
        return _(NOTES[code], path=path)
    return _("note.other", path=path, code=code)


_ADDRESS = attrgetter("address")     # of valid entries: never None
_FIELD = attrgetter("field")


def _where(entries: Iterable[Entry]) -> str | None:
    fields = sorted(set(map(_FIELD, entries)), key=FIELDS.index)
    return ",".join(fields) if fields else None


def _unique(addresses: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(addresses))


# --- recipients --------------------------------------------------------------------

def external_recipients(ctx: Context) -> Iterator[Finding]:
    ext = ctx.external
    if not ext:
        return
    by_domain = {d: len(set(map(_ADDRESS, es))) for d, es in ctx.external_by_domain.items()}
    ranked = sorted(by_domain.items(), key=lambda kv: (-kv[1], kv[0]))
    domains = join_list([f"{d} ({n})" for d, n in ranked])
    addrs = ctx.external_addresses
    yield ctx.finding("external_recipients", Severity.INFO, addrs, _where(ext),
                      n=len(addrs), d=len(by_domain), domains=domains,
                      by_domain=dict(ranked))


def many_visible_recipients(ctx: Context) -> Iterator[Finding]:
    visible = ctx.visible
    if len(visible) <= ctx.policy.max_visible_external:
        return      # fewer entries than the limit: fewer distinct addresses too
    addrs = _unique(map(_ADDRESS, visible))
    if len(addrs) > ctx.policy.max_visible_external:
        yield ctx.finding("many_visible_recipients", Severity.BLOCK, addrs, _where(visible),
                          n=len(addrs), limit=ctx.policy.max_visible_external)


def cross_domain_exposure(ctx: Context) -> Iterator[Finding]:
    """SPEC 2 / 10.6: external organisations newly visible to each other in To+Cc.
    Trusted partners' organisations do not count, nor two addresses an earlier message of
    the thread (its quoted header) already showed together."""
    visible = ctx.visible
    cls = ctx.classifier
    # per domain: its organisation; "" for trusted partners, None for personal providers
    org_of = {d: "" if cls.is_trusted(d) else None if cls.is_personal(d)
              else registrable_domain(d) for d in ctx.external_by_domain}
    orgs: dict[str, list[Entry]] = defaultdict(list)
    for e in visible:
        org = org_of[e.domain or ""]
        if org != "":
            orgs[org or (e.address or "")].append(e)
    limit = ctx.policy.max_visible_external_orgs
    if len(orgs) <= limit:
        return
    # quoted headers, attribution, the reply's author; the sender's history
    earlier = thread_evidence(ctx) + history_evidence(ctx, visible)
    if earlier:
        keys = {o: [keys_of(e.address or "", e.display_name) for e in es]
                for o, es in orgs.items()}
        names = sorted(orgs)
        new: set[str] = set()
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                # organisations already shown to each other in the thread
                if not any(seen_together(ka, kb, earlier, reply=ctx.draft.reply)
                           for ka in keys[a] for kb in keys[b]):
                    new.update((a, b))
        orgs = {o: es for o, es in orgs.items() if o in new}
        if len(orgs) <= limit:
            return
    shown = [e for es in orgs.values() for e in es]
    yield ctx.finding("cross_domain_exposure", Severity.WARN,
                      _unique(map(_ADDRESS, shown)),
                      _where(shown), n=len(orgs), limit=limit,
                      orgs=join_list(sorted(orgs)))


def personal_address_visible(ctx: Context) -> Iterator[Finding]:
    ext = ctx.external
    personal = {d: ctx.classifier.is_personal(d, es[0].address)
                for d, es in ctx.external_by_domain.items()}
    exposed = [e for e in ctx.visible if personal[e.domain or ""]]
    # someone else sees it when any other distinct external address exists
    flagged = exposed if exposed and len(ctx.external_addresses) > 1 else []
    if flagged and quiet_bounded(flagged, ext):
        # SPEC 10.6: the thread (or the sender's own earlier mail) already showed it
        earlier = thread_evidence(ctx) + history_evidence(ctx, ext)
        if earlier:
            flagged = [e for e in flagged
                       if not shown_with_all(e, ext, earlier, reply=ctx.draft.reply)]
    if flagged:
        addrs = _unique(e.address or "" for e in flagged)
        yield ctx.finding("personal_address_visible", Severity.WARN, addrs, _where(flagged),
                          n=len(addrs), names=join_list(addrs))


def many_bcc_recipients(ctx: Context) -> Iterator[Finding]:
    bcc = _unique([e.address or "" for e in ctx.valid if e.field == "bcc"])
    if len(bcc) > ctx.policy.max_bcc:
        yield ctx.finding("many_bcc_recipients", Severity.WARN, bcc, "bcc", n=len(bcc),
                          limit=ctx.policy.max_bcc)


def invalid_address(ctx: Context) -> Iterator[Finding]:
    for e in ctx.entries:
        if e.problem is None:
            continue
        raw = e.raw.replace("\r", "\\r").replace("\n", "\\n")
        if len(raw) > 120:
            raw = raw[:117] + "..."
        shown, target = (e.found[0], e.found[-1]) if e.found else ("", "")
        yield ctx.finding("invalid_address", Severity.BLOCK, e.found, e.field,
                          field=_(FIELDS_TEXT[e.field]), raw=raw,
                          reason=_(REASONS[e.problem or "syntax"], shown=shown,
                                   target=target), problem=e.problem)


def lookalike_domain(ctx: Context) -> Iterator[Finding]:
    by_domain: dict[tuple[str, str], list[Entry]] = {}
    cls = ctx.classifier
    for d, es in ctx.external_by_domain.items():
        like = None if cls.is_trusted(d) else cls.lookalike(d)
        if like:
            by_domain[(d, like)] = es
    for (d, like), group in by_domain.items():
        shown = to_unicode(d)
        yield ctx.finding("lookalike_domain", Severity.WARN,
                          _unique(e.address or "" for e in group), _where(group),
                          domain=shown if shown == d else f"{shown} ({d})", like=like)


def _listed(ctx: Context, code: str, severity: Severity,
            listed: Callable[[str, str], bool]) -> Iterator[Finding]:
    """One finding for the recipients a policy list matches (blocked or caution)."""
    hit = [e for e in ctx.valid if listed(e.address or "", e.domain or "")]
    if hit:
        addrs = _unique(e.address or "" for e in hit)
        yield ctx.finding(code, severity, addrs, _where(hit),
                          names=join_list(addrs))


def blocked_recipient(ctx: Context) -> Iterator[Finding]:
    if ctx.policy.blocked_domains:
        yield from _listed(ctx, "blocked_recipient", Severity.BLOCK, ctx.classifier.is_blocked)


def caution_recipient(ctx: Context) -> Iterator[Finding]:
    if ctx.policy.caution_domains:
        yield from _listed(ctx, "caution_recipient", Severity.WARN, ctx.classifier.is_caution)


def missing_required_bcc(ctx: Context) -> Iterator[Finding]:
    if not ctx.policy.required_bcc_external or not ctx.external:
        return
    from service.policy.patterns import PatternList, compile_pattern

    bcc = [e for e in ctx.valid if e.field == "bcc"]
    missing = []
    for entry in ctx.policy.required_bcc_external:
        p = compile_pattern(entry)
        if p.exclude:
            continue
        one = PatternList([p])
        if not any(one.matches(e.address or "", e.domain or "") for e in bcc):
            missing.append(p.exact or entry)
    if missing:
        yield ctx.finding("missing_required_bcc", Severity.BLOCK, missing, "bcc",
                          missing=join_list(missing))


# --- content -----------------------------------------------------------------------

def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _body(draft: Draft) -> str:
    return draft.text + ("\n" + html_text(draft.html) if draft.html else "")


def confidential_keyword(ctx: Context) -> Iterator[Finding]:
    """SPEC 2 / 10.6: in the subject, what the sender adds to the body (content_text) or
    an attachment's name."""
    if not ctx.external or not ctx.policy.confidential_keywords:
        return
    keywords = [(k, _fold(k)) for k in ctx.policy.confidential_keywords]
    places: list[tuple[str, str, str]] = [
        ("subject", _("place.subject"), ctx.draft.subject),
        ("body", _("place.body"), ctx.content_text),
    ]
    for att in ctx.draft.attachments:
        places.append((att.filename, _("place.attachment_name",
                                       name=att.filename).strip(), att.filename))
    recipients: list[str] | None = None
    for where, place, text in places:
        folded = _fold(text)
        hits = [k for k, fk in keywords if fk and fk in folded]
        if hits:
            if recipients is None:
                recipients = ctx.external_addresses
            yield ctx.finding("confidential_keyword", Severity.WARN, recipients, where,
                              keyword="」「".join(hits) if current_locale() == "ja"
                              else '", "'.join(hits), place=place)


def _keyword_places(ctx: Context) -> list[tuple[str, str, str]]:
    places: list[tuple[str, str, str]] = [
        ("subject", _("place.subject"), ctx.draft.subject),
        ("body", _("place.body"), _body(ctx.draft)),
    ]
    for att in ctx.draft.attachments:
        places.append((att.filename, _("place.attachment_name",
                                       name=att.filename).strip(), att.filename))
    return places


def blocked_keyword(ctx: Context) -> Iterator[Finding]:
    """SPEC 10.1: a blocked keyword blocks while anyone is external (always with
    ``content.check_internal``)."""
    if not ctx.policy.blocked_keywords:
        return
    if not ctx.external and not (ctx.policy.check_internal and ctx.valid):
        return
    keywords = [(k, _fold(k)) for k in ctx.policy.blocked_keywords]
    recipients = _unique(e.address or "" for e in (ctx.external or ctx.valid))
    for where, place, text in _keyword_places(ctx):
        folded = _fold(text)
        hits = [k for k, fk in keywords if fk and fk in folded]
        if hits:
            yield ctx.finding("blocked_keyword", Severity.BLOCK, recipients, where,
                              keyword="」「".join(hits) if current_locale() == "ja"
                              else '", "'.join(hits), place=place)


def missing_attachment(ctx: Context) -> Iterator[Finding]:
    """The subject or the sender's own text says a file is attached, and none is.

    Only when the whole draft was read (the compose trigger does not see attachments)."""
    if not ctx.content or ctx.draft.attachments:
        return
    from service.policy.wording import mentions_attachment

    for where, text in (("subject", ctx.draft.subject), ("body", ctx.body.own)):
        phrase = mentions_attachment(text, subject=where == "subject")
        if phrase:
            yield ctx.finding("missing_attachment", Severity.WARN, (), where,
                              phrase=phrase, place=_(PLACES[where]))
            return


PROTECTION_KINDS = ("zip", "office", "pdf")


def password_zip_attached(ctx: Context) -> Iterator[Finding]:
    """The sender's own password-protected file: the password would follow by mail (PPAP)."""
    if not ctx.draft.attachments:
        return
    from service.policy.encryption import protection

    recipients = ctx.external_addresses
    for i, att in enumerate(ctx.draft.attachments):
        if not att.data:
            continue
        kind = protection(att.filename, att.data)
        if kind is None:
            ins = ctx.inspections.get(i)
            if ins is None or not ins.encrypted:
                continue
            kind = "zip" if att.filename.lower().endswith(".zip") else "office"
        yield ctx.finding("password_zip_attached", Severity.WARN, recipients, att.filename,
                          name=att.filename, kind=_(PROTECTIONS[kind]))


def large_attachment(ctx: Context) -> Iterator[Finding]:
    limit = ctx.policy.max_total_size
    total = sum(a.size for a in ctx.draft.attachments)
    if ctx.draft.attachments and total > limit:
        yield ctx.finding("large_attachment", Severity.INFO, (), None,
                          size=_size(total), limit=_size(limit), n=len(ctx.draft.attachments))


def _size(n: int) -> str:
    for unit, div in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= div:
            v = n / div
            return f"{v:.1f} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{n} B"


def personal_data(ctx: Context) -> Iterator[Finding]:
    if not ctx.external or ctx.skipped:
        return
    threshold = max(1, ctx.policy.personal_data_threshold)
    sources: list[tuple[str, str, Callable[[], PersonalData], bool]] = [
        ("body", _("place.body"),
         lambda: scan_text(ctx.content_text, ctx.deadline),
         any(n.partition(":")[0] in UNCHECKED_MESSAGE for n in ctx.draft.notes))]
    for i, att in enumerate(ctx.draft.attachments):
        ins = ctx.inspections.get(i)
        if ins is None or not ins.texts:
            continue
        sources.append((att.filename, _("place.attachment",
                                        name=att.filename).strip(),
                        lambda ins=ins: _scan_all(ins, ctx.deadline),   # type: ignore[misc]
                        ins.partial or ins.enough))
    recipients: list[str] | None = None
    for where, place, scan, cut in sources:
        found = scan()
        if found.partial:
            ctx.unchecked.add(where)
        if found.total >= threshold:
            if recipients is None:
                recipients = ctx.external_addresses
            counts = found.summary()
            kinds = join_list([_(KINDS[k], n=n) for k, n in counts.items() if n])
            partial = cut or found.partial
            f = ctx.finding("personal_data", Severity.WARN, recipients, where,
                            total=found.total, place=place, kinds=kinds, counts=counts,
                            partial=partial)
            if partial:   # what was read is a lower bound: say so
                f = replace(f, message=ctx.msg("personal_data_partial", **f.params))
            yield f


def _scan_all(ins: Inspection, deadline: Deadline) -> PersonalData:
    if ins.found is not None:   # scanned while it was read (extract.Limits.enough)
        return ins.found
    total = scan_text("")
    for _path, text in ins.texts:
        total.merge(scan_text(text, deadline))
    return total


def incomplete_check(ctx: Context) -> Iterator[Finding]:
    """Never a silent pass: each attachment (and the message itself) whose content was
    not read to the end — a size or page limit, the deadline, damage, a structure past
    the parser's caps — is named. Recipients beyond the parser's cap were never checked
    at all: that blocks."""
    severity = Severity.WARN if ctx.external else Severity.INFO
    for i, att in enumerate(ctx.draft.attachments):
        ins = ctx.inspections.get(i)
        if ctx.skipped or (ins is not None and (ins.partial or att.filename in ctx.unchecked)):
            yield ctx.finding("incomplete_check", severity, (), att.filename,
                              place=_("place.attachment",
                                      name=att.filename).strip())
    codes = {n.partition(":")[0] for n in ctx.draft.notes}
    if "too_many_recipients" in codes:
        yield ctx.finding("incomplete_check", Severity.BLOCK, (), _where(ctx.entries),
                          place=_("place.recipients"))
    elif codes & UNCHECKED_MESSAGE or "body" in ctx.unchecked or ctx.skipped:
        yield ctx.finding("incomplete_check", severity, (), "body",
                          place=_("place.message"))


def unencrypted_attachment(ctx: Context) -> Iterator[Finding]:
    """SPEC 10.6: ``info`` by default (``escalate`` raises it), ``warn`` with
    ``attachments.warn_unencrypted``, ``block`` with ``require_encryption_external``."""
    if not ctx.external or not ctx.draft.attachments:
        return
    severity = (Severity.BLOCK if ctx.policy.require_encryption_external
                else Severity.WARN if ctx.policy.warn_unencrypted else Severity.INFO)
    recipients = ctx.external_addresses
    for i, att in enumerate(ctx.draft.attachments):
        ins = ctx.inspections.get(i)
        encrypted = ins.encrypted if ins is not None else _is_encrypted(att.filename, att.data)
        if not encrypted:
            yield ctx.finding("unencrypted_attachment", severity, recipients, att.filename,
                              name=att.filename)


# SPEC 10.6: an unencrypted attachment warns when another finding concerns the same
# attachment, or concerns an external recipient. Codes by name: the history codes
# (SPEC 10.2) plug in as soon as a rule produces them.
SAME_ATTACHMENT = frozenset({"personal_data", "confidential_keyword", "blocked_keyword"})
RISKY_RECIPIENT = frozenset({"lookalike_domain", "caution_recipient", "first_time_recipient",
                             "similar_recipient", "name_address_mismatch"})


def escalate(findings: list[Finding], ctx: Context) -> list[Finding]:
    from dataclasses import replace

    quiet = [f for f in findings
             if f.code == "unencrypted_attachment" and f.severity is Severity.INFO]
    if not quiet:
        return findings
    external = {e.address for e in ctx.external}
    risky = [f for f in findings if f.code in RISKY_RECIPIENT
             and any(a in external for a in f.addresses)]
    out = []
    for f in findings:
        if f in quiet:
            why = [g.code for g in findings
                   if g.code in SAME_ATTACHMENT and g.where == f.where] + [
                g.code for g in risky]
            if why:
                f = replace(f, severity=Severity.WARN,
                            params={**f.params, "because": tuple(dict.fromkeys(why))})
        out.append(f)
    return out


def _is_encrypted(filename: str, data: bytes) -> bool:
    from service.policy.extract import is_encrypted

    return is_encrypted(filename, data)


def blocked_attachment(ctx: Context) -> Iterator[Finding]:
    exts = ctx.policy.blocked_extensions
    if not exts:
        return
    for i, att in enumerate(ctx.draft.attachments):
        names = [att.filename]
        ins = ctx.inspections.get(i)
        if ins is not None:
            names.extend(ins.members)
        for name in names:
            ext = blocked_name(name, exts)
            if ext:
                yield ctx.finding("blocked_attachment", Severity.BLOCK, (), att.filename,
                                  name=name, ext=ext)
                break


RULES: tuple[Callable[[Context], Iterator[Finding]], ...] = (
    invalid_address,
    blocked_recipient,
    many_visible_recipients,
    missing_required_bcc,
    blocked_attachment,
    unencrypted_attachment,
    cross_domain_exposure,
    personal_address_visible,
    lookalike_domain,
    caution_recipient,
    many_bcc_recipients,
    confidential_keyword,
    blocked_keyword,
    personal_data,
    password_zip_attached,
    missing_attachment,
    large_attachment,
    *HISTORY_RULES,
    incomplete_check,
    external_recipients,
)
