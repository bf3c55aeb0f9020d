"""What the recipient history keeps of one message a user sent (SPEC 10.2): built from the
raw bytes, for ``sendguard history import`` and for every send the add-on makes."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from service.errors import MessageError
from service.policy import draft_from_bytes
from service.policy.addresses import parse_field
from service.storage.history import SentMessage


def sent_message(raw: bytes, user: str | None) -> SentMessage | None:
    """What history keeps of one message the user sent, or None (not from ``user``, no
    recipient, not a message). ``user=None``: whoever the From says."""
    try:
        draft = draft_from_bytes(raw)
    except MessageError:
        return None
    if user is not None and draft.sender != user:
        return None
    parsed = [(name, e) for name in ("to", "cc", "bcc")
              for e in parse_field(draft.entries(name), name) if e.address]
    recipients = tuple((e.address or "", e.display_name) for _name, e in parsed)
    if not recipients:
        return None
    visible = (draft.sender, *(e.address or "" for name, e in parsed if name != "bcc"))
    from service.policy.orgnames import greeting_block_orgs
    from service.policy.wording import own_text

    return SentMessage(recipients, draft.message_id, draft.references, _date(raw),
                       greeting_block_orgs(own_text(draft)), visible)


def _date(raw: bytes) -> datetime | None:
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    value = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536]).get("Date")
    try:
        when = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return min(when.astimezone(UTC), datetime.now(UTC))
