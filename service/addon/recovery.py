"""Nothing lost in a fault: every send is recorded before it starts and after it ends.

``record_intent`` (required: no record, no send) writes ``addon.send_intent`` with what is
about to go out (digest, size, envelope recipients, Message-ID, the package if any);
``addon.sent`` or ``addon.send_outcome`` closes it. A send whose outcome was never written
(an uncertain Gmail answer, the database down right after the send, the instance killed
mid-request) stays open until ``reconcile`` settles it on the user's next request, with
the only question the granted ``gmail.compose`` scope can answer: is the draft still in
Drafts? Still there: it was not sent (a package made for it is withdrawn). Gone: the send
consumed it (or the user discarded it): "sent, not confirmed" — its package is marked sent
by the Message-ID it carried, so its password is not "released" to nobody, and nobody is
ever told "nothing was sent".

The release worker runs without any user's token, so it cannot ask Gmail; a package whose
send is open simply waits there (``message_sent`` is false) until the sender comes back.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from service.addon.compose import audit
from service.errors import ConflictError, GmailClientError
from service.services import services

if TYPE_CHECKING:
    from service.gmail.model import GmailClient
    from service.gmail.outgoing import Outgoing

log = logging.getLogger(__name__)

INTENT = "addon.send_intent"
OUTCOME = "addon.send_outcome"
SENT = "addon.sent"
NOT_SENT = "not_sent"
UNCONFIRMED = "sent_unconfirmed"
LOOKBACK = timedelta(days=2)
SETTLE_AFTER = timedelta(minutes=3)     # younger intents may still be in flight elsewhere
MAX_PER_REQUEST = 5                     # Gmail look-ups one request spends on old intents


def record_intent(user: str, draft_id: str, out: Outgoing, package_id: str | None = None) -> str:
    """Write the intent (raises when the store is down: then nothing is sent)."""
    intent = secrets.token_hex(8)
    audit(user, INTENT, required=True, package_id=package_id, message_id=out.message_id,
          data={"intent": intent, "draft": draft_id, **out.audit()})
    return intent


def record_outcome(user: str, intent: str, outcome: str, *, draft_id: str,
                   package_id: str | None = None, **data: Any) -> None:
    """Close an intent; a store that fails here leaves it to ``reconcile``."""
    audit(user, OUTCOME, package_id=package_id,
          data={"intent": intent, "outcome": outcome, "draft": draft_id, **data})


@dataclass(frozen=True)
class Open:
    intent: str
    draft_id: str
    package_id: str | None
    rfc822_id: str | None
    recipients: int


def open_intents(user: str) -> list[Open]:
    """The user's intents of the last two days without an outcome, oldest first."""
    sv = services()
    since = sv.clock() - LOOKBACK
    intents = sv.store.search_audit(user=user, action=INTENT, since=since)
    if not intents:
        return []
    closed = {str(ev.data.get("intent")) for action in (SENT, OUTCOME)
              for ev in sv.store.search_audit(user=user, action=action, since=since)}
    edge = sv.clock() - SETTLE_AFTER
    return [Open(str(ev.data["intent"]), str(ev.data.get("draft", "")), ev.package_id,
                 ev.data.get("rfc822_id"), len(ev.data.get("recipients") or ()))
            for ev in intents
            if ev.data.get("intent") and ev.data["intent"] not in closed and ev.at <= edge]


def draft_exists(client: GmailClient, draft_id: str) -> bool | None:
    """Is the draft still there (so nothing went out)? None: unknown, so nothing is
    concluded from an error of any kind."""
    try:
        client.draft_info(draft_id)
        return True
    except GmailClientError as exc:
        return False if exc.http_status == 404 else None
    except Exception:
        return None


def reconcile(user: str, client: GmailClient) -> int:
    """Settle the user's open sends (see module doc); returns how many were settled.
    Never raises: a request must not fail because an old one did."""
    try:
        pending = open_intents(user)
    except Exception:
        log.exception("open sends not checked")
        return 0
    settled = 0
    for item in pending[:MAX_PER_REQUEST]:
        there = draft_exists(client, item.draft_id) if item.draft_id else None
        if there is None:
            continue
        try:
            settle(user, item, NOT_SENT if there else UNCONFIRMED, reconciled=True)
            settled += 1
        except Exception:
            log.exception("open send not settled")
    return settled


def settle(user: str, item: Open, outcome: str, *, reconciled: bool = False) -> None:
    """Close ``item`` as ``outcome``: a package made for a send that did not happen is
    withdrawn; one whose draft left is marked sent by its Message-ID (its password then
    goes out as the policy says, instead of waiting for a send that already happened)."""
    sv = services()
    if item.package_id:
        package = sv.store.get_package(item.package_id)
        if outcome == NOT_SENT:
            with contextlib.suppress(ConflictError):
                sv.store.revoke(package.id, user, sv.clock())
        elif not (package.gmail_message_id or package.message_id):
            sv.store.set_message_ids(package.id, message_id=item.rfc822_id,
                                     gmail_message_id=None)
    record_outcome(user, item.intent, outcome, draft_id=item.draft_id,
                   package_id=item.package_id, recipients=item.recipients,
                   reconciled=reconciled)
