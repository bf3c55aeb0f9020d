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
from service.i18n import join_list, t
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
SEVERITY_SECTION = {Severity.BLOCK: "addon.section.block", Severity.WARN: "addon.section.warn",
                    Severity.INFO: "addon.section.info"}


def _hint(code: str, locale: str) -> str:
    text = t("hint." + code, locale)
    return text if text != "hint." + code else t("hint.default", locale)


def _where(f: Finding, locale: str) -> str:
    if not f.where:
        return ""
    parts = f.where.split(",")
    if all(p in FIELDS for p in parts):
        return ", ".join(t("field." + p, locale) for p in parts)
    if f.where in ("subject", "body"):
        return t("place." + f.where, locale)
    return f.where


def field_names(fields: Sequence[str], locale: str) -> str:
    return ", ".join(t("field." + f, locale) for f in fields)


def finding_widget(f: Finding, locale: str) -> Json:
    where = _where(f, locale)
    top = f"{ICON[f.severity]} {t('severity.' + f.severity.value, locale)}"
    if where:
        top += " · " + where
    return m.decorated(f.message, top=top, bottom=_hint(f.code, locale))


def capped(widgets: list[Json], shown: int, locale: str) -> list[Json]:
    if len(widgets) <= shown:
        return widgets
    return [*widgets[:shown], m.text(t("addon.more", locale, n=len(widgets) - shown))]


def finding_sections(findings: Sequence[Finding], locale: str) -> list[Json]:
    out = []
    for sev in (Severity.BLOCK, Severity.WARN, Severity.INFO):
        group = [f for f in findings if f.severity is sev]
        if group:
            out.append(m.section(
                capped([finding_widget(f, locale) for f in group], FINDINGS_SHOWN, locale),
                t(SEVERITY_SECTION[sev], locale, n=len(group))))
    return out


def domains_section(groups: Sequence[DomainGroup], locale: str) -> Json | None:
    external = [g for g in groups if g.external]
    if not external:
        return None
    total = sum(g.count for g in external)
    widgets = [m.decorated(t("addon.domain.count", locale, n=g.count,
                             fields=field_names(g.field_list(), locale)),
                           top=g.domain or "?") for g in external[:DOMAINS_SHOWN]]
    rest = external[DOMAINS_SHOWN:]
    if rest:
        widgets.append(m.text(t("addon.domain.more", locale, n=len(rest),
                                addresses=sum(g.count for g in rest))))
    return m.section(widgets, t("addon.section.domains", locale, d=len(external), n=total),
                     collapsible_after=5)


def _footer(act: Act, locale: str, **params: str) -> Json:
    return m.footer(m.button(t("addon.button.check_send", locale), act("check_send", **params)),
                    m.button(t("addon.button.recheck", locale), act("recheck")))


# --------------------------------------------------------------------------- cards


def homepage_card(policy: Policy, locale: str, extra: Sequence[Json] = (), *,
                  enforced: bool = False) -> Json:
    """What SendGuard checks and the policy in brief; ``extra`` sections go first (the
    user's recent encrypted attachments). ``enforced``: the organisation rejects mail sent
    without SendGuard (``SENDGUARD_ENFORCE_CHECK_SEND``), said first so users know why
    Gmail's own Send bounced."""
    yes, no = t("addon.home.yes", locale), t("addon.home.no", locale)
    internal = (join_list(list(policy.internal_domains), locale, limit=10)
                if policy.internal_domains else t("addon.home.policy.none", locale))
    lines = [
        m.decorated(internal, top=t("addon.home.policy.internal", locale)),
        m.text(t("addon.home.policy.visible", locale, n=policy.max_visible_external)),
        m.text(t("addon.home.policy.orgs", locale, n=policy.max_visible_external_orgs)),
        m.text(t("addon.home.policy.bcc", locale, n=policy.max_bcc)),
        m.text(t("addon.home.policy.encryption", locale,
                 value=yes if policy.require_encryption_external else no)),
    ]
    if policy.required_bcc_external:
        lines.append(m.text(t("addon.home.policy.required_bcc", locale,
                              value=join_list(list(policy.required_bcc_external), locale))))
    if policy.allow_override:
        lines.append(m.text(t("addon.home.policy.override", locale,
                              value=", ".join(policy.allow_override))))
    checks = [m.text("• " + t(f"addon.home.check.{k}", locale))
              for k in ("visible", "recipients", "content", "attachments")]
    enforcement = [m.section([m.paragraph(t("addon.home.enforced.text", locale))],
                             t("addon.home.enforced", locale))] if enforced else []
    return m.card(t("addon.name", locale), [
        *enforcement,
        *extra,
        m.section(checks, t("addon.home.checks", locale)),
        m.section(lines, t("addon.home.policy", locale)),
        m.section([m.paragraph(t("addon.home.howto.text", locale))],
                  t("addon.home.howto", locale)),
    ], subtitle=t("addon.home.subtitle", locale), name="home")


