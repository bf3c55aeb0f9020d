"""Check & send: find the draft being composed, read all of it, confirm, send it once.

Gmail gives add-ons no on-send hook, so SendGuard sends the draft itself after the user has
confirmed every recipient and warning. On "Send" the draft is read and analysed again; the
form is checked against that fresh result (``confirm.decide``), so a draft changed after
the confirmation card was shown is confirmed again, never sent unseen. A send is recorded
in the audit log before (what was decided) and after (what left).

The reading, confirmation and once-only helpers here serve "Encrypt & send" too
(``service.addon.encrypting``): both sends of one draft share its ledger key and its
``addon.sent`` record, so whichever button is pressed, the draft leaves once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import g

from service.addon import cards, markup
from service.addon.analysis import analyze, classifier
from service.addon.compose import audit, shown, unflag_own_bcc
from service.addon.confirm import Decision, Expectation, decide, expect
from service.addon.event import AddonEvent
from service.addon.ledger import SendLedger
from service.addon.localtime import local_time, user_zone
from service.addon.packages import result_card
from service.addon.recovery import (
    NOT_SENT,
    OUTCOME,
    UNCONFIRMED,
    Open,
    draft_exists,
    reconcile,
    record_intent,
    record_outcome,
    settle,
)
from service.errors import (
    ConflictError,
    GmailClientError,
    GmailError,
    InputError,
    NotFoundError,
)
from service.gmail.outgoing import Outgoing, digest, outgoing
from service.i18n import _
from service.services import services

if TYPE_CHECKING:
    from service.addon.markup import Act
    from service.auth import Caller
    from service.gmail.model import DraftInfo, DraftMessage, GmailClient, SentRef
    from service.policy.rules import Report

log = logging.getLogger(__name__)

SENT_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Reading:
    """A draft read in full: its message, analysis and what each send path must confirm."""

    message: DraftMessage
    report: Report
    exp: Expectation
    encrypt: Expectation | None        # "Encrypt & send"; None: nothing to encrypt
    attachments: tuple[str, ...]       # file names

    @property
    def fingerprint(self) -> str:
        return self.exp.fingerprint


@contextmanager
def gmail_client(event: AddonEvent) -> Iterator[GmailClient]:
    """The user's Gmail client, closed (its connections released) after the request."""
    client = services().gmail(event.user_oauth_token)
    try:
        yield client
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()


def read_draft(client: GmailClient, draft_id: str, user: str) -> Reading:
    """Read and analyse the draft in full; a draft that is gone is ``NotFoundError``."""
    from service.policy import draft_from_bytes

    sv = services()
    try:
        message = client.get_draft(draft_id)
    except GmailClientError as exc:
        if exc.http_status == 404:
            raise NotFoundError("draft not found") from None
        raise
    draft = draft_from_bytes(message.raw)
    from service.addon.history import sender_history

    if message.thread_id:               # the Gmail thread too: participants learnt of it
        from dataclasses import replace as _with

        from service.history_threads import thread_ref

        draft = _with(draft, references=(*draft.references, thread_ref(message.thread_id)))

    report = unflag_own_bcc(analyze(draft, sv.policy, content=True,
                                    history=sender_history(user)), user)
    cls = classifier(sv.policy)
    names = tuple(a.filename for a in draft.attachments)
    exp = bind_bytes(expect(report, sv.policy, cls), message.raw)
    enc = bind_bytes(expect(report, sv.policy, cls, encrypting=True), message.raw) \
        if names else None
    return Reading(message, report, exp, enc, names)


def bind_bytes(exp: Expectation, raw: bytes) -> Expectation:
    """Tie a confirmation to exactly these draft bytes: any change to the draft (an
    autosave of a new Bcc, an edited body, another attachment) changes the fingerprint,
    so the card's Send answers with the re-check card instead of sending unseen bytes."""
    exp.fingerprint = f"{exp.fingerprint}.{digest(raw)}"
    return exp


