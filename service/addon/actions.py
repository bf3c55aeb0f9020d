"""The card buttons' endpoints, ``/addon/action/<name>``: one row per action.

Each row says what runs, which OAuth scopes it needs (missing ones are asked for first)
and whether it needs the user's Gmail access token (then checked to open the verified
user's own mailbox before the handler runs), and what a failure card's "Try again"
repeats. The table is built once, at import; ``service.addon.routes.action`` looks a
name up in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from service.addon import cards, encrypting, markup, packages, sending, sent_import
from service.addon import compose as flow
from service.addon.markup import Act, Json
from service.addon.scopes import ALL_SCOPES, COMPOSE_SCOPES, HOME_SCOPES, SEND_SCOPES, missing

if TYPE_CHECKING:
    from service.addon.event import AddonEvent
    from service.addon.ledger import SendLedger
    from service.auth import Caller

Handler = Callable[["Caller", "AddonEvent", Act, "SendLedger"], Json]


@dataclass(frozen=True)
class Action:
    handler: Handler
    scopes: tuple[str, ...] = ()
    needs_token: bool = False
    # What "Try again" on a failure card calls: a send retries by checking the draft again;
    # a package action repeats itself on the same package and view; others repeat themselves.
    retry_as: str | None = None
    on_package: bool = False


def grant_scopes(caller: Caller, event: AddonEvent, act: Act, ledger: SendLedger) -> Json:
    """The scope card's button: Google's consent for what is still missing; once granted
    (Google repeats this request), a card that says so."""
    needed = missing(event, ALL_SCOPES[:-1], token=True)   # script.locale stays optional
    if needed:
        return markup.request_scopes(needed)
    return markup.update_card(cards.scopes_granted_card(act("recheck")))


ACTIONS: Mapping[str, Action] = MappingProxyType({
    "recheck": Action(lambda c, e, act, _: markup.update_card(flow.compose_card(c, e, act)),
                      COMPOSE_SCOPES),
    "fix_external": Action(lambda c, e, act, _: flow.fix(c, e, "fix_external", act),
                           COMPOSE_SCOPES),
    "fix_everyone": Action(lambda c, e, act, _: flow.fix(c, e, "fix_everyone", act),
                           COMPOSE_SCOPES),
    "fix_replace": Action(lambda c, e, act, _: flow.fix_replace(c, e, act), COMPOSE_SCOPES),
    "check_send": Action(lambda c, e, act, _: sending.check_send(c, e, act), SEND_SCOPES,
                         needs_token=True),
    "confirm_send": Action(sending.confirm_send, SEND_SCOPES, needs_token=True,
                           retry_as="check_send"),
    "encrypt_review": Action(encrypting.encrypt_review, SEND_SCOPES, needs_token=True,
                             retry_as="check_send"),
    "encrypt_send": Action(encrypting.encrypt_send, SEND_SCOPES, needs_token=True,
                           retry_as="check_send"),
    "revoke_package": Action(lambda c, e, act, _: packages.revoke(c, e, act), on_package=True),
    "release_package": Action(lambda c, e, act, _: packages.release(c, e, act),
                              on_package=True),
    "grant_scopes": Action(grant_scopes),
    "grant_history_import": Action(
        lambda c, e, act, _: sent_import.grant(c, e)
        or markup.update_card(packages.homepage(c, e, act)), HOME_SCOPES),
})
