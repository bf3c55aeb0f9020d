"""Encrypt & send: confirm as for Send, choose who gets the password, send once.

1. ``encrypt_review`` (the confirmation card's "Encrypt & send"): the draft is read and
   analysed again and the form checked as for "Send" (``confirm.decide``), minus what
   encryption settles. What was confirmed goes to the audit log
   (``addon.encrypt_confirmed``, with the draft's fingerprint); then the key card.
2. ``encrypt_send`` (the key card's button): the draft is read again; it must still have
   that fingerprint and that confirmation on record (the key card's form holds no ticks
   of the first card, so the audit log vouches for them, across instances). Every ticked
   key recipient must be one the server offered, i.e. an actual recipient of this draft.
   What the sender saw and ticked is audited (``addon.encrypt_send_confirmed``), then
   ``service.delivery.packages.encrypt_and_send`` encrypts, stores the key held, updates
   and sends the draft (and audits its own steps).

Double clicks: the same per-draft ledger lock and "sent before" check as Send, so a draft
goes out once whichever button is pressed, however often.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from service.addon import keycards, markup
from service.addon.compose import audit, shown
from service.addon.confirm import Expectation, decide
from service.addon.event import AddonEvent
from service.addon.ledger import SendLedger
from service.addon.localtime import user_zone
from service.addon.sending import (
    Reading,
    already_sent,
    confirmation,
    decided,
    gmail_client,
    read_draft,
    refused,
    send_checked,
    send_key,
    send_once,
    sent_before,
)
from service.errors import InputError
from service.gmail.outgoing import Outgoing
from service.i18n import _
from service.services import services

if TYPE_CHECKING:
    from service.addon.markup import Act
    from service.auth import Caller
    from service.gmail.model import GmailClient, SentRef
    from service.storage.records import Package

CONFIRMATION_VALID = timedelta(hours=1)
SHOWN_LIMIT = 100                   # characters of a refused value echoed on the card


def _draft_id(event: AddonEvent) -> str:
    draft_id = event.param("draft_id")
    if not draft_id:
        raise InputError("no draft to send")
    return draft_id


def _key_card(event: AddonEvent, user: str, draft_id: str, reading: Reading,
              enc: Expectation, act: Act, notice: str | None = None) -> dict[str, Any]:
    return keycards.key_card(enc, reading.message.subject, draft_id, reading.attachments,
                             services().policy, user, act, notice=notice)


def _checked(user: str, draft_id: str, event: AddonEvent, reading: Reading,
             act: Act) -> Expectation | dict[str, Any]:
    """What the encrypted path must confirm, or the confirmation card again when the
    draft cannot go the encrypted way as it is now."""
    if reading.encrypt is None:
        return confirmation(event, draft_id, reading, act,
                            _("addon.confirm.nothing_to_encrypt"))
    if reading.encrypt.fingerprint != event.param("fp"):
        audit(user, "addon.confirm_changed", message_id=reading.message.message_id,
              data={"draft": draft_id, "findings": shown(reading.report.findings),
                    "encrypt": True})
        return confirmation(event, draft_id, reading, act, _("addon.confirm.changed"))
    return reading.encrypt


def encrypt_review(caller: Caller, event: AddonEvent, act: Act,
                   ledger: SendLedger) -> dict[str, Any]:
    """Check the confirmation form for the encrypted path, then ask who gets the key."""
    draft_id = _draft_id(event)
    user = caller.user_email
    key = send_key(user, draft_id)
    with ledger.hold(key):
        done = sent_before(user, draft_id, key, ledger)
    if done is not None:
        return already_sent(user, event, act, done)
    with gmail_client(event) as client:
        reading = read_draft(client, draft_id, user)
    enc = _checked(user, draft_id, event, reading, act)
    if not isinstance(enc, Expectation):
        return enc
    decision = decide(enc, event)
    message_id = reading.message.message_id
    if not decision.ok:
        audit(user, "addon.send_refused", message_id=message_id,
              data={**refused(draft_id, enc, decision), "encrypt": True})
        return confirmation(event, draft_id, reading, act,
                            _("addon.confirm.refused"))
    audit(user, "addon.encrypt_confirmed", required=True, message_id=message_id,
          data={**decided(draft_id, enc, reading.report, decision),
                "fp": enc.fingerprint, "attachments": len(reading.attachments)})
    return markup.push_card(_key_card(event, user, draft_id, reading, enc, act))


def _was_confirmed(user: str, draft_id: str, fp: str) -> bool:
    sv = services()
    events = sv.store.search_audit(user=user, action="addon.encrypt_confirmed",
                                   since=sv.clock() - CONFIRMATION_VALID)
    return any(ev.data.get("draft") == draft_id and ev.data.get("fp") == fp for ev in events)


def chosen_keys(event: AddonEvent, offered: dict[str, str]) -> tuple[list[str], list[str]]:
    """(addresses ticked, values ticked that were never offered) from the key card's form."""
    chosen: list[str] = []
    forged: list[str] = []
    for value in sorted(event.inputs(keycards.KEY_INPUT)):
        if value in offered:
            chosen.append(offered[value])
        else:
            forged.append(value.removeprefix("k:")[:SHOWN_LIMIT])
    return chosen, forged


