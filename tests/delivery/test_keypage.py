"""The ``/k/<token>`` page through Flask's test client, with codes arriving at a real SMTP
server: GET consumes nothing, codes and reveals work once, every failure is the same
opaque page, and the security headers are there on every answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.config import Config
from service.delivery.mailer import SmtpMailer
from service.delivery.material import open_package
from service.delivery.release import release_tick
from service.protect.keywrap import LocalKeyWrapper
from service.storage import Package, Store
from tests.support.smtp import SmtpServer

from .conftest import SendDraft
from .helpers import PARTNER, SENDER, Clock, code_in, link_token, open_zip, sevenzip, zip_of

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NONCE = re.compile(r"nonce-([A-Za-z0-9_-]+)")


@dataclass
class Link:
    package: Package
    token: str


@pytest.fixture
def link(send_draft: SendDraft, store: Store, mailer: SmtpMailer, config: Config,
         keywrapper: LocalKeyWrapper, clock: Clock, smtp: SmtpServer) -> Link:
    """A package sent, held, released; the token read from the notice at the SMTP server."""
    package = send_draft((PARTNER,))
    clock.advance(300)
    assert release_tick(store, mailer, config, keywrapper, clock.now).sent == 1
    token = link_token(smtp.wait_for(1)[0].text())
    smtp.clear()
    return Link(store.get_package(package.id), token)


def page(client: FlaskClient, token: str, **headers: str) -> TestResponse:
    return client.get(f"/k/{token}", headers=headers)


def csrf_of(resp: TestResponse) -> str:
    m = CSRF.search(resp.get_data(as_text=True))
    assert m, "no form on the page"
    return m.group(1)


def post(client: FlaskClient, token: str, action: str, csrf: str | None,
         code: str | None = None) -> TestResponse:
    data = {"action": action}
    if csrf is not None:
        data["csrf"] = csrf
    if code is not None:
        data["code"] = code
    return client.post(f"/k/{token}", data=data)


def request_code(client: FlaskClient, token: str, smtp: SmtpServer) -> str:
    before = len(smtp.messages)
    resp = post(client, token, "send_code", csrf_of(page(client, token)))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return code_in(smtp.wait_for(before + 1)[-1].text())


def opaque(resp: TestResponse) -> str:
    """The refusal page without its per-response nonce."""
    assert resp.status_code == 403
    return NONCE.sub("nonce", re.sub(r'nonce="[^"]+"', "", resp.get_data(as_text=True)))


def test_get_shows_the_page_and_consumes_nothing(client: FlaskClient, link: Link,
                                                 store: Store, smtp: SmtpServer) -> None:
    before = store.list_grants(link.package.id)
    for _ in range(3):                              # a scanner, a preview, the person
        resp = page(client, link.token)
        assert resp.status_code == 200
        assert 'id="send-code"' in resp.get_data(as_text=True)
    assert store.list_grants(link.package.id) == before
    assert store.get_package(link.package.id) == link.package
    assert smtp.messages == []


def test_code_then_reveal_gives_the_password_that_opens_the_zip(
        client: FlaskClient, link: Link, store: Store, smtp: SmtpServer,
        keywrapper: LocalKeyWrapper, gmail: object, tmp_path: Path) -> None:
    first = page(client, link.token)
    resp = post(client, link.token, "send_code", csrf_of(first))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="code-sent"' in text and "t***@partner" in text
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == (PARTNER,)
    code = code_in(mail.text())
    resp = post(client, link.token, "reveal", csrf_of(resp), code)
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    shown = re.search(r'id="password">([^<]+)<', resp.get_data(as_text=True))
    assert shown
    password = shown.group(1)
    assert password == open_package(keywrapper, link.package).password
    [sent] = gmail.sent()  # type: ignore[attr-defined]
    _, data = zip_of(sent.raw)
    assert open_zip(sevenzip(), data, password, tmp_path)
    notice = smtp.wait_for(2)[1]                      # the sender hears of the first reveal
    assert notice.rcpt_tos == (SENDER,) and PARTNER in notice.text()
    assert password not in notice.text()
    # a second reveal (new code) counts, but does not mail the sender again
    second = request_code(client, link.token, smtp)
    resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)), second)
    assert resp.status_code == 200
    assert len(smtp.to(SENDER)) == 1
    assert store.get_package(link.package.id).reveal_count == 2


def test_full_width_code_is_accepted(client: FlaskClient, link: Link, smtp: SmtpServer) -> None:
    code = request_code(client, link.token, smtp)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code[:4]) + " " + code[4:]
    resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)), wide)
    assert resp.status_code == 200 and 'id="password"' in resp.get_data(as_text=True)


def test_resend_invalidates_the_old_code(client: FlaskClient, link: Link,
                                         smtp: SmtpServer) -> None:
    old = request_code(client, link.token, smtp)
    new = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    if old != new:
        opaque(post(client, link.token, "reveal", csrf, old))
    assert post(client, link.token, "reveal", csrf, new).status_code == 200


def test_sixth_attempt_is_refused_even_with_the_right_code(client: FlaskClient, link: Link,
                                                           smtp: SmtpServer,
                                                           store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    bodies = {opaque(post(client, link.token, "reveal", csrf, wrong)) for _ in range(5)}
    bodies.add(opaque(post(client, link.token, "reveal", csrf, code)))
    assert len(bodies) == 1
    assert store.get_package(link.package.id).reveal_count == 0
    failed = store.search_audit(package_id=link.package.id, action="code.failed")
    assert [e.data["reason"] for e in failed] == ["wrong"] * 5 + ["locked"]


def test_code_requests_are_rate_limited_per_link(client: FlaskClient, link: Link,
                                                 smtp: SmtpServer, clock: Clock) -> None:
    for _ in range(3):
        request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    opaque(post(client, link.token, "send_code", csrf))
    assert len(smtp.messages) == 3
    clock.advance(600)                                  # a new window
    request_code(client, link.token, smtp)


def test_code_requests_are_rate_limited_per_address(
        client: FlaskClient, send_draft: SendDraft, store: Store, mailer: SmtpMailer,
        config: Config, keywrapper: LocalKeyWrapper, clock: Clock, smtp: SmtpServer) -> None:
    for _ in range(4):
        send_draft((PARTNER,))
        clock.advance(0.001)
    clock.advance(300)
    release_tick(store, mailer, config, keywrapper, clock.now)
    tokens = [link_token(m.text()) for m in smtp.wait_for(4)]
    smtp.clear()
    sent = refused = 0
    for token in tokens:
        for _ in range(3):
            resp = post(client, token, "send_code", csrf_of(page(client, token)))
            sent += resp.status_code == 200
            refused += resp.status_code == 403
    assert (sent, refused) == (10, 2)
    assert len(smtp.messages) == 10


def test_stale_code_is_refused(client: FlaskClient, link: Link, smtp: SmtpServer,
                               clock: Clock) -> None:
    code = request_code(client, link.token, smtp)
    clock.advance(10 * 60 + 1)
    opaque(post(client, link.token, "reveal", csrf_of(page(client, link.token)), code))


def test_replayed_code_is_refused(client: FlaskClient, link: Link, smtp: SmtpServer,
                                  store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    assert post(client, link.token, "reveal", csrf, code).status_code == 200
    opaque(post(client, link.token, "reveal", csrf, code))            # used once only
    assert store.get_package(link.package.id).reveal_count == 1


# --------------------------------------------------------------------- one opaque error

def _expired(link: Link, store: Store, clock: Clock) -> None:
    clock.advance(7 * 86400)


def _revoked(link: Link, store: Store, clock: Clock) -> None:
    store.revoke(link.package.id, SENDER, clock.now)


def _limit_reached(link: Link, store: Store, clock: Clock) -> None:
    from service.delivery import codes

    grant = store.list_grants(link.package.id)[0]
    for _ in range(link.package.reveal_limit):
        store.set_code(grant.id, codes.code_hash(link.token, "00000000"),
                       clock.now + timedelta(minutes=5), clock.now)
        store.mark_revealed(grant.id, clock.now)


@pytest.mark.parametrize("spoil", [_expired, _revoked, _limit_reached],
                         ids=["expired", "revoked", "reveal-limit"])
def test_unusable_links_get_the_one_opaque_page(client: FlaskClient, link: Link, store: Store,
                                                clock: Clock, smtp: SmtpServer,
                                                spoil: object) -> None:
    csrf = csrf_of(page(client, link.token))
    code = request_code(client, link.token, smtp)
    reference = opaque(page(client, "A" * 43))
    spoil(link, store, clock)  # type: ignore[operator]
    assert opaque(page(client, link.token)) == reference
    assert opaque(post(client, link.token, "send_code", csrf)) == reference
    assert opaque(post(client, link.token, "reveal", csrf, code)) == reference


@pytest.mark.parametrize("token", [
    "A" * 43, "short", "x" * 200, "%00", "A" * 42 + ".", "A" * 42 + "=",
], ids=["unknown", "short", "long", "nul", "dot", "padding"])
def test_unknown_or_malformed_tokens(client: FlaskClient, link: Link, token: str) -> None:
    reference = opaque(page(client, "B" * 43))
    assert opaque(page(client, token)) == reference
    assert opaque(post(client, token, "send_code", "x")) == reference


def test_held_package_link_is_refused(send_draft: SendDraft, client: FlaskClient,
                                      keywrapper: LocalKeyWrapper) -> None:
    package = send_draft((PARTNER,))
    token = open_package(keywrapper, package).link_token(PARTNER)   # what the notice will hold
    reference = opaque(page(client, "C" * 43))
    assert opaque(page(client, token)) == reference


@pytest.mark.parametrize("csrf", [None, "", "forged", "A" * 43],
                         ids=["missing", "empty", "garbage", "wrong"])
def test_csrf_is_required(client: FlaskClient, link: Link, smtp: SmtpServer, store: Store,
                          csrf: str | None) -> None:
    page(client, link.token)
    opaque(post(client, link.token, "send_code", csrf))
    assert smtp.messages == [] and store.list_grants(link.package.id)[0].code_sent_count == 0


def test_csrf_is_bound_to_the_cookie_and_the_link(client: FlaskClient, link: Link,
                                                  app: object, smtp: SmtpServer,
                                                  send_draft: SendDraft, store: Store,
                                                  mailer: SmtpMailer, config: Config,
                                                  keywrapper: LocalKeyWrapper,
                                                  clock: Clock) -> None:
    csrf = csrf_of(page(client, link.token))
    stranger = app.test_client()  # type: ignore[attr-defined]
    page(stranger, link.token)                      # its own cookie
    opaque(post(stranger, link.token, "send_code", csrf))
    bare = app.test_client()  # type: ignore[attr-defined]
    opaque(post(bare, link.token, "send_code", csrf))   # no cookie at all
    other = send_draft((PARTNER,))
    clock.advance(300)
    release_tick(store, mailer, config, keywrapper, clock.now)
    other_token = link_token(smtp.wait_for(1)[0].text())
    assert other_token != link.token and other.id
    opaque(post(client, other_token, "send_code", csrf))   # a form for another link
    assert store.list_grants(link.package.id)[0].code_sent_count == 0


def test_unknown_action_is_refused(client: FlaskClient, link: Link) -> None:
    opaque(post(client, link.token, "delete", csrf_of(page(client, link.token))))


# --------------------------------------------------------------------- headers, language

@pytest.mark.parametrize("kind", ["page", "error", "password"])
def test_security_headers(client: FlaskClient, link: Link, smtp: SmtpServer,
                          kind: str) -> None:
    if kind == "page":
        resp = page(client, link.token)
    elif kind == "error":
        resp = page(client, "D" * 43)
    else:
        code = request_code(client, link.token, smtp)
        resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)), code)
    h = resp.headers
    csp = h["Content-Security-Policy"]
    for directive in ("default-src 'none'", "form-action 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "*" not in csp
    nonce = NONCE.search(csp)
    assert nonce and f'nonce="{nonce.group(1)}"' in resp.get_data(as_text=True)
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cache-Control"] == "no-store"


def test_csrf_cookie_is_host_only_secure_strict(client: FlaskClient, link: Link) -> None:
    cookie = page(client, link.token).headers["Set-Cookie"]
    assert cookie.startswith("__Host-sendguard-csrf=")
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert "Domain" not in cookie


@pytest.mark.parametrize("header,query,lang,marker", [
    ("ja,en;q=0.5", "", "ja", "確認コードを送る"),
    ("ja-JP", "", "ja", "確認コードを送る"),
    ("en-US,en;q=0.9", "", "en", "Send me a code"),
    ("fr", "", "en", "Send me a code"),
    ("en", "?lang=ja", "ja", "確認コードを送る"),
    ("ja", "?lang=en", "en", "Send me a code"),
], ids=["ja", "ja-JP", "en-US", "fallback", "toggle-ja", "toggle-en"])
def test_language(client: FlaskClient, link: Link, header: str, query: str, lang: str,
                  marker: str) -> None:
    resp = client.get(f"/k/{link.token}{query}", headers={"Accept-Language": header})
    text = resp.get_data(as_text=True)
    assert f'<html lang="{lang}">' in text and marker in text
    other = "en" if lang == "ja" else "ja"
    assert f'href="?lang={other}"' in text


def test_host_header_is_never_used(client: FlaskClient, link: Link) -> None:
    resp = client.get(f"/k/{link.token}", headers={"Host": "evil.example"})
    assert resp.status_code == 200 and "evil.example" not in resp.get_data(as_text=True)


def test_audit_has_every_step_and_no_secret(client: FlaskClient, link: Link,
                                            smtp: SmtpServer, store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    opaque(post(client, link.token, "reveal", csrf, "00000000" if code != "00000000"
                else "11111111"))
    resp = post(client, link.token, "reveal", csrf, code)
    password = re.search(r'id="password">([^<]+)<', resp.get_data(as_text=True))
    assert password
    events = store.search_audit(package_id=link.package.id)
    actions = [e.action for e in events]
    for expected in ("package.created", "package.sent", "package.released", "notice.sent",
                     "key_page.viewed", "code.sent", "code.failed", "key.revealed",
                     "sender_notice.sent"):
        assert expected in actions, actions
    dump = json.dumps([e.data for e in events], ensure_ascii=False)
    for secret in (code, link.token, password.group(1), csrf):
        assert secret not in dump


def test_mail_server_down(client: FlaskClient, link: Link, smtp: SmtpServer,
                          store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    smtp.reject_with = "451 4.3.0 try again later"
    resp = post(client, link.token, "send_code", csrf)        # no code can go out: say so
    assert resp.status_code == 503 and 'id="unavailable"' in resp.get_data(as_text=True)
    resp = post(client, link.token, "reveal", csrf, code)     # the older code died with it
    assert resp.status_code == 403
    smtp.reject_with = None
    code = request_code(client, link.token, smtp)
    smtp.reject_with = "451 4.3.0 try again later"
    resp = post(client, link.token, "reveal", csrf, code)     # the sender's notice fails,
    assert resp.status_code == 200                            # the reveal does not
    actions = [e.action for e in store.search_audit(package_id=link.package.id)]
    assert "sender_notice.failed" in actions and "sender_notice.sent" not in actions