# Findings the one-click "move to Bcc" settles: the buttons go wherever these block.
BCC_FIXABLE = frozenset({"many_visible_recipients", "cross_domain_exposure",
                         "personal_address_visible"})


def fix_widgets(act: Act, locale: str, intro: str) -> list[Json]:
    return [m.text(t(intro, locale)),
            m.buttons(m.button(t("addon.button.fix_external", locale), act("fix_external")),
                      m.button(t("addon.button.fix_everyone", locale), act("fix_everyone")))]


REPLACEABLE = ("name_address_mismatch", "similar_recipient")


def replace_widgets(findings: Sequence[Finding], act: Act, locale: str) -> list[Json]:
    """One-click "replace with the address you know" for history findings (SPEC 10.2)."""
    out = []
    for f in findings:
        known = f.params.get("replace")
        if f.code in REPLACEABLE and known and len(f.addresses) == 1:
            out.append(m.buttons(m.button(t("history.replace", locale, address=known),
                                          act("fix_replace", address=f.addresses[0],
                                              replace=str(known)))))
    return out


def compose_card(report: Report, cls: DomainClassifier, locale: str, act: Act, *,
                 notice: str | None = None) -> Json:
    """Findings by severity, one-click Bcc fixes, external recipients by domain;
    ``notice`` on top (what a fix just did)."""
    findings = report.findings
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    if not report.recipients:
        summary = t("addon.compose.empty", locale)
    elif not counts[Severity.BLOCK] and not counts[Severity.WARN]:
        summary = t("addon.compose.ok", locale)
    else:
        summary = t("addon.compose.summary", locale, block=counts[Severity.BLOCK],
                    warn=counts[Severity.WARN])
    sections = [] if counts[Severity.BLOCK] or counts[Severity.WARN] else [
        m.section([m.text(summary)])]
    if notice:
        sections.insert(0, m.section([m.paragraph("<b>" + m.esc(notice) + "</b>")]))
    sections += finding_sections(findings, locale)
    replace = replace_widgets(findings, act, locale)
    if replace:
        sections.append(m.section(replace))
    groups = domain_groups(report.recipients, cls)
    if any(e.address and e.field in ("to", "cc") and not cls.is_internal(e.domain or "")
           for e in report.recipients):
        sections.append(m.section(fix_widgets(act, locale, "addon.section.fix.text"),
                                  t("addon.section.fix", locale)))
    dom = domains_section(groups, locale)
    if dom:
        sections.append(dom)
    return m.card(t("addon.compose.title", locale), sections, subtitle=summary,
                  footer=_footer(act, locale), name="compose")


def _recipient_sections(exp: Expectation, locale: str) -> list[Json]:
    if exp.grouped:
        items = []
        for g in exp.groups:
            key = "addon.confirm.group.external" if g.external else "addon.confirm.group"
            items.append((t(key, locale, domain=g.domain, n=g.count,
                            fields=field_names(g.field_list(), locale)), group_value(g.domain)))
        lists = [m.checkboxes(f"{RECIPIENT_INPUT}_g{i // m.MAX_ITEMS}", "",
                              items[i:i + m.MAX_ITEMS])
                 for i in range(0, len(items), m.MAX_ITEMS)]
        return [m.section(lists, t("addon.confirm.recipients.grouped", locale,
                                   n=exp.recipient_count))]
    out = []
    for external in (True, False):
        items = []
        for g in exp.groups:
            if g.external != external:
                continue
            for a in g.addresses:
                fields = field_names(g.field_list(), locale)
                if external:
                    label = t("addon.confirm.recipient.external", locale, address=a,
                              field=fields, domain=g.domain)
                else:
                    label = t("addon.confirm.recipient", locale, address=a, field=fields)
                items.append((label, recipient_value(a)))
        if items:
            key = "addon.confirm.external_section" if external else "addon.confirm.internal_section"
            name = f"{RECIPIENT_INPUT}_{'ext' if external else 'int'}"
            out.append(m.section([m.checkboxes(name, t("addon.confirm.recipients", locale,
                                                       n=exp.recipient_count), items)],
                                 t(key, locale, n=len(items))))
    return out


