"""The ``/k/<token>`` page through Flask's test client, with codes arriving at a real SMTP
server: GET consumes nothing, codes and reveals work once, every POST ends in a redirect
(Reload repeats nothing), a wrong code keeps the visitor on the form with the tries left,
a link that works no more says why and what to do (an unknown one says nothing), and the
security headers are there on every answer under /k/."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.delivery.material import open_package
from service.delivery.release import release_tick
from service.mailer import SmtpMailer
from service.protect.keywrap import LocalKeyWrapper
from service.settings import Config
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
         code: str | None = None, *, follow: bool = True) -> TestResponse:
    """A form as the browser sends it; by default the redirect is followed, as a browser
    does, and the page it lands on is returned."""
    data = {"action": action}
    if csrf is not None:
        data["csrf"] = csrf
    if code is not None:
        data["code"] = code
    resp = client.post(f"/k/{token}", data=data)
    if follow and resp.status_code == 303:
        assert resp.headers["Location"].startswith(f"/k/{token}?")
        return client.get(resp.headers["Location"])
    return resp


def request_code(client: FlaskClient, token: str, smtp: SmtpServer) -> str:
    before = len(smtp.messages)
    resp = post(client, token, "send_code", csrf_of(page(client, token)))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return code_in(smtp.wait_for(before + 1)[-1].text())


def message_of(resp: TestResponse) -> str | None:
    m = re.search(r'id="message" data-kind="([a-z_]+)"', resp.get_data(as_text=True))
    return m.group(1) if m else None


def ended(resp: TestResponse) -> str:
    """The reason an ended-link page gives."""
    m = re.search(r'id="ended" data-reason="([a-z_]+)"', resp.get_data(as_text=True))
    assert m, resp.get_data(as_text=True)[:500]
    return m.group(1)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


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


def test_views_are_audited_once_an_hour_not_per_get(client: FlaskClient, link: Link,
                                                    store: Store, clock: Clock) -> None:
    for _ in range(50):
        page(client, link.token)
    views = store.search_audit(package_id=link.package.id, action="key_page.viewed")
    assert len(views) == 1 and views[0].data["aggregated"]
    clock.advance(3600)
    page(client, link.token)
    assert len(store.search_audit(package_id=link.package.id, action="key_page.viewed")) == 2


def test_code_then_reveal_gives_the_password_that_opens_the_zip(
        client: FlaskClient, link: Link, store: Store, smtp: SmtpServer,
        keywrapper: LocalKeyWrapper, gmail: object, tmp_path: Path) -> None:
    first = page(client, link.token)
    redirect = post(client, link.token, "send_code", csrf_of(first), follow=False)
    assert redirect.status_code == 303                  # Post/Redirect/Get
    resp = client.get(redirect.headers["Location"])
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
    assert "sendguard keys" not in notice.text()      # what to do in Gmail, not a command
    assert "home card" in notice.text() and "ホームカード" in notice.text()
    # a second reveal (another browser, new code) counts, but does not mail the sender again
    other = client.application.test_client()
    second = request_code(other, link.token, smtp)
    resp = post(other, link.token, "reveal", csrf_of(page(other, link.token)), second)
    assert resp.status_code == 200 and 'id="password"' in resp.get_data(as_text=True)
    assert len(smtp.to(SENDER)) == 1
    assert store.get_package(link.package.id).reveal_count == 2


def test_reload_and_language_switch_after_the_reveal_cost_nothing(
        client: FlaskClient, link: Link, store: Store, smtp: SmtpServer,
        clock: Clock) -> None:
    code = request_code(client, link.token, smtp)
    shown = post(client, link.token, "reveal", csrf_of(page(client, link.token)), code)
    password = re.search(r'id="password">([^<]+)<', shown.get_data(as_text=True))
    assert password
    for query in ("", "?lang=en", "?lang=ja", ""):        # Reload, switch, switch, Back
        resp = client.get(f"/k/{link.token}{query}")
        assert password.group(1) in resp.get_data(as_text=True), query
    assert '<html lang="ja">' in client.get(f"/k/{link.token}?lang=ja").get_data(as_text=True)
    assert store.get_package(link.package.id).reveal_count == 1
    assert len(smtp.messages) == 2                        # the code and the sender's notice
    clock.advance(10 * 60 + 1)                            # the short session ends
    assert 'id="password"' not in page(client, link.token).get_data(as_text=True)


def test_revoking_ends_the_session_at_once(client: FlaskClient, link: Link, store: Store,
                                           smtp: SmtpServer, clock: Clock) -> None:
    code = request_code(client, link.token, smtp)
    post(client, link.token, "reveal", csrf_of(page(client, link.token)), code)
    store.revoke(link.package.id, SENDER, clock.now)
    resp = page(client, link.token)
    assert resp.status_code == 410 and ended(resp) == "revoked"


def test_reloading_a_post_repeats_nothing(client: FlaskClient, link: Link, store: Store,
                                          smtp: SmtpServer) -> None:
    csrf = csrf_of(page(client, link.token))
    resp = post(client, link.token, "send_code", csrf, follow=False)
    location = resp.headers["Location"]
    for _ in range(3):                                    # Reload of the page it landed on
        assert 'id="code-sent"' in client.get(location).get_data(as_text=True)
    assert len(smtp.wait_for(1)) == 1
    code = code_in(smtp.messages[0].text())
    resp = post(client, link.token, "reveal", csrf, wrong_code(code), follow=False)
    for _ in range(3):
        assert message_of(client.get(resp.headers["Location"])) == "wrong"
    assert store.list_grants(link.package.id)[0].code_attempts == 1


def test_full_width_code_is_accepted(client: FlaskClient, link: Link, smtp: SmtpServer) -> None:
    code = request_code(client, link.token, smtp)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code[:4]) + " " + code[4:]
    resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)), wide)
    assert resp.status_code == 200 and 'id="password"' in resp.get_data(as_text=True)


def test_a_wrong_code_keeps_the_form_and_says_the_tries_left(
        client: FlaskClient, link: Link, smtp: SmtpServer, store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    for left in (4, 3, 2):
        resp = post(client, link.token, "reveal", csrf, wrong_code(code))
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200 and message_of(resp) == "wrong"
        assert 'id="reveal-form"' in text and f"try {left} more times" in text
    resp = post(client, link.token, "reveal", csrf, wrong_code(code))
    assert "try once more" in resp.get_data(as_text=True)       # "1 more times": never
    resp = post(client, link.token, "reveal", csrf, code)       # the right one, 5th try
    assert 'id="password"' in resp.get_data(as_text=True)
    assert store.get_package(link.package.id).reveal_count == 1


def test_japanese_tries_left(client: FlaskClient, link: Link, smtp: SmtpServer) -> None:
    code = request_code(client, link.token, smtp)
    client.get(f"/k/{link.token}?lang=ja")
    resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)),
                wrong_code(code))
    resp = client.get(f"/k/{link.token}?lang=ja&m=wrong")
    assert "このコードはあと4回入力できます" in resp.get_data(as_text=True)


def test_malformed_code_is_not_counted(client: FlaskClient, link: Link, smtp: SmtpServer,
                                       store: Store) -> None:
    request_code(client, link.token, smtp)
    resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)), "1234")
    assert message_of(resp) == "malformed" and 'id="reveal-form"' in resp.get_data(as_text=True)
    assert store.list_grants(link.package.id)[0].code_attempts == 0


def test_resend_invalidates_the_old_code(client: FlaskClient, link: Link,
                                         smtp: SmtpServer) -> None:
    old = request_code(client, link.token, smtp)
    new = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    if old != new:
        assert message_of(post(client, link.token, "reveal", csrf, old)) == "wrong"
    assert 'id="password"' in post(client, link.token, "reveal", csrf,
                                   new).get_data(as_text=True)


def test_sixth_attempt_is_refused_even_with_the_right_code(client: FlaskClient, link: Link,
                                                           smtp: SmtpServer,
                                                           store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    kinds = [message_of(post(client, link.token, "reveal", csrf, wrong_code(code)))
             for _ in range(5)]
    assert kinds == ["wrong"] * 4 + ["exhausted"]
    resp = post(client, link.token, "reveal", csrf, code)
    assert message_of(resp) == "exhausted" and 'id="password"' not in resp.get_data(as_text=True)
    assert 'id="send-code"' in resp.get_data(as_text=True)       # the way on: a new code
    assert store.get_package(link.package.id).reveal_count == 0
    assert len(store.search_audit(package_id=link.package.id, action="code.wrong")) == 5
    failed = store.search_audit(package_id=link.package.id, action="code.failed")
    assert [e.data["reason"] for e in failed] == ["exhausted"]


def test_wrong_codes_across_codes_lock_the_link(client: FlaskClient, link: Link,
                                                smtp: SmtpServer, store: Store,
                                                clock: Clock) -> None:
    """Each new code used to reset the count: 5 guesses a code, 1,200 a day. Now 20 wrong
    codes in the life of a link lock it, and the page says what to do."""
    from service.delivery.keypage import MAX_FAILURES_PER_LINK

    guesses = 0
    while guesses < MAX_FAILURES_PER_LINK:
        code = request_code(client, link.token, smtp)
        csrf = csrf_of(page(client, link.token))
        for _ in range(5):
            resp = post(client, link.token, "reveal", csrf, wrong_code(code))
            guesses += 1
            if guesses == MAX_FAILURES_PER_LINK:
                break
        clock.advance(600)                               # past the per-10-minute limit
    assert resp.status_code == 403 and ended(resp) == "locked"
    text = resp.get_data(as_text=True)
    assert "new notice" in text and SENDER in text and 'id="reveal-form"' not in text
    assert ended(page(client, link.token)) == "locked"
    csrf = "x"                                           # the page has no form any more
    assert ended(post(client, link.token, "send_code", csrf)) == "locked"
    assert len(smtp.messages) == 4                       # no code mail once locked


def test_code_mails_per_link_are_capped(client: FlaskClient, link: Link, smtp: SmtpServer,
                                        clock: Clock) -> None:
    from service.delivery.keypage import MAX_CODES_PER_LINK

    for _ in range(MAX_CODES_PER_LINK):
        request_code(client, link.token, smtp)
        clock.advance(601)                               # each code expires unused
    resp = page(client, link.token)
    assert resp.status_code == 403 and ended(resp) == "codes_used_up"
    assert len(smtp.messages) == MAX_CODES_PER_LINK


def test_code_requests_are_rate_limited_per_link(client: FlaskClient, link: Link,
                                                 smtp: SmtpServer, clock: Clock) -> None:
    for _ in range(3):
        request_code(client, link.token, smtp)
    resp = post(client, link.token, "send_code", csrf_of(page(client, link.token)))
    assert resp.status_code == 200 and message_of(resp) == "rate_limited"
    assert 'id="reveal-form"' in resp.get_data(as_text=True)    # the last code still works
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
            refused += message_of(resp) == "rate_limited"
            sent += message_of(resp) is None
    assert (sent, refused) == (10, 2)
    assert len(smtp.messages) == 10


def test_stale_code_is_refused(client: FlaskClient, link: Link, smtp: SmtpServer,
                               clock: Clock) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    clock.advance(10 * 60 + 1)
    resp = post(client, link.token, "reveal", csrf, code)
    assert message_of(resp) == "stale" and 'id="send-code"' in resp.get_data(as_text=True)


def test_replayed_code_is_refused(client: FlaskClient, link: Link, smtp: SmtpServer,
                                  store: Store, app: object) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    assert 'id="password"' in post(client, link.token, "reveal", csrf,
                                   code).get_data(as_text=True)
    other = app.test_client()  # type: ignore[attr-defined]
    resp = post(other, link.token, "reveal", csrf_of(page(other, link.token)), code)
    assert message_of(resp) == "stale"                                 # used once only
    assert store.get_package(link.package.id).reveal_count == 1


# --------------------------------------------------------------------- ended links

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


@pytest.mark.parametrize("spoil,reason,status,words", [
    (_expired, "expired", 410, "expired"),
    (_revoked, "revoked", 410, "withdrew"),
    (_limit_reached, "used_up", 410, "as often as allowed"),
], ids=["expired", "revoked", "reveal-limit"])
def test_ended_links_say_what_happened_and_what_to_do(
        client: FlaskClient, link: Link, store: Store, clock: Clock, smtp: SmtpServer,
        spoil: object, reason: str, status: int, words: str) -> None:
    csrf = csrf_of(page(client, link.token))
    code = request_code(client, link.token, smtp)
    spoil(link, store, clock)  # type: ignore[operator]
    for resp in (page(client, link.token), post(client, link.token, "send_code", csrf),
                 post(client, link.token, "reveal", csrf, code)):
        assert resp.status_code == status and ended(resp) == reason
        text = resp.get_data(as_text=True)
        assert words in text and SENDER in text and 'id="reveal-form"' not in text
    assert ended(page(client, "A" * 43)) == "invalid"            # distinct from unknown


def test_expired_page_gives_japan_time_in_japanese(client: FlaskClient, link: Link,
                                                   clock: Clock) -> None:
    clock.advance(7 * 86400)
    text = client.get(f"/k/{link.token}?lang=ja").get_data(as_text=True)
    expires = link.package.expires_at + timedelta(hours=9)
    assert f"{expires.month}月{expires.day}日 {expires:%H:%M}（日本時間）" in text
    assert "UTC" not in text


@pytest.mark.parametrize("token", [
    "A" * 43, "short", "x" * 200, "%00", "A" * 42 + ".", "A" * 42 + "=",
], ids=["unknown", "short", "long", "nul", "dot", "padding"])
def test_unknown_or_malformed_tokens(client: FlaskClient, link: Link, token: str) -> None:
    for resp in (page(client, token), post(client, token, "send_code", "x")):
        assert resp.status_code == 404 and ended(resp) == "invalid"
        assert SENDER not in resp.get_data(as_text=True)


def test_held_package_link_is_refused(send_draft: SendDraft, client: FlaskClient,
                                      keywrapper: LocalKeyWrapper) -> None:
    package = send_draft((PARTNER,))
    token = open_package(keywrapper, package).link_token(PARTNER)   # what the notice will hold
    resp = page(client, token)
    assert resp.status_code == 403 and ended(resp) == "held"


@pytest.mark.parametrize("csrf", [None, "", "forged", "A" * 43],
                         ids=["missing", "empty", "garbage", "wrong"])
def test_csrf_is_required(client: FlaskClient, link: Link, smtp: SmtpServer, store: Store,
                          csrf: str | None) -> None:
    page(client, link.token)
    resp = post(client, link.token, "send_code", csrf)
    assert message_of(resp) == "again"                  # nothing done, the form again
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
    assert message_of(post(stranger, link.token, "send_code", csrf)) == "again"
    bare = app.test_client()  # type: ignore[attr-defined]
    post(bare, link.token, "send_code", csrf)   # no cookie at all
    other = send_draft((PARTNER,))
    clock.advance(300)
    release_tick(store, mailer, config, keywrapper, clock.now)
    other_token = link_token(smtp.wait_for(1)[0].text())
    assert other_token != link.token and other.id
    assert message_of(post(client, other_token, "send_code", csrf)) == "again"
    assert store.list_grants(link.package.id)[0].code_sent_count == 0


def test_unknown_action_is_refused(client: FlaskClient, link: Link, smtp: SmtpServer) -> None:
    resp = post(client, link.token, "delete", csrf_of(page(client, link.token)))
    assert message_of(resp) == "again" and smtp.messages == []


# --------------------------------------------------------------------- headers, language

def _check_headers(resp: TestResponse) -> None:
    h = resp.headers
    csp = h["Content-Security-Policy"]
    for directive in ("default-src 'none'", "form-action 'self'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "*" not in csp
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cache-Control"] == "no-store"


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
    _check_headers(resp)
    nonce = NONCE.search(resp.headers["Content-Security-Policy"])
    assert nonce and f'nonce="{nonce.group(1)}"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("method,path,status", [
    ("get", "/k/", 404), ("get", "/k/abc/def", 404), ("put", "/k/{token}", 405),
    ("delete", "/k/{token}", 405), ("post", "/k/{token}/x", 404),
], ids=["no-token", "tail", "put", "delete", "post-tail"])
def test_security_headers_on_router_errors(client: FlaskClient, link: Link, method: str,
                                           path: str, status: int) -> None:
    resp = getattr(client, method)(path.format(token=link.token))
    assert resp.status_code == status
    _check_headers(resp)
    assert 'id="ended"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("headers,path,marker", [
    ({"Accept-Language": "ja"}, "/k/abc/def", "このリンクは使えません"),
    ({}, "/k/abc/def?lang=ja", "このリンクは使えません"),
    ({"Accept-Language": "en"}, "/k/abc/def", "This link does not work"),
], ids=["header-ja", "switch-ja", "header-en"])
def test_router_errors_speak_the_visitors_language(client: FlaskClient, headers: dict[str, str],
                                                   path: str, marker: str) -> None:
    """No route matched, so no view set the language: the 404 page still does."""
    assert marker in client.get(path, headers=headers).get_data(as_text=True)


def test_other_404s_keep_their_own_answer(client: FlaskClient) -> None:
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "Content-Security-Policy" not in resp.headers


def test_csrf_cookie_is_host_only_secure_strict(client: FlaskClient, link: Link) -> None:
    cookie = page(client, link.token).headers["Set-Cookie"]
    assert cookie.startswith("__Host-sendguard-csrf=")
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert "Domain" not in cookie


def test_session_cookie_is_host_only_secure_strict(client: FlaskClient, link: Link,
                                                   smtp: SmtpServer) -> None:
    code = request_code(client, link.token, smtp)
    resp = post(client, link.token, "reveal", csrf_of(page(client, link.token)), code,
                follow=False)
    [cookie] = [c for c in resp.headers.getlist("Set-Cookie") if "seen" in c]
    assert cookie.startswith("__Host-sendguard-seen=")
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=600"):
        assert attr in cookie


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


def test_one_file_reads_naturally(client: FlaskClient, send_draft: SendDraft, store: Store,
                                  mailer: SmtpMailer, config: Config,
                                  keywrapper: LocalKeyWrapper, clock: Clock,
                                  smtp: SmtpServer) -> None:
    from .helpers import draft_bytes

    send_draft((PARTNER,), raw=draft_bytes({"a.txt": b"x" * 100}))
    clock.advance(300)
    release_tick(store, mailer, config, keywrapper, clock.now)
    [notice] = smtp.wait_for(1)
    assert "1 file)" in notice.text() and "ファイル1件" in notice.text()
    text = page(client, link_token(notice.text())).get_data(as_text=True)
    assert "(1 file)" in text and "file(s)" not in text


def test_host_header_is_never_used(client: FlaskClient, link: Link) -> None:
    resp = client.get(f"/k/{link.token}", headers={"Host": "evil.example"})
    assert resp.status_code == 200 and "evil.example" not in resp.get_data(as_text=True)


def test_audit_has_every_step_and_no_secret(client: FlaskClient, link: Link,
                                            smtp: SmtpServer, store: Store) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    post(client, link.token, "reveal", csrf, wrong_code(code))
    resp = post(client, link.token, "reveal", csrf, code)
    password = re.search(r'id="password">([^<]+)<', resp.get_data(as_text=True))
    assert password
    events = store.search_audit(package_id=link.package.id)
    actions = [e.action for e in events]
    for expected in ("package.created", "package.sent", "package.released", "notice.sent",
                     "key_page.viewed", "code.sent", "code.wrong", "key.revealed",
                     "sender_notice.sent"):
        assert expected in actions, actions
    dump = json.dumps([e.data for e in events], ensure_ascii=False)
    for secret in (code, link.token, password.group(1), csrf):
        assert secret not in dump


def test_mail_server_down(client: FlaskClient, link: Link, smtp: SmtpServer,
                          store: Store, app: object) -> None:
    code = request_code(client, link.token, smtp)
    csrf = csrf_of(page(client, link.token))
    smtp.reject_with = "451 4.3.0 try again later"
    resp = post(client, link.token, "send_code", csrf)        # no code can go out: say so
    assert resp.status_code == 503 and 'id="unavailable"' in resp.get_data(as_text=True)
    resp = post(client, link.token, "reveal", csrf, code)     # the older code died with it
    assert message_of(resp) == "wrong"
    smtp.reject_with = None
    code = request_code(client, link.token, smtp)
    smtp.reject_with = "451 4.3.0 try again later"
    resp = post(client, link.token, "reveal", csrf, code)     # the sender's notice fails,
    assert 'id="password"' in resp.get_data(as_text=True)    # the reveal does not
    actions = [e.action for e in store.search_audit(package_id=link.package.id)]
    assert "sender_notice.failed" in actions and "sender_notice.sent" not in actions
