"""The cards a user sees in Gmail, in their locale (SPEC section 5).

Cards summarise, never enumerate without bound: 944 recipients become a handful of domain
lines with counts, long finding lists end in "… and N more", so every card stays within
Google's 100 sections x 100 widgets however large the draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.addon import markup as m
from service.addon.analysis import DomainGroup, domain_groups
from service.addon.confirm import (
    ACK_INPUT,
    MIN_REASON,
    OVERRIDE_INPUT,
    RECIPIENT_INPUT,
    Expectation,
    group_value,
    recipient_value,
)
from service.addon.markup import Act
from service.i18n import N_, _, join_list, ngettext
from service.policy.catalogue import FIELDS as FIELD_NAMES
from service.policy.catalogue import PLACES, SEVERITIES, hint_text
from service.policy.model import FIELDS, Finding, Severity

if TYPE_CHECKING:
    from service.policy.classifier import DomainClassifier
    from service.policy.policyfile import Policy
    from service.policy.rules import Report

Json = dict[str, Any]

FINDINGS_SHOWN = 25             # per severity section
DOMAINS_SHOWN = 25
CANDIDATES_SHOWN = 10
# Text glyphs, not emoji: they render without an emoji font (the simulator, screenshots).
ICON = {Severity.BLOCK: "⊘", Severity.WARN: "⚠", Severity.INFO: "ℹ"}
HOME_CHECKS = (N_("addon.home.check.visible"), N_("addon.home.check.recipients"),
               N_("addon.home.check.content"), N_("addon.home.check.attachments"))
SEVERITY_SECTION = {Severity.BLOCK: N_("addon.section.block"),
                    Severity.WARN: N_("addon.section.warn"),
                    Severity.INFO: N_("addon.section.info")}


def _where(f: Finding) -> str:
    if not f.where:
        return ""
    parts = f.where.split(",")
    if all(p in FIELDS for p in parts):
        return field_names(parts)
    if f.where in ("subject", "body"):
        return _(PLACES[f.where])
    return f.where


def field_names(fields: Sequence[str]) -> str:
    return ", ".join(_(FIELD_NAMES[f]) for f in fields)


def finding_widget(f: Finding) -> Json:
    where = _where(f)
    top = f"{ICON[f.severity]} {_(SEVERITIES[f.severity.value])}"
    if where:
        top += " · " + where
    return m.decorated(f.message, top=top, bottom=hint_text(f.code))


def capped(widgets: list[Json], shown: int) -> list[Json]:
    if len(widgets) <= shown:
        return widgets
    return [*widgets[:shown], m.text(_("addon.more", n=len(widgets) - shown))]


def finding_sections(findings: Sequence[Finding]) -> list[Json]:
    out = []
    for sev in (Severity.BLOCK, Severity.WARN, Severity.INFO):
        group = [f for f in findings if f.severity is sev]
        if group:
            out.append(m.section(
                capped([finding_widget(f) for f in group], FINDINGS_SHOWN),
                _(SEVERITY_SECTION[sev], n=len(group))))
    return out


def domains_section(groups: Sequence[DomainGroup]) -> Json | None:
    external = [g for g in groups if g.external]
    if not external:
        return None
    total = sum(g.count for g in external)
    widgets = [m.decorated(ngettext("addon.domain.count.one", "addon.domain.count", g.count,
                                    fields=field_names(g.field_list())),
                           top=g.domain or "?") for g in external[:DOMAINS_SHOWN]]
    rest = external[DOMAINS_SHOWN:]
    if rest:
        widgets.append(m.text(_("addon.domain.more", n=len(rest),
                                addresses=sum(g.count for g in rest))))
    return m.section(widgets, _("addon.section.domains", d=len(external), n=total),
                     collapsible_after=5)


def _footer(act: Act, **params: str) -> Json:
    return m.footer(m.button(_("addon.button.check_send"), act("check_send", **params)),
                    m.button(_("addon.button.recheck"), act("recheck")))


# --------------------------------------------------------------------------- cards


def homepage_card(policy: Policy, extra: Sequence[Json] = (), *,
                  enforced: bool = False) -> Json:
    """What SendGuard checks and the policy in brief; ``extra`` sections go first (the
    user's recent encrypted attachments). ``enforced``: the organisation rejects mail sent
    without SendGuard (``SENDGUARD_ENFORCE_CHECK_SEND``), said first so users know why
    Gmail's own Send bounced."""
    yes, no = _("addon.home.yes"), _("addon.home.no")
    internal = (join_list(list(policy.internal_domains), limit=10)
                if policy.internal_domains else _("addon.home.policy.none"))
    lines = [
        m.decorated(internal, top=_("addon.home.policy.internal")),
        m.text(_("addon.home.policy.visible", n=policy.max_visible_external)),
        m.text(_("addon.home.policy.orgs", n=policy.max_visible_external_orgs)),
        m.text(_("addon.home.policy.bcc", n=policy.max_bcc)),
        m.text(_("addon.home.policy.encryption",
                 value=yes if policy.require_encryption_external else no)),
    ]
    if policy.required_bcc_external:
        lines.append(m.text(_("addon.home.policy.required_bcc",
                              value=join_list(list(policy.required_bcc_external)))))
    if policy.allow_override:
        lines.append(m.text(_("addon.home.policy.override",
                              value=", ".join(policy.allow_override))))
    checks = [m.text("• " + _(k)) for k in HOME_CHECKS]
    enforcement = [m.section([m.paragraph(_("addon.home.enforced.text"))],
                             _("addon.home.enforced"))] if enforced else []
    return m.card(_("addon.name"), [
        *enforcement,
        *extra,
        m.section(checks, _("addon.home.checks")),
        m.section(lines, _("addon.home.policy")),
        m.section([m.paragraph(_("addon.home.howto.text"))],
                  _("addon.home.howto")),
    ], subtitle=_("addon.home.subtitle"), name="home")


# Findings the one-click "move to Bcc" settles: the buttons go wherever these block.
BCC_FIXABLE = frozenset({"many_visible_recipients", "cross_domain_exposure",
                         "personal_address_visible"})


def fix_widgets(act: Act, intro: str) -> list[Json]:
    return [m.text(_(intro)),
            m.buttons(m.button(_("addon.button.fix_external"), act("fix_external")),
                      m.button(_("addon.button.fix_everyone"), act("fix_everyone")))]


REPLACEABLE = ("name_address_mismatch", "similar_recipient")


def replace_widgets(findings: Sequence[Finding], act: Act) -> list[Json]:
    """One-click "replace with the address you know" for history findings (SPEC 10.2)."""
    out = []
    for f in findings:
        known = f.params.get("replace")
        if f.code in REPLACEABLE and known and len(f.addresses) == 1:
            out.append(m.buttons(m.button(_("history.replace", address=known),
                                          act("fix_replace", address=f.addresses[0],
                                              replace=str(known)))))
    return out


def compose_card(report: Report, cls: DomainClassifier, act: Act, *,
                 notice: str | None = None) -> Json:
    """Findings by severity, one-click Bcc fixes, external recipients by domain;
    ``notice`` on top (what a fix just did)."""
    findings = report.findings
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    if not report.recipients:
        summary = _("addon.compose.empty")
    elif not counts[Severity.BLOCK] and not counts[Severity.WARN]:
        summary = _("addon.compose.ok")
    else:
        summary = _("addon.compose.summary", block=counts[Severity.BLOCK],
                    warn=counts[Severity.WARN])
    sections = [] if counts[Severity.BLOCK] or counts[Severity.WARN] else [
        m.section([m.text(summary)])]
    if notice:
        sections.insert(0, m.section([m.paragraph("<b>" + m.esc(notice) + "</b>")]))
    sections += finding_sections(findings)
    replace = replace_widgets(findings, act)
    if replace:
        sections.append(m.section(replace))
    groups = domain_groups(report.recipients, cls)
    if any(e.address and e.field in ("to", "cc") and not cls.is_internal(e.domain or "")
           for e in report.recipients):
        sections.append(m.section(fix_widgets(act, N_("addon.section.fix.text")),
                                  _("addon.section.fix")))
    dom = domains_section(groups)
    if dom:
        sections.append(dom)
    return m.card(_("addon.compose.title"), sections, subtitle=summary,
                  footer=_footer(act), name="compose")


def _recipient_sections(exp: Expectation) -> list[Json]:
    if exp.quiet:
        return _quiet_recipients(exp)
    if exp.grouped:
        items = []
        for g in exp.groups:
            fields = field_names(g.field_list())
            label = (ngettext("addon.confirm.group.external.one", "addon.confirm.group.external",
                              g.count, domain=g.domain, fields=fields) if g.external else
                     ngettext("addon.confirm.group.one", "addon.confirm.group", g.count,
                              domain=g.domain, fields=fields))
            items.append((label, group_value(g.domain)))
        lists = [m.checkboxes(f"{RECIPIENT_INPUT}_g{i // m.MAX_ITEMS}", "",
                              items[i:i + m.MAX_ITEMS])
                 for i in range(0, len(items), m.MAX_ITEMS)]
        return [m.section(lists, _("addon.confirm.recipients.grouped",
                                   n=exp.recipient_count))]
    out = []
    for external in (True, False):
        items = []
        for g in exp.groups:
            if g.external != external:
                continue
            for a in g.addresses:
                fields = field_names(g.field_list())
                if external:
                    label = _("addon.confirm.recipient.external", address=a,
                              field=fields, domain=g.domain)
                else:
                    label = _("addon.confirm.recipient", address=a, field=fields)
                items.append((label, recipient_value(a)))
        if items:
            key = (N_("addon.confirm.external_section") if external
                   else N_("addon.confirm.internal_section"))
            name = f"{RECIPIENT_INPUT}_{'ext' if external else 'int'}"
            out.append(m.section([m.checkboxes(name, _("addon.confirm.recipients",
                                                       n=exp.recipient_count), items)],
                                 _(key, n=len(items))))
    return out


QUIET_SHOWN = 50     # recipients listed one per line on a quiet card; then by domain


def _quiet_recipients(exp: Expectation) -> list[Json]:
    """SPEC 10.6: nothing interrupts, so the recipients are listed, not ticked; the Send
    button's fingerprint binds the click to exactly this list."""
    lines: list[str] = []
    for g in exp.groups:
        fields = field_names(g.field_list())
        if exp.recipient_count > QUIET_SHOWN:
            lines.append(ngettext("addon.confirm.group.external.one",
                                  "addon.confirm.group.external", g.count, domain=g.domain,
                                  fields=fields) if g.external else
                         ngettext("addon.confirm.group.one", "addon.confirm.group", g.count,
                                  domain=g.domain, fields=fields))
            continue
        for a in g.addresses:
            lines.append(_("addon.confirm.recipient.external", address=a, field=fields,
                           domain=g.domain) if g.external else
                         _("addon.confirm.recipient", address=a, field=fields))
    if not lines:
        return []
    return [m.section([m.text(line) for line in lines],
                      ngettext("addon.confirm.recipients.quiet.one",
                               "addon.confirm.recipients.quiet", exp.recipient_count,
                               n=exp.recipient_count))]


def _attachments_widgets(exp: Expectation, encrypt: Expectation | None,
                         attachments: Sequence[str]) -> list[Json]:
    if not attachments:
        return []
    out = [m.decorated(join_list(list(attachments), limit=10),
                       top=_("addon.confirm.attachments", n=len(attachments)))]
    if encrypt is not None and encrypt.sendable:
        out.append(m.text(_("addon.confirm.encrypt_offer")))
    return out


def _send_footer(exp: Expectation, encrypt: Expectation | None, draft_id: str,
                 act: Act) -> tuple[Json, Json | None]:
    """Footer (primary, secondary) and, when both sends are offered, "Check again" to
    show elsewhere (a footer holds two buttons)."""
    again = m.button(_("addon.button.recheck"), act("check_send", draft_id=draft_id))
    send = m.button(_("addon.button.send"),
                    act("confirm_send", draft_id=draft_id, fp=exp.fingerprint))
    if encrypt is not None and encrypt.sendable:
        enc = m.button(_("addon.button.encrypt_send"),
                       act("encrypt_review", draft_id=draft_id, fp=encrypt.fingerprint))
        if exp.sendable:
            return m.footer(enc, send), again
        return m.footer(enc, again), None
    if exp.sendable:
        return m.footer(send, again), None
    return m.footer(again), None


def confirmation_card(exp: Expectation, report: Report, subject: str, draft_id: str,
                      act: Act, *, notice: str | None = None,
                      encrypt: Expectation | None = None,
                      attachments: Sequence[str] = ()) -> Json:
    """Tick every recipient and warning; give reasons for overrides; then Send (or, with
    attachments, Encrypt & send: ``encrypt`` is what that path must confirm)."""
    intro = [m.decorated(subject or _("addon.confirm.no_subject"),
                         top=_("addon.confirm.subject", subject="").strip())]
    if notice:
        intro.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    if not exp.recipient_count:
        intro.append(m.text(_("addon.confirm.no_recipients")))
    intro += _attachments_widgets(exp, encrypt, attachments)
    foot, extra = _send_footer(exp, encrypt, draft_id, act)
    if extra is not None:
        intro.append(m.buttons(extra))
    sections = [m.section(intro)]
    n_blocks = len(exp.blocked) + sum(len(fs) for fs in exp.overrides.values())
    if exp.blocked:
        blocks = capped([finding_widget(f) for f in exp.blocked], FINDINGS_SHOWN)
        only_encryption = encrypt is not None and not encrypt.blocked
        key = N_("addon.confirm.encrypt_only") if only_encryption else N_("addon.confirm.blocked")
        blocks.append(m.paragraph("<b>" + m.esc(_(key)) + "</b>"))
        if any(f.code in BCC_FIXABLE for f in exp.blocked):
            blocks += fix_widgets(act, N_("addon.confirm.fix"))
        sections.append(m.section(blocks, _("addon.section.block", n=n_blocks)))
    for code, found in exp.overrides.items():
        widgets = capped([finding_widget(f) for f in found], FINDINGS_SHOWN)
        widgets.append(m.text_input(OVERRIDE_INPUT + code,
                                    _("addon.confirm.override", n=MIN_REASON)))
        if code in BCC_FIXABLE:          # fixing beats overriding: offer the Bcc move too
            widgets += fix_widgets(act, N_("addon.confirm.fix"))
        header = None if exp.blocked else _("addon.section.block", n=n_blocks)
        sections.append(m.section(widgets, header))
    if exp.acks:
        items = [(f.message, key) for key, f in exp.acks.items()]
        lists = [m.checkboxes(f"{ACK_INPUT}_{i // m.MAX_ITEMS}", _("addon.confirm.warn"),
                              items[i:i + m.MAX_ITEMS])
                 for i in range(0, len(items), m.MAX_ITEMS)]
        sections.append(m.section(lists, _("addon.section.warn", n=len(items))))
    # SPEC 10.6: info findings are shown, never ticked (a quiet mail is Check & send, Send)
    infos = [f for f in report.findings if f.severity is Severity.INFO]
    if infos:
        sections.append(m.section(capped([finding_widget(f) for f in infos],
                                         FINDINGS_SHOWN),
                                  _("addon.section.info_untick", n=len(infos))))
    sections += _recipient_sections(exp)
    if report.notes:
        sections.append(m.section(capped([m.text(n) for n in report.notes], 20),
                                  _("addon.confirm.notes")))
    return m.card(_("addon.confirm.title"), sections, footer=foot, name="confirm")


def sent_card(recipients: int, *, again: bool = False) -> Json:
    lines = [m.text(_("addon.already_sent") if again else
                    ngettext("addon.sent.text.one", "addon.sent.text", recipients)),
             m.text(_("addon.sent.close"))]
    return m.card(_("addon.sent.title"), [m.section(lines)], name="sent")


def not_saved_card(act: Act) -> Json:
    return m.card(_("addon.draft.not_saved.title"), [m.section([
        m.text(_("addon.draft.not_saved")),
        m.buttons(m.button(_("addon.button.retry"), act("check_send"))),
    ])], name="not_saved")


@dataclass(frozen=True)
class Candidate:
    """One saved draft the pick-card offers: enough to tell two alike drafts apart."""

    draft_id: str
    subject: str
    to: Sequence[str]
    cc: Sequence[str]
    bcc: Sequence[str]
    saved: str                      # the save time, already in the user's zone


def _addresses(values: Sequence[str]) -> str:
    return (join_list(sorted(values), limit=3) if values
            else _("addon.draft.candidate.none"))


def pick_draft_card(candidates: Sequence[Candidate], act: Act) -> Json:
    """Several saved drafts match: one entry per draft with subject, To/Cc/Bcc (Bcc
    named as Bcc) and save time, and a "This one" button."""
    widgets = []
    for c in candidates[:CANDIDATES_SHOWN]:
        lines = [_("addon.draft.candidate.fields", to=_addresses(c.to))]
        if c.cc:
            lines.append(_("addon.draft.candidate.cc", cc=_addresses(c.cc)))
        if c.bcc:
            lines.append(_("addon.draft.candidate.bcc", bcc=_addresses(c.bcc)))
        n = len({a.lower() for a in (*c.to, *c.cc, *c.bcc)})
        widgets.append({"decoratedText": {
            "topLabel": m.esc(ngettext("addon.draft.candidate.one", "addon.draft.candidate", n,
                                       subject=c.subject or _("addon.confirm.no_subject"))),
            "text": "<br>".join(m.esc(line) for line in lines),
            "bottomLabel": m.esc(_("addon.draft.candidate.saved", at=c.saved)),
            "wrapText": True,
            "button": m.button(_("addon.button.pick"),
                               act("check_send", draft_id=c.draft_id)),
        }})
    return m.card(_("addon.draft.ambiguous.title"), [
        m.section([m.text(_("addon.draft.ambiguous"))]),
        m.section(widgets),
    ], name="pick_draft")


SCOPE_PREFIX = "https://www.googleapis.com/auth/"
# What each scope is for, in words (a scope without one is shown as its URL).
SCOPE_TEXTS = {
    "gmail.addons.current.action.compose":
        N_("addon.scopes.scope.gmail.addons.current.action.compose"),
    "gmail.addons.current.message.metadata":
        N_("addon.scopes.scope.gmail.addons.current.message.metadata"),
    "gmail.addons.execute": N_("addon.scopes.scope.gmail.addons.execute"),
    "gmail.compose": N_("addon.scopes.scope.gmail.compose"),
    "script.locale": N_("addon.scopes.scope.script.locale"),
    "userinfo.email": N_("addon.scopes.scope.userinfo.email"),
}


def scopes_card(missing: Sequence[str], grant: Json) -> Json:
    """Granular consent: the user granted only some scopes. Say in words what each
    missing one is for, and offer to ask Google for exactly those."""
    lines = [m.text(_("addon.scopes.missing"))]
    for scope in missing:
        key = SCOPE_TEXTS.get(scope.removeprefix(SCOPE_PREFIX))
        lines.append(m.decorated(_(key) if key else scope, bottom=scope))
    lines.append(m.text(_("addon.scopes.nothing_else")))
    return m.card(_("addon.scopes.title"), [m.section(lines)],
                  footer=m.footer(m.button(_("addon.button.grant"), grant)),
                  name="scopes")


def scopes_granted_card(recheck: Json) -> Json:
    return m.card(_("addon.scopes.title"), [m.section([
        m.text(_("addon.scopes.granted")),
        m.buttons(m.button(_("addon.button.recheck"), recheck)),
    ])], name="scopes_granted")


def error_card(message: str, *, retry: Json | None = None,
               nothing_sent: bool = True) -> Json:
    lines = [m.text(message)]
    if nothing_sent:
        lines.append(m.text(_("addon.error.nothing_sent")))
    if retry is not None:
        lines.append(m.buttons(m.button(_("addon.button.retry"), retry)))
    return m.card(_("addon.error.title"), [m.section(lines)], name="error")
