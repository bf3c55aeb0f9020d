"""The add-on endpoints: ``POST /addon/homepage``, ``/addon/compose``, ``/addon/action/<name>``.

Every request is verified first (the system ID token, its echo in the body, then the user's
ID token); a request that fails gets 401 and no card (``service.addon.errors``). Only then
is the event read and acted on. Card buttons call ``/addon/action/<name>``: the HTTP runtime
names URLs where Apps Script names functions.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, g, request, url_for
from flask.typing import ResponseReturnValue

from service.addon import markup
from service.addon.event import AddonEvent, parse_event
from service.addon.ledger import SendLedger
from service.addon.memo import CardMemo, compose_key
from service.addon.scopes import ALL_SCOPES, COMPOSE_SCOPES, HOME_SCOPES, SEND_SCOPES, missing
from service.errors import NotFoundError, PolicyError, SendGuardError
from service.request_locale import use_locale
from service.services import services

if TYPE_CHECKING:
    from service.auth import Caller

bp = Blueprint("addon", __name__, url_prefix="/addon")
log = logging.getLogger(__name__)

LEDGER = "sendguard.addon.ledger"
CARD_MEMO = "sendguard.addon.card_memo"


@bp.record_once
def _setup(state: Any) -> None:
    state.app.extensions.setdefault(LEDGER, SendLedger())
    state.app.extensions.setdefault(CARD_MEMO, CardMemo())


def ledger() -> SendLedger:
    ledger_: SendLedger = current_app.extensions[LEDGER]
    return ledger_


def action_url(name: str) -> str:
    """The URL a card button calls: from ``SENDGUARD_BASE_URL`` when set (production)."""
    prefix = g.get("addon_action_prefix")
    if prefix is None:
        base = services().config.base_url
        prefix = (f"{base}/addon/action/" if base else
                  url_for("addon.action", name="-", _external=True).removesuffix("-"))
        g.addon_action_prefix = prefix
    return f"{prefix}{name}"


def act(name: str, /, **params: str) -> dict[str, Any]:
    return markup.action(action_url(name), {k: v for k, v in params.items() if v})


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def jsonify(data: Any) -> Response:
    """Compact JSON, UTF-8 as is: cards for 944 recipients stay small and quick to encode."""
    return Response(_dumps(data), mimetype="application/json")


def _verified(*, is_action: bool) -> tuple[Any, AddonEvent]:
    """Verify the request, then parse its event. Raises AuthError (-> 401, no card)."""
    body = request.get_json(silent=True)
    raw = body if isinstance(body, dict) else {}
    # A user token may be missing only from a well-formed event (the user has not granted
    # consent yet: we ask for it); anything else must pass the full check or fail it.
    consent_pending = isinstance(raw.get("authorizationEventObject"), dict)
    base = services().config.base_url
    try:
        caller = services().verifier.verify_request(
            request.headers.get("Authorization"), raw, require_user=not consent_pending,
            endpoint_url=base + request.path if base else None)
    except PolicyError:
        # Both tokens verified, but the policy naming the organisation's domains is
        # broken: refuse with the policy error card, which tells the admin what to fix.
        g.addon_verified, g.addon_event, g.addon_is_action = True, parse_event(raw), is_action
        use_locale(g.addon_event.locale)
        raise
    event = parse_event(raw, **_defaults())
    use_locale(event.locale)       # every text of this request: the user's language
    g.addon_verified = True
    g.addon_event = event
    g.addon_is_action = is_action
    return caller, event


def _defaults() -> dict[str, str]:
    """The organisation's language and zone for events without them; a policy that does
    not load falls back to English/UTC here and fails on its own in the handler (a card)."""
    try:
        policy = services().policy
    except SendGuardError:
        return {}
    return {"default_locale": policy.default_language, "default_zone": policy.default_time_zone}


def _scopes_or_none(caller: Caller, event: AddonEvent, needed: tuple[str, ...], *,
                    token: bool = False, push: bool = False) -> dict[str, Any] | None:
    """None when the user granted what this request needs. Otherwise: no user token at
    all (a first run) asks Google for consent directly; a user who granted only some
    scopes (granular consent) gets a card naming what is missing, with a button that asks
    for exactly that."""
    if not caller.user_email:
        return markup.request_scopes(ALL_SCOPES)
    needed_now = missing(event, needed, token=token)
    if not needed_now:
        return None
    from service.addon import cards

    card = cards.scopes_card(needed_now, act("grant_scopes"))
    return markup.push_card(card) if push else markup.update_card(card)


@bp.post("/homepage")
def homepage() -> ResponseReturnValue:
    caller, event = _verified(is_action=False)
    g.addon_retry = None
    ask = _scopes_or_none(caller, event, HOME_SCOPES, push=True)
    if ask:
        return jsonify(ask)
    from service.addon import packages

    _reconcile(caller, event)
    from service.addon.sent_import import after_response

    after_response(caller, event)            # a Sent-import step, after the response
    return jsonify(markup.push_card(packages.homepage(caller, event, act)))


def _reconcile(caller: Caller, event: AddonEvent) -> None:
    """Settle the user's sends left open by a fault (``recovery``), when the user's token
    may read drafts (gmail.compose); the home card then shows their true state."""
    if not event.user_oauth_token or missing(event, SEND_SCOPES[-1:], token=True):
        return
    from service.addon.recovery import reconcile
    from service.addon.sending import gmail_client

    try:
        with gmail_client(event) as client:
            reconcile(caller.user_email, client)
    except SendGuardError:
        log.warning("open sends not reconciled on the home card")


@bp.post("/compose")
def compose() -> ResponseReturnValue:
    caller, event = _verified(is_action=False)
    g.addon_retry = act("recheck")
    ask = _scopes_or_none(caller, event, COMPOSE_SCOPES, push=True)
    if ask:
        return jsonify(ask)
    # The same recipients give the same card: served from memory (service.addon.memo).
    # Not above max_bcc: whether "many Bcc" shows depends on the sender's own earlier fix,
    # read from the audit log (compose.unflag_own_bcc), not on the event alone.
    policy, memo = services().policy, current_app.extensions[CARD_MEMO]
    remember = len(event.bcc) <= policy.max_bcc
    from service.addon.history import history_stamp
    from service.addon.sent_import import thread_stamp

    # History findings depend on the sender's history too: its stamp is part of the key,
    # and so is a reply's thread (new_domain_in_reply).
    key = (compose_key(caller.user_email, event.to, event.cc, event.bcc, event.locale,
                       action_url("")), history_stamp(caller.user_email),
           thread_stamp(caller.user_email, event.thread_id))
    body = memo.get(policy, key) if remember else None
    if body is None:
        from service.addon import compose as flow

        body = _dumps(markup.push_card(flow.compose_card(caller, event, act)))
        if remember:
            memo.put(policy, key, body)
    from service.addon.sent_import import after_response

    after_response(caller, event)            # a Sent-import step, after the response
    return Response(body, mimetype="application/json")


@bp.post("/action/<name>")
def action(name: str) -> ResponseReturnValue:
    caller, event = _verified(is_action=True)
    from service.addon.actions import ACTIONS

    row = ACTIONS.get(name)
    if row is None:
        g.addon_retry = None
        raise NotFoundError(f"unknown add-on action {name[:60]!r}")
    if row.on_package:
        g.addon_retry = act(name, package_id=event.param("package_id"),
                            view=event.param("view"))
    else:
        g.addon_retry = act(row.retry_as or name, draft_id=event.param("draft_id"))
    ask = _scopes_or_none(caller, event, row.scopes, token=row.needs_token)
    if ask:
        return jsonify(ask)
    if row.needs_token:   # the access token must open the verified user's own mailbox
        services().mailboxes.require(caller, event.user_oauth_token)
    return jsonify(row.handler(caller, event, act, ledger()))
