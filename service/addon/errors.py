"""The one place where errors become answers (``init_app`` registers the handlers).

- ``AuthError`` anywhere: 401 with a plain JSON body and never a card; one log line that
  names the path, not the token.
- On the add-on routes, every other error becomes a card in the user's locale (HTTP 200,
  as Google shows nothing useful for other statuses), with a retry button where a retry can
  help. Nothing of the exception reaches the user beyond ``public_message``; unexpected
  exceptions are logged with their traceback and shown as a generic card.
- Elsewhere: ``SendGuardError`` -> JSON with its status and public message; HTTP errors
  pass through; anything else -> a generic 500 JSON body and a logged traceback.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    GmailClientError,
    GmailError,
    GmailTransientError,
    InputError,
    NotFoundError,
    SendGuardError,
)
from service.i18n import _, current_locale

log = logging.getLogger(__name__)

ADDON_BLUEPRINT = "addon"


def init_app(app: Flask) -> None:
    app.register_error_handler(AuthError, _auth_error)
    app.register_error_handler(SendGuardError, _sendguard_error)
    app.register_error_handler(Exception, _unexpected)


def unauthorized() -> ResponseReturnValue:
    """The body of every refused add-on request: no card, nothing about why."""
    return jsonify(error="unauthorized"), 401, {"Cache-Control": "no-store"}


def _auth_error(exc: AuthError) -> ResponseReturnValue:
    log.warning("refused %s %s: unverified request", request.method, request.path)
    return unauthorized()


def _on_addon() -> bool:
    return request.blueprint == ADDON_BLUEPRINT and bool(g.get("addon_verified"))


def _card_response(message: str, *, retry: bool, nothing_sent: bool = True) -> Response:
    from service.addon import cards, markup

    retry_action = g.get("addon_retry") if retry else None
    card = cards.error_card(message, retry=retry_action, nothing_sent=nothing_sent)
    return jsonify(markup.update_card(card) if g.get("addon_is_action")
                   else markup.push_card(card))


def _sendguard_error(exc: SendGuardError) -> ResponseReturnValue:
    if not _on_addon():
        if request.blueprint == ADDON_BLUEPRINT:   # failed before verification finished
            if isinstance(exc, ConfigError):          # fail closed, but tell the operator
                log.error("refused %s %s: service misconfigured: %s", request.method,
                          request.path, exc.public_message)
            else:
                log.warning("refused %s %s: %s before verification", request.method,
                            request.path, type(exc).__name__)
            return unauthorized()
        return jsonify(error=exc.public_message or type(exc).__name__), exc.status
    if g.get("addon_sent"):
        log.error("sent, but not recorded on %s: %s", request.path, type(exc).__name__)
        return _card_response(_("addon.error.sent_unrecorded"), retry=False,
                              nothing_sent=False)
    if g.get("addon_send_uncertain"):
        log.warning("send outcome unknown on %s: %s", request.path, type(exc).__name__)
        return _card_response(_("addon.error.uncertain"), retry=True,
                              nothing_sent=False)
    if isinstance(exc, GmailTransientError):
        log.warning("gmail unavailable on %s: %s", request.path, exc.detail or "")
        return _card_response(_("addon.error.transient"), retry=True)
    if isinstance(exc, GmailClientError):
        log.warning("gmail refused on %s: HTTP %s", request.path, exc.http_status)
        if exc.http_status == 404:
            return _card_response(_("addon.error.not_found"), retry=True,
                                  nothing_sent=False)
        return _card_response(_("addon.error.gmail", status=exc.http_status),
                              retry=True)
    if isinstance(exc, GmailError):
        log.warning("gmail error on %s: %s", request.path, type(exc).__name__)
        return _card_response(_("addon.error.transient"), retry=True)
    if isinstance(exc, NotFoundError):
        package = g.get("addon_not_found")     # a package (missing or another's), not a draft
        return _card_response(_(package or "addon.error.not_found"),
                              retry=not package, nothing_sent=False)
    if isinstance(exc, ConflictError):
        return _card_response(_("addon.error.conflict"), retry=True,
                              nothing_sent=False)
    if isinstance(exc, InputError):
        return _card_response(_("addon.error.input", message=exc.localized(current_locale())),
                              retry=False)
    log.error("add-on error on %s: %s", request.path, type(exc).__name__)
    return _card_response(_("addon.error.unexpected"), retry=True)


def _unexpected(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException):
        return exc
    log.exception("unexpected error on %s %s", request.method, request.path)
    if _on_addon():
        if g.get("addon_sent"):           # the message left; only recording it failed
            return _card_response(_("addon.error.sent_unrecorded"), retry=False,
                                  nothing_sent=False)
        uncertain = bool(g.get("addon_send_uncertain"))
        return _card_response(_("addon.error.uncertain") if uncertain else
                              _("addon.error.unexpected"),
                              retry=True, nothing_sent=not uncertain)
    if request.blueprint == ADDON_BLUEPRINT:
        return unauthorized()
    if _database_unavailable(exc):
        return jsonify(error="temporarily unavailable"), 503, {"Retry-After": "5"}
    return jsonify(error="internal error"), 500


def _database_unavailable(exc: Exception) -> bool:
    """A pool wait that timed out or a lost connection: retry later, not a server bug."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return isinstance(exc, PoolTimeout | OperationalError)