def send_checked(client: GmailClient, user: str, draft_id: str, raw: bytes, *,
                 package_id: str | None = None) -> tuple[SentRef, Outgoing, str]:
    """Send exactly ``raw`` (what was read, analysed and confirmed, or its encrypted form)
    as draft ``draft_id``: the request carries the bytes, so an autosave landing meanwhile
    cannot change what goes out. Intent before, outcome after (``recovery``); returns
    (sent ref, what went out, intent id). On failure the flags tell the error card what
    is known: the draft still there means nothing was sent."""
    from service.addon.stamping import record_stamp, stamper_for

    out = outgoing(raw, stamper_for(user))
    record_stamp(user, out, package_id)
    intent = record_intent(user, draft_id, out, package_id)
    try:
        sent = client.send_draft(draft_id, out.raw)
    except (GmailError, ConflictError) as exc:
        there = draft_exists(client, draft_id)
        if there is True:
            record_outcome(user, intent, NOT_SENT, draft_id=draft_id, package_id=package_id,
                           error=type(exc).__name__)
        else:
            g.addon_send_uncertain = True    # may have gone out: never say "nothing sent"
            if there is False:               # consumed: settle it now, as reconcile would
                settle(user, Open(intent, draft_id, package_id, out.message_id,
                                  len(out.recipients)), UNCONFIRMED)
        raise
    except Exception:
        g.addon_send_uncertain = True        # the request may have reached Gmail
        raise
    g.addon_sent = True                      # from here on, never "nothing was sent"
    from service.addon.history import record_sent

    record_sent(user, out.raw)               # the sender's history (SPEC 10.2)
    return sent, out, intent


def confirmation(event: AddonEvent, draft_id: str, reading: Reading, act: Act,
                 notice: str | None = None) -> dict[str, Any]:
    card = cards.confirmation_card(reading.exp, reading.report, reading.message.subject,
                                   draft_id, act, notice=notice,
                                   encrypt=reading.encrypt, attachments=reading.attachments)
    return markup.update_card(card)


def check_send(caller: Caller, event: AddonEvent, act: Act) -> dict[str, Any]:
    """Find the draft (or ask which), analyse it fully, show the confirmation card."""
    with gmail_client(event) as client:
        reconcile(caller.user_email, client)
        return _check_send(client, caller, event, act)


def _check_send(client: GmailClient, caller: Caller, event: AddonEvent, act: Act) -> dict[str, Any]:
    from service.gmail.drafts import Ambiguous, Found, find_compose_draft

    draft_id = event.param("draft_id")
    if not draft_id:
        on_screen = {"to": event.to, "cc": event.cc, "bcc": event.bcc}
        match = find_compose_draft(client, thread_id=event.thread_id or None,
                                   recipients=on_screen, message_id=event.message_id or None)
        if isinstance(match, Ambiguous):
            return markup.update_card(cards.pick_draft_card(
                [_candidate(info, event) for info in match.candidates], act))
        if not isinstance(match, Found):
            return markup.update_card(cards.not_saved_card(act))
        draft_id = match.draft.draft_id
    reading = read_draft(client, draft_id, caller.user_email)
    audit(caller.user_email, "addon.confirm_shown", message_id=reading.message.message_id,
          data={"draft": draft_id, "recipients": reading.exp.recipient_count,
                "findings": shown(reading.report.findings),
                "attachments": len(reading.attachments),
                "encrypt_offered": reading.encrypt is not None})
    return confirmation(event, draft_id, reading, act)


def _candidate(info: DraftInfo, event: AddonEvent) -> cards.Candidate:
    from service.gmail.headers import header_values

    def field(name: str) -> list[str]:
        return sorted(info.field_addresses(name)) or [
            v for v in header_values(info.headers, name) if v.strip()]

    now = services().clock()
    return cards.Candidate(info.draft_id, info.subject, field("to"), field("cc"),
                           field("bcc"), local_time(info.internal_date, user_zone(event), now))


@dataclass(frozen=True)
class EarlierSend:
    recipients: int
    package_id: str | None = None
    confirmed: bool = True       # False: the draft left, Gmail did not confirm the send


def sent_before(user: str, draft_id: str, key: str, ledger: SendLedger) -> EarlierSend | None:
    """Was ``draft_id`` sent by ``user`` already: just now in this process (the ledger),
    or recently by any instance (the audit log)? Call with the ledger's hold on ``key``."""
    done = ledger.sent(key)
    if done is not None:
        return EarlierSend(done, ledger.package(key))
    sv = services()
    try:
        events = sv.store.search_audit(user=user, action="addon.sent",
                                       since=sv.clock() - SENT_LOOKBACK)
    except Exception:
        log.exception("audit search failed; relying on Gmail's own once-only send")
        return None
    for ev in reversed(events):
        if ev.data.get("draft") == draft_id:
            return EarlierSend(int(ev.data.get("recipients", 0)), ev.package_id)
    try:
        outcomes = sv.store.search_audit(user=user, action=OUTCOME,
                                         since=sv.clock() - SENT_LOOKBACK)
    except Exception:
        log.exception("audit search failed")
        return None
    for ev in reversed(outcomes):
        if ev.data.get("draft") == draft_id and ev.data.get("outcome") == UNCONFIRMED:
            return EarlierSend(int(ev.data.get("recipients", 0)), ev.package_id,
                               confirmed=False)
    return None