def _attachments_widgets(exp: Expectation, encrypt: Expectation | None,
                         attachments: Sequence[str], locale: str) -> list[Json]:
    if not attachments:
        return []
    out = [m.decorated(join_list(list(attachments), locale, limit=10),
                       top=t("addon.confirm.attachments", locale, n=len(attachments)))]
    if encrypt is not None and encrypt.sendable:
        out.append(m.text(t("addon.confirm.encrypt_offer", locale)))
    return out


def _send_footer(exp: Expectation, encrypt: Expectation | None, draft_id: str, locale: str,
                 act: Act) -> tuple[Json, Json | None]:
    """Footer (primary, secondary) and, when both sends are offered, "Check again" to
    show elsewhere (a footer holds two buttons)."""
    again = m.button(t("addon.button.recheck", locale), act("check_send", draft_id=draft_id))
    send = m.button(t("addon.button.send", locale),
                    act("confirm_send", draft_id=draft_id, fp=exp.fingerprint))
    if encrypt is not None and encrypt.sendable:
        enc = m.button(t("addon.button.encrypt_send", locale),
                       act("encrypt_review", draft_id=draft_id, fp=encrypt.fingerprint))
        if exp.sendable:
            return m.footer(enc, send), again
        return m.footer(enc, again), None
    if exp.sendable:
        return m.footer(send, again), None
    return m.footer(again), None


def confirmation_card(exp: Expectation, report: Report, subject: str, draft_id: str,
                      locale: str, act: Act, *, notice: str | None = None,
                      encrypt: Expectation | None = None,
                      attachments: Sequence[str] = ()) -> Json:
    """Tick every recipient and warning; give reasons for overrides; then Send (or, with
    attachments, Encrypt & send: ``encrypt`` is what that path must confirm)."""
    intro = [m.decorated(subject or t("addon.confirm.no_subject", locale),
                         top=t("addon.confirm.subject", locale, subject="").strip())]
    if notice:
        intro.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    if not exp.recipient_count:
        intro.append(m.text(t("addon.confirm.no_recipients", locale)))
    intro += _attachments_widgets(exp, encrypt, attachments, locale)
    foot, extra = _send_footer(exp, encrypt, draft_id, locale, act)
    if extra is not None:
        intro.append(m.buttons(extra))
    sections = [m.section(intro)]
    n_blocks = len(exp.blocked) + sum(len(fs) for fs in exp.overrides.values())
    if exp.blocked:
        blocks = capped([finding_widget(f, locale) for f in exp.blocked], FINDINGS_SHOWN,
                         locale)
        only_encryption = encrypt is not None and not encrypt.blocked
        key = "addon.confirm.encrypt_only" if only_encryption else "addon.confirm.blocked"
        blocks.append(m.paragraph("<b>" + m.esc(t(key, locale)) + "</b>"))
        if any(f.code in BCC_FIXABLE for f in exp.blocked):
            blocks += fix_widgets(act, locale, "addon.confirm.fix")
        sections.append(m.section(blocks, t("addon.section.block", locale, n=n_blocks)))
    for code, found in exp.overrides.items():
        widgets = capped([finding_widget(f, locale) for f in found], FINDINGS_SHOWN, locale)
        widgets.append(m.text_input(OVERRIDE_INPUT + code,
                                    t("addon.confirm.override", locale, n=MIN_REASON)))
        if code in BCC_FIXABLE:          # fixing beats overriding: offer the Bcc move too
            widgets += fix_widgets(act, locale, "addon.confirm.fix")
        header = None if exp.blocked else t("addon.section.block", locale, n=n_blocks)
        sections.append(m.section(widgets, header))
    if exp.acks:
        items = [(f.message, key) for key, f in exp.acks.items()]
        lists = [m.checkboxes(f"{ACK_INPUT}_{i // m.MAX_ITEMS}", t("addon.confirm.warn", locale),
                              items[i:i + m.MAX_ITEMS])
                 for i in range(0, len(items), m.MAX_ITEMS)]
        sections.append(m.section(lists, t("addon.section.warn", locale, n=len(items))))
    # SPEC 10.6: info findings are shown, never ticked (a quiet mail is Check & send, Send)
    infos = [f for f in report.findings if f.severity is Severity.INFO]
    if infos:
        sections.append(m.section(capped([finding_widget(f, locale) for f in infos],
                                         FINDINGS_SHOWN, locale),
                                  t("addon.section.info_untick", locale, n=len(infos))))
    sections += _recipient_sections(exp, locale)
    if report.notes:
        sections.append(m.section(capped([m.text(n) for n in report.notes], 20, locale),
                                  t("addon.confirm.notes", locale)))
    return m.card(t("addon.confirm.title", locale), sections, footer=foot, name="confirm")