def chosen_method(event: AddonEvent, default: str) -> str | None:
    """The key card's "how the files travel": zip or link; the policy's default when the
    form has none (an older card); None for anything else (a forged form)."""
    values = event.inputs(keycards.METHOD_INPUT)
    if not values:
        return default
    if len(values) != 1 or next(iter(values)) not in ("zip", "link"):
        return None
    return next(iter(values))


def encrypt_send(caller: Caller, event: AddonEvent, act: Act, ledger: SendLedger) -> dict[str, Any]:
    """Verify everything again, then encrypt, send exactly once and hold the key."""
    draft_id = _draft_id(event)
    return send_once(caller, event, act, ledger, draft_id, lambda client, user, key:
                     _encrypt_send(client, user, key, draft_id, event, act, ledger))


def _encrypt_send(client: GmailClient, user: str, key: str, draft_id: str, event: AddonEvent,
                  act: Act, ledger: SendLedger) -> dict[str, Any]:
    from service.delivery.packages import encrypt_and_send

    sv = services()
    policy = sv.policy
    reading = read_draft(client, draft_id, user)
    enc = _checked(user, draft_id, event, reading, act)
    if not isinstance(enc, Expectation):
        return enc
    message_id = reading.message.message_id
    if not enc.sendable or not _was_confirmed(user, draft_id, enc.fingerprint):
        audit(user, "addon.send_refused", message_id=message_id,
              data={"draft": draft_id, "encrypt": True, "reason": "not_confirmed"})
        return confirmation(event, draft_id, reading, act, _("addon.keys.not_confirmed"))
    offered = keycards.offered_keys(enc, policy.release_mode)
    chosen, forged = chosen_keys(event, offered)
    method = chosen_method(event, policy.delivery_method)
    notice = None
    if method is None:
        notice = _("addon.keys.refused.method")
    elif forged:
        notice = _("addon.keys.refused.forged", address=forged[0])
    elif not chosen and policy.release_mode != "sender_only":
        notice = _("addon.keys.refused.none")
    if notice:
        audit(user, "addon.send_refused", message_id=message_id,
              data={"draft": draft_id, "encrypt": True, "reason": "key_recipients",
                    "not_offered": len(forged), "ticked": len(chosen)})
        return markup.update_card(_key_card(event, user, draft_id, reading, enc, act, notice))
    external = {a for gr in enc.groups if gr.external for a in gr.addresses}
    audit(user, "addon.encrypt_send_confirmed", required=True, message_id=message_id,
          data={"draft": draft_id, "fp": enc.fingerprint, "release_mode": policy.release_mode,
                "method": method,
                "release_delay": policy.release_delay, "offered": len(offered),
                "external_offered": sum(1 for a in offered.values() if a in external),
                "grantees": chosen,
                "external_grantees": [a for a in chosen if a in external],
                "attachments": len(reading.attachments)})
    went: list[tuple[SentRef, Outgoing, str]] = []

    def send(raw: bytes, package: Package) -> SentRef:
        went.append(send_checked(client, user, draft_id, raw, package_id=package.id))
        return went[-1][0]

    if method == "link":
        from service.delivery.linkpackages import encrypt_and_send_link

        package, _link = encrypt_and_send_link(
            client, draft_id=draft_id, sender=user, key_recipients=chosen, policy=policy,
            store=sv.store, keywrapper=sv.keywrapper, files=sv.files, now=sv.clock(),
            draft=reading.message, send=send)
    else:
        package = encrypt_and_send(client, draft_id=draft_id, sender=user,
                                   key_recipients=chosen, policy=policy, store=sv.store,
                                   keywrapper=sv.keywrapper, now=sv.clock(),
                                   draft=reading.message, send=send)
    ledger.mark_sent(key, enc.recipient_count, package.id)
    _sent, out, intent = went[-1]
    audit(user, "addon.sent", package_id=package.id, message_id=package.message_id,
          data={"draft": draft_id, "recipients": enc.recipient_count, "encrypted": True,
                "intent": intent, "sent": out.audit()})
    grants = [gr.address for gr in sv.store.list_grants(package.id)]
    return markup.sent(keycards.result_card(package, grants, user_zone(event), sv.clock(),
                                            act))
