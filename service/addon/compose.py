"""The compose trigger's check (recipients only, as Gmail shares them) and the Bcc fixes.

A fix answers with the draft update *and* the re-checked card in one response, so the
panel never shows the old block after the recipients moved. A Bcc list the sender just
made with SendGuard's own "move to Bcc" does not raise ``many_bcc_recipients`` (they meant
it): the fix records a digest of the Bcc list it produced, and a later check of the same
list by the same sender drops that one warning. Any other Bcc list keeps it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from service.addon import cards, markup
from service.addon.analysis import analyze, classifier, draft_from_event
from service.addon.event import AddonEvent
from service.addon.fixes import move_everyone, move_external
from service.i18n import _, ngettext
from service.policy.model import FIELDS, Draft
from service.services import services

if TYPE_CHECKING:
    from collections.abc import Iterable

    from service.addon.markup import Act
    from service.auth import Caller
    from service.policy.model import Finding
    from service.policy.rules import Report

log = logging.getLogger(__name__)

OWN_BCC_CODE = "many_bcc_recipients"
OWN_BCC_VALID = timedelta(hours=24)


def audit(actor: str, action: str, *, required: bool = False, **kwargs: Any) -> None:
    """Append an audit event; unless ``required``, a failing store is logged, not fatal."""
    sv = services()
    try:
        sv.store.append_audit(actor, action, now=sv.clock(), **kwargs)
    except Exception:
        if required:
            raise
        log.exception("audit %s not recorded", action)


def shown(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """What a card showed, for the audit log: codes, places and address counts."""
    return [{"code": f.code, "severity": f.severity.value, "where": f.where,
             "addresses": len(f.addresses)} for f in findings]


def compose_card(caller: Caller, event: AddonEvent, act: Act) -> dict[str, Any]:
    sv = services()
    policy = sv.policy
    # A live preview, redrawn on every open and re-check: not audited (the confirmation
    # card of Check & send is, with everything the sender decided there).
    from service.addon.history import sender_history

    report = analyze(draft_from_event(event, caller.user_email), policy,
                     content=False, history=sender_history(caller.user_email))
    report = unflag_own_bcc(report, caller.user_email)
    return cards.compose_card(report, classifier(policy), act)


def bcc_digest(addresses: Iterable[str]) -> str:
    """A digest of a Bcc list (valid addresses, case-folded, as a set): equal lists only."""
    h = hashlib.sha256(b"sendguard.own-bcc.v1\x00")
    for a in sorted({str(a).lower() for a in addresses}):
        h.update(a.encode("utf-8", "surrogatepass") + b"\x00")
    return h.hexdigest()


def _report_bcc(report: Report) -> list[str]:
    return [e.address for e in report.recipients if e.field == "bcc" and e.address]


def own_bcc_digests(user: str) -> set[str]:
    """Digests of the Bcc lists ``user`` made with a fix recently (any instance)."""
    sv = services()
    try:
        events = sv.store.search_audit(user=user, action="addon.fixed",
                                       since=sv.clock() - OWN_BCC_VALID)
    except Exception:
        log.exception("audit search failed; the Bcc warning stays")
        return set()
    return {str(ev.data.get("bcc_digest")) for ev in events if ev.data.get("bcc_digest")}


def unflag_own_bcc(report: Report, user: str, digests: set[str] | None = None) -> Report:
    """``report`` without ``many_bcc_recipients`` when its Bcc list is one the sender
    just made with SendGuard's own fix (``digests``: known ones, else the audit log's)."""
    if not any(f.code == OWN_BCC_CODE for f in report.findings):
        return report
    known = own_bcc_digests(user) if digests is None else digests
    if bcc_digest(_report_bcc(report)) not in known:
        return report
    return replace(report, findings=[f for f in report.findings if f.code != OWN_BCC_CODE])


def fix(caller: Caller, event: AddonEvent, name: str, act: Act) -> dict[str, Any]:
    """Rewrite the compose window's To/Cc/Bcc (one ``updateDraftActionMarkup``) and, in the
    same response, show the check of the new recipients."""
    from service.policy.addresses import parse_field
    from service.policy.model import Draft

    sv = services()
    entries = [e for f in FIELDS for e in parse_field(getattr(event, f), f)]
    cls = classifier(sv.policy)
    if name == "fix_external":
        result = move_external(entries, caller.user_email, cls.is_internal)
    else:
        result = move_everyone(entries, caller.user_email)
    new = Draft(sender=caller.user_email, to=tuple(result.to), cc=tuple(result.cc),
                bcc=tuple(result.bcc))
    report = analyze(new, sv.policy, content=False)
    digest = bcc_digest(_report_bcc(report))
    audit(caller.user_email, "addon.fixed",
          data={"fix": name, "moved": result.moved, "to": len(result.to),
                "cc": len(result.cc), "bcc": len(result.bcc), "bcc_digest": digest})
    report = unflag_own_bcc(report, caller.user_email, {digest})
    card = cards.compose_card(report, cls, act,
                              notice=ngettext("addon.fixed.moved.one", "addon.fixed.moved",
                                              result.moved))
    return markup.update_draft(to=result.to, cc=result.cc, bcc=result.bcc, card=card)


def fix_replace(caller: Caller, event: AddonEvent, act: Act) -> dict[str, Any]:
    """Replace one recipient with the address the sender's history knows: only when the
    history check, run again here, suggests exactly that replacement (fail closed: a
    forged or stale button changes nothing)."""
    from service.addon.cards import REPLACEABLE
    from service.addon.history import sender_history

    sv = services()
    wrong, right = event.param("address"), event.param("replace")
    draft = draft_from_event(event, caller.user_email)
    report = analyze(draft, sv.policy, content=False,
                     history=sender_history(caller.user_email))
    ok = any(f.code in REPLACEABLE and f.addresses == (wrong,)
             and f.params.get("replace") == right for f in report.findings)
    if not ok or not wrong or not right:
        return markup.update_card(compose_card(caller, event, act))
    lists = {}
    for name in FIELDS:
        lists[name] = [right if e.address == wrong else e.raw for e in report.recipients
                       if e.field == name]
    audit(caller.user_email, "addon.fixed", data={"fix": "fix_replace", "moved": 0})
    new = Draft(sender=caller.user_email, to=tuple(lists["to"]), cc=tuple(lists["cc"]),
                bcc=tuple(lists["bcc"]))
    after = analyze(new, sv.policy, content=False,
                    history=sender_history(caller.user_email))
    card = cards.compose_card(after, classifier(sv.policy), act,
                              notice=_("history.replace", address=right))
    return markup.update_draft(to=lists["to"], cc=lists["cc"], bcc=lists["bcc"], card=card)