def sent_card(recipients: int, locale: str, *, again: bool = False) -> Json:
    lines = [m.text(t("addon.already_sent" if again else "addon.sent.text", locale,
                      n=recipients)),
             m.text(t("addon.sent.close", locale))]
    return m.card(t("addon.sent.title", locale), [m.section(lines)], name="sent")


def not_saved_card(locale: str, act: Act) -> Json:
    return m.card(t("addon.draft.not_saved.title", locale), [m.section([
        m.text(t("addon.draft.not_saved", locale)),
        m.buttons(m.button(t("addon.button.retry", locale), act("check_send"))),
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


def _addresses(values: Sequence[str], locale: str) -> str:
    return (join_list(sorted(values), locale, limit=3) if values
            else t("addon.draft.candidate.none", locale))


def pick_draft_card(candidates: Sequence[Candidate], locale: str, act: Act) -> Json:
    """Several saved drafts match: one entry per draft with subject, To/Cc/Bcc (Bcc
    named as Bcc) and save time, and a "This one" button."""
    widgets = []
    for c in candidates[:CANDIDATES_SHOWN]:
        lines = [t("addon.draft.candidate.fields", locale, to=_addresses(c.to, locale))]
        if c.cc:
            lines.append(t("addon.draft.candidate.cc", locale, cc=_addresses(c.cc, locale)))
        if c.bcc:
            lines.append(t("addon.draft.candidate.bcc", locale, bcc=_addresses(c.bcc, locale)))
        n = len({a.lower() for a in (*c.to, *c.cc, *c.bcc)})
        widgets.append({"decoratedText": {
            "topLabel": m.esc(t("addon.draft.candidate", locale,
                                subject=c.subject or t("addon.confirm.no_subject", locale),
                                n=n)),
            "text": "<br>".join(m.esc(line) for line in lines),
            "bottomLabel": m.esc(t("addon.draft.candidate.saved", locale, at=c.saved)),
            "wrapText": True,
            "button": m.button(t("addon.button.pick", locale),
                               act("check_send", draft_id=c.draft_id)),
        }})
    return m.card(t("addon.draft.ambiguous.title", locale), [
        m.section([m.text(t("addon.draft.ambiguous", locale))]),
        m.section(widgets),
    ], name="pick_draft")


SCOPE_PREFIX = "https://www.googleapis.com/auth/"


def scopes_card(missing: Sequence[str], locale: str, grant: Json) -> Json:
    """Granular consent: the user granted only some scopes. Say in words what each
    missing one is for, and offer to ask Google for exactly those."""
    lines = [m.text(t("addon.scopes.missing", locale))]
    for scope in missing:
        key = "addon.scopes.scope." + scope.removeprefix(SCOPE_PREFIX)
        label = t(key, locale)
        lines.append(m.decorated(label if label != key else scope, bottom=scope))
    lines.append(m.text(t("addon.scopes.nothing_else", locale)))
    return m.card(t("addon.scopes.title", locale), [m.section(lines)],
                  footer=m.footer(m.button(t("addon.button.grant", locale), grant)),
                  name="scopes")


def scopes_granted_card(locale: str, recheck: Json) -> Json:
    return m.card(t("addon.scopes.title", locale), [m.section([
        m.text(t("addon.scopes.granted", locale)),
        m.buttons(m.button(t("addon.button.recheck", locale), recheck)),
    ])], name="scopes_granted")


def error_card(message: str, locale: str, *, retry: Json | None = None,
               nothing_sent: bool = True) -> Json:
    lines = [m.text(message)]
    if nothing_sent:
        lines.append(m.text(t("addon.error.nothing_sent", locale)))
    if retry is not None:
        lines.append(m.buttons(m.button(t("addon.button.retry", locale), retry)))
    return m.card(t("addon.error.title", locale), [m.section(lines)], name="error")
