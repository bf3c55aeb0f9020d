"""Contract (SPEC section 5): without a valid Google-signed token, 401 and no card.

Tokens come from a local RSA issuer, the service fetches its certificates over HTTP and
google-auth's own code verifies them, through the real routes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from service.addon.scopes import ALL_SCOPES, LOCALE_SCOPE

from .apis import Api
from .support import OAUTH, SENDER, Events, cards_in, kiyose_944, the_card, widgets

PATHS = ("/addon/homepage", "/addon/compose", "/addon/action/fix_everyone",
         "/addon/action/check_send", "/addon/action/confirm_send",
         "/addon/action/no_such_action")
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

Request = Callable[[Events], tuple[dict[str, str], dict[str, Any]]]


def _with_header(headers: dict[str, str], body: dict[str, Any],
                 value: str | None) -> tuple[dict[str, str], dict[str, Any]]:
    if value is None:
        return {}, body
    return {"Authorization": value}, body


BAD: dict[str, Request] = {
    "no Authorization header": lambda e: _with_header(*e.make(to=["a@gmail.com"]), None),
    "empty bearer": lambda e: _with_header(*e.make(), "Bearer "),
    "not bearer": lambda e: _with_header(*e.make(), "Basic dXNlcjpwYXNz"),
    "garbage token": lambda e: _with_header(*e.make(), "Bearer not.a.jwt"),
    "forged signature": lambda e: e.make(system=e.system(key_override=OTHER_KEY)),
    "wrong audience": lambda e: e.make(system=e.system(audience="https://evil.example/addon")),
    "wrong service account": lambda e: e.make(system=e.system(
        service_account="attacker@evil-project.iam.gserviceaccount.com")),
    "expired": lambda e: e.make(system=e.system(now=time.time() - 7200)),
    "email not verified": lambda e: e.make(system=e.system(email_verified=False)),
    "wrong issuer": lambda e: e.make(system=e.system(iss="https://evil.example")),
    "user token forged": lambda e: e.make(user_token=e.user(key_override=OTHER_KEY)),
    "user token for another app": lambda e: e.make(user_token=e.user(
        audience="999-other.apps.googleusercontent.com")),
    "user token expired": lambda e: e.make(user_token=e.user(now=time.time() - 7200)),
    "system token passed as user token": lambda e: e.make(user_token=e.system()),
    "body echo differs and is forged": lambda e: _echo(e),
}


def _echo(e: Events) -> tuple[dict[str, str], dict[str, Any]]:
    headers, body = e.make()
    body["authorizationEventObject"]["systemIdToken"] = e.system(key_override=OTHER_KEY)
    return headers, body


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_refused_with_401_and_no_card(api: Api, events: Events, case: str, path: str,
                                      caplog: pytest.LogCaptureFixture) -> None:
    headers, body = BAD[case](events)
    body["gmail"]["toRecipients"] = kiyose_944()[:20]
    with caplog.at_level(logging.WARNING):
        status, data = api.post(path, headers, body)
    assert status == 401
    assert data == {"error": "unauthorized"}
    assert cards_in(data) == []
    tokens = [headers.get("Authorization", "").removeprefix("Bearer ").strip(),
              body["authorizationEventObject"].get("userIdToken", ""), OAUTH]
    for record in caplog.records:
        for token in tokens:
            if len(token) > 20:
                assert token not in record.getMessage()


@pytest.mark.parametrize("body", [None, [], "text", 42, {"authorizationEventObject": "x"}],
                         ids=["null", "list", "string", "number", "bad auth object"])
def test_malformed_bodies_with_valid_header_get_401(api: Api, events: Events,
                                                    body: Any) -> None:
    headers = {"Authorization": f"Bearer {events.system()}"}
    status, data = api.post("/addon/compose", headers, body)
    assert status == 401 and cards_in(data) == []


@pytest.mark.parametrize("path", ["/addon/homepage", "/addon/compose"])
def test_valid_request_gets_a_card(api: Api, events: Events, path: str) -> None:
    status, data = api.call(path, *events.make(to=["a@gmail.com"]))
    assert status == 200
    assert len(cards_in(data)) == 1


def test_no_user_token_asks_for_consent_without_a_card(api: Api, events: Events) -> None:
    status, data = api.call("/addon/compose", *events.make(with_user=False))
    assert status == 200
    assert cards_in(data) == []
    scopes = data["requesting_google_scopes"]["scopes"]
    assert "https://www.googleapis.com/auth/userinfo.email" in scopes


EXECUTE = "https://www.googleapis.com/auth/gmail.addons.execute"
ACTION_COMPOSE = "https://www.googleapis.com/auth/gmail.addons.current.action.compose"
METADATA = "https://www.googleapis.com/auth/gmail.addons.current.message.metadata"
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
EMAIL = "https://www.googleapis.com/auth/userinfo.email"


@pytest.mark.parametrize("granted,path,missing", [
    pytest.param([EXECUTE, EMAIL], "/addon/compose", [ACTION_COMPOSE, METADATA],
                 id="compose without the compose scopes"),
    pytest.param([EXECUTE, ACTION_COMPOSE, EMAIL], "/addon/compose", [METADATA],
                 id="compose without message metadata"),
    pytest.param([EXECUTE, ACTION_COMPOSE, METADATA, EMAIL], "/addon/action/check_send",
                 [GMAIL_COMPOSE], id="check & send without gmail.compose"),
    pytest.param([EMAIL], "/addon/homepage", [EXECUTE], id="homepage without execute"),
])
def test_granular_consent_card_names_what_is_missing(
        api: Api, events: Events, granted: list[str], path: str, missing: list[str]) -> None:
    """Granular consent: the user granted some scopes. The card says in words what is
    missing and its button asks Google for exactly what is still missing."""
    status, data = api.call(path, *events.make(to=["a@gmail.com"], scopes=granted))
    assert status == 200
    card = the_card(data)
    assert card["name"] == "scopes"
    shown = [w["decoratedText"]["bottomLabel"] for w in widgets(card) if "decoratedText" in w]
    assert shown == missing
    grant = card["fixedFooter"]["primaryButton"]
    assert grant["color"]          # the card reference: a primary footer button has a colour
    status, asked = api.call(urlsplit(grant["onClick"]["action"]["function"]).path,
                             *events.make(scopes=granted))
    assert status == 200 and cards_in(asked) == []
    still = [s for s in ALL_SCOPES if s not in granted and s != LOCALE_SCOPE]
    assert asked == {"requesting_google_scopes": {"scopes": still}}
    # Google repeats the request once the user consented: now a card says so
    status, done = api.call(urlsplit(grant["onClick"]["action"]["function"]).path,
                            *events.make(scopes=ALL_SCOPES))
    assert the_card(done)["name"] == "scopes_granted"


def test_the_locale_scope_is_optional(api: Api, events: Events) -> None:
    """Without script.locale Google sends no locale: cards follow the policy's default
    and nothing is asked for."""
    granted = [s for s in ALL_SCOPES if s != LOCALE_SCOPE]
    status, data = api.call("/addon/compose", *events.make(to=["a@gmail.com"], scopes=granted))
    assert status == 200 and the_card(data)["name"] == "compose"


def test_check_send_without_oauth_token_asks_for_consent(api: Api, events: Events) -> None:
    status, data = api.call("/addon/action/check_send", *events.make(oauth=None))
    assert status == 200
    card = the_card(data)
    assert card["name"] == "scopes"


def test_the_sender_is_the_verified_user_not_the_body(api: Api, events: Events) -> None:
    """The Bcc fix keeps the verified user in To, whatever else the body claims."""
    headers, body = events.make(to=["x@gmail.com"] * 1 + kiyose_944()[:15],
                                sender="Other.User@Mitsubachi-Kiyose.jp")
    body["gmail"]["from"] = SENDER
    status, data = api.call("/addon/action/fix_everyone", headers, body)
    assert status == 200
    to = data["renderActions"]["hostAppAction"]["gmailAction"]["updateDraftActionMarkup"][
        "updateToRecipients"]["toRecipients"]
    assert to == [{"email": "other.user@mitsubachi-kiyose.jp"}]


BASE = "https://sendguard.example.run.app"
ENDPOINT_AUDIENCE = [
    ("this endpoint's URL", "/addon/compose", BASE + "/addon/compose", 200),
    ("action URL", "/addon/action/fix_everyone", BASE + "/addon/action/fix_everyone", 200),
    ("another endpoint's URL", "/addon/compose", BASE + "/addon/homepage", 401),
    ("same path on another host", "/addon/compose", "https://evil.example/addon/compose", 401),
]


@pytest.mark.parametrize("path,aud,status", [c[1:] for c in ENDPOINT_AUDIENCE],
                         ids=[c[0] for c in ENDPOINT_AUDIENCE])
def test_endpoint_url_audience_is_built_from_base_url(make_app: Any, events: Events, path: str,
                                                      aud: str, status: int) -> None:
    """Google may set the system token's audience to the URL of the endpoint it calls."""
    from .apis import ClientApi

    api = ClientApi(make_app(base_url=BASE))
    headers, body = events.make(to=["a@gmail.com"], system=events.system(audience=aud))
    headers["Host"] = "evil.example"   # the Host header must never widen the audience
    got, _ = api.post(path, headers, body)
    assert got == status
