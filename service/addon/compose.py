"""The compose trigger's check (recipients only, as Gmail shares them) and the Bcc fixes."""

from __future__ import annotations

import logging
from typing import Any

from service.addon import cards, markup
from service.addon.analysis import analyze, classifier, draft_from_event
from service.addon.event import AddonEvent
from service.addon.fixes import move_everyone, move_external
from service.policy.model import FIELDS
from service.services import services

log = logging.getLogger(__name__)


def audit(actor: str, action: str, *, required: bool = False, **kwargs: Any) -> None:
    """Append an audit event; unless ``required``, a failing store is logged, not fatal."""
    sv = services()
    try:
        sv.store.append_audit(actor, action, now=sv.clock(), **kwargs)
    except Exception:
        if required:
            raise
        log.exception("audit %s not recorded", action)


def shown(findings: Any) -> list[dict[str, Any]]:
    """What a card showed, for the audit log: codes, places and address counts."""
    return [{"code": f.code, "severity": f.severity.value, "where": f.where,
             "addresses": len(f.addresses)} for f in findings]


def compose_card(caller: Any, event: AddonEvent, act: Any) -> dict[str, Any]:
    sv = services()
    policy = sv.policy
    # A live preview, redrawn on every open and re-check: not audited (the confirmation
    # card of Check & send is, with everything the sender decided there).
    report = analyze(draft_from_event(event, caller.user_email), policy, event.locale,
                     content=False)
    return cards.compose_card(report, classifier(policy), event.locale, act)


def fix(caller: Any, event: AddonEvent, name: str) -> dict[str, Any]:
    """Rewrite the compose window's To/Cc/Bcc: one ``updateDraftActionMarkup``."""
    from service.policy.addresses import parse_field

    entries = [e for f in FIELDS for e in parse_field(getattr(event, f), f)]
    if name == "fix_external":
        cls = classifier(services().policy)
        result = move_external(entries, caller.user_email, cls.is_internal)
    else:
        result = move_everyone(entries, caller.user_email)
    audit(caller.user_email, "addon.fixed",
          data={"fix": name, "moved": result.moved, "to": len(result.to),
                "cc": len(result.cc), "bcc": len(result.bcc)})
    return markup.update_draft(to=result.to, cc=result.cc, bcc=result.bcc)
