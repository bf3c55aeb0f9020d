"""The add-on's side of the recipient history (SPEC 10.2): the sender's history for the
compose and confirmation cards, and every message SendGuard sends added to it.

History only adds findings: a database that cannot answer means a card without them
(logged), never a failed card or a failed send.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from service.errors import SendGuardError

if TYPE_CHECKING:
    from service.policy.context import HistoryView
    from service.services import Services

log = logging.getLogger(__name__)


def _services() -> Services:
    from service.services import services

    return services()


def sender_history(user: str) -> HistoryView | None:
    """The sender's history, or None (history off, nothing recorded, database down)."""
    sv = _services()
    if not sv.policy.history_enabled or not user:
        return None
    try:
        crypto = sv.store.existing_history_crypto(sv.keywrapper)
        return None if crypto is None else sv.store.history_view(crypto, user)
    except (SQLAlchemyError, SendGuardError):
        log.warning("history unavailable: cards without history findings")
        return None


def history_stamp(user: str) -> tuple[int, str]:
    """Changes whenever the sender's history does (a send, an import, ``forget``): part of
    the compose card memo's key, so a memoised card never shows stale history."""
    sv = _services()
    if not sv.policy.history_enabled:
        return (0, "")
    from service.storage.history_stamp import history_stamp as read_stamp

    try:
        return read_stamp(sv.store, sv.keywrapper, user)   # one cheap query a request
    except (SQLAlchemyError, SendGuardError):
        return (-1, "")


def record_sent(user: str, raw: bytes) -> None:
    """Count a message SendGuard just sent (its exact bytes) in the sender's history."""
    sv = _services()
    if not sv.policy.history_enabled:
        return
    from service.storage.sent import sent_message

    try:
        msg = sent_message(raw, None)        # sent from the user's mailbox: theirs
        if msg is None:
            return
        now = sv.clock()
        sv.store.record_history(sv.store.history_crypto(sv.keywrapper, now), user, msg, now)
    except (SQLAlchemyError, SendGuardError):
        log.warning("history not updated for a sent message")
