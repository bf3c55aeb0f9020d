"""The OAuth scopes the add-on asks for, and which of them each step needs.

``ALL_SCOPES`` is exactly the descriptor's ``oauthScopes`` (addon/deployment.json; a test
keeps them equal). Each Gmail API method SendGuard calls is authorised by one of them per
the discovery document (the emulator enforces it): drafts list/get/update/send and
``users.getProfile`` by ``gmail.compose``; nothing here reads sent mail (``messages.get``
and ``messages.list`` need read scopes SendGuard does not ask for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.addon.event import AddonEvent

SCOPE = "https://www.googleapis.com/auth/"
EXECUTE = SCOPE + "gmail.addons.execute"
LOCALE_SCOPE = SCOPE + "script.locale"        # optional: without it, the policy's defaults
HOME_SCOPES = (EXECUTE,)
# draftAccess METADATA shares the recipients under current.message.metadata; the Bcc fixes
# rewrite them under current.action.compose.
COMPOSE_SCOPES = (EXECUTE, SCOPE + "gmail.addons.current.action.compose",
                  SCOPE + "gmail.addons.current.message.metadata")
SEND_SCOPES = (*COMPOSE_SCOPES, SCOPE + "gmail.compose")
# Opt-in (deploy.sh --history-sent-import adds it to the descriptor): headers of the
# user's Sent folder and of a reply's thread for the recipient history, never a body.
# Optional under granular consent: declined, history grows from sends only.
HISTORY_IMPORT_SCOPE = SCOPE + "gmail.metadata"
# Exactly the descriptor's oauthScopes (addon/deployment.json; a test keeps them equal).
ALL_SCOPES = (EXECUTE,
              SCOPE + "gmail.addons.current.action.compose",
              SCOPE + "gmail.addons.current.message.metadata",
              SCOPE + "gmail.compose",
              SCOPE + "userinfo.email",
              LOCALE_SCOPE)


def missing(event: AddonEvent, needed: tuple[str, ...], *, token: bool) -> list[str]:
    """Scopes to ask for. No ``authorizedScopes`` in the event: Google did not say, so the
    OAuth token (when needed) is trusted and a refusal from Gmail reports itself."""
    if token and not event.user_oauth_token:
        return list(needed)
    if event.authorized_scopes is None:
        return []
    return [s for s in needed if s not in event.authorized_scopes]