def send_key(user: str, draft_id: str) -> str:
    """The ledger key of one user's draft: Send and Encrypt & send share it."""
    return f"{user}\x00{draft_id}"


def send_once(caller: Caller, event: AddonEvent, act: Act, ledger: SendLedger, draft_id: str,
              run: Callable[[GmailClient, str, str], dict[str, Any]]) -> dict[str, Any]:
    """The one path to a send, plain or encrypted: under the per-draft lock, answer an
    earlier send of this draft, else ``run(client, user, key)``."""
    user = caller.user_email
    key = send_key(user, draft_id)
    with ledger.hold(key):
        done = sent_before(user, draft_id, key, ledger)
        if done is not None:
            return already_sent(user, event, act, done)
        with gmail_client(event) as client:
            return run(client, user, key)


def confirm_send(caller: Caller, event: AddonEvent, act: Act, ledger: SendLedger) -> dict[str, Any]:
    """Re-read, re-check, verify every tick server-side, then send exactly once."""
    draft_id = event.param("draft_id")
    if not draft_id:
        raise InputError("no draft to send")
    return send_once(caller, event, act, ledger, draft_id, lambda client, user, key:
                     _confirm_send(client, user, key, draft_id, event, act, ledger))


def already_sent(user: str, event: AddonEvent, act: Act, done: EarlierSend) -> dict[str, Any]:
    """The answer to a second click: what the first one did, nothing sent again."""
    if not done.confirmed:
        return markup.sent(cards.error_card(_("addon.already_unconfirmed"),
                                            nothing_sent=False))
    if done.package_id:
        return markup.sent(result_card(user, done.package_id, event, act,
                                       notice=_("addon.already_sent")))
    return markup.sent(cards.sent_card(done.recipients, again=True))


def _confirm_send(client: GmailClient, user: str, key: str, draft_id: str, event: AddonEvent,
                  act: Act, ledger: SendLedger) -> dict[str, Any]:
    reading = read_draft(client, draft_id, user)
    message, report, exp = reading.message, reading.report, reading.exp
    if exp.fingerprint != event.param("fp"):
        audit(user, "addon.confirm_changed", message_id=message.message_id,
              data={"draft": draft_id, "findings": shown(report.findings)})
        return confirmation(event, draft_id, reading, act,
                            _("addon.confirm.changed"))
    decision = decide(exp, event)
    if not decision.ok:
        audit(user, "addon.send_refused", message_id=message.message_id,
              data=refused(draft_id, exp, decision))
        return confirmation(event, draft_id, reading, act,
                            _("addon.confirm.refused"))
    audit(user, "addon.send_confirmed", required=True, message_id=message.message_id,
          data=decided(draft_id, exp, report, decision))
    sent, out, intent = send_checked(client, user, draft_id, message.raw)
    ledger.mark_sent(key, exp.recipient_count)
    audit(user, "addon.sent", message_id=sent.message_id,
          data={"draft": draft_id, "thread": sent.thread_id, "intent": intent,
                "recipients": exp.recipient_count, "sent": out.audit()})
    return markup.sent(cards.sent_card(exp.recipient_count))


def refused(draft_id: str, exp: Expectation, d: Decision) -> dict[str, Any]:
    return {"draft": draft_id, "missing_ticks": d.missing_ticks,
            "missing_acks": d.missing_acks, "missing_reasons": d.missing_reasons,
            "blocked": [f.code for f in exp.blocked]}


def decided(draft_id: str, exp: Expectation, report: Report, d: Decision) -> dict[str, Any]:
    return {
        "draft": draft_id,
        "recipients": exp.recipient_count,
        "grouped": exp.grouped,
        "quiet": exp.quiet,
        "ticked": d.ticked,
        "findings": shown(report.findings),
        "acknowledged": d.acknowledged,
        "overrides": [{"code": c, "reason": r} for c, r in d.reasons.items()],
    }
