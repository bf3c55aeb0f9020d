"""What to tell the user about a draft match or a Gmail failure (texts: ``gmail.*``)."""

from __future__ import annotations

from service.errors import ConflictError, GmailClientError, GmailTransientError, SendGuardError
from service.gmail.drafts import Ambiguous, DraftMatch, Found, NotSaved, NotSavedReason
from service.gmail.retry import NOT_CONFIRMED
from service.i18n import N_, _

# Gmail's refusals by HTTP status; any other 4xx reads as 400.
_REFUSALS = {401: N_("gmail.401"), 403: N_("gmail.403"), 404: N_("gmail.404"),
             413: N_("gmail.413"), 400: N_("gmail.400")}


def match_text(match: DraftMatch) -> str:
    match match:
        case Found():
            return _("gmail.found")
        case Ambiguous():
            return _("gmail.ambiguous")
        case NotSaved(reason=NotSavedReason.OUTDATED):
            return _("gmail.outdated")
        case _:
            return _("gmail.missing")


def error_text(error: SendGuardError) -> str:
    """The sentence for a Gmail failure; the detail (for logs) stays out of it."""
    if isinstance(error, GmailTransientError):
        return _("gmail.unconfirmed") if error.detail == NOT_CONFIRMED else _("gmail.busy")
    if isinstance(error, ConflictError):
        return _("gmail.vanished")
    if isinstance(error, GmailClientError):
        return _(_REFUSALS.get(error.http_status or 400, _REFUSALS[400]))
    return error.public_message
