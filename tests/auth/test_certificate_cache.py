"""Google's certificates are fetched over real HTTP, cached per Cache-Control (not per
request), shared by concurrent callers, refetched once on key rotation, and a failed fetch
fails closed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests

from service.auth import RequestVerifier
from service.devtools.tokens import CertServer, LocalIssuer, serve_certs
from service.errors import AuthError, ConfigError
from service.idtokens import (
    DEFAULT_MAX_AGE,
    MAX_MAX_AGE,
    MIN_MAX_AGE,
    UNKNOWN_KID_REFETCH,
    CertificateCache,
    _max_age,
    parse_certs,
)

from .conftest import AUDIENCE, CLIENT_ID, SERVICE_ACCOUNT, Ctx, FakeClock


@pytest.mark.parametrize(("cache_control", "age", "ttl"), [
    ("", None, DEFAULT_MAX_AGE),
    ("public, max-age=19302, must-revalidate, no-transform", None, 19302),
    ("max-age=600", "100", 500),
    ("max-age=600", "junk", 600),
    ("max-age=999999", None, MAX_MAX_AGE),
    ("max-age=0", None, MIN_MAX_AGE),
    ("no-cache, max-age=600", None, MIN_MAX_AGE),
    ("max-age=10", "100", MIN_MAX_AGE),
    ("max-age=abc", None, DEFAULT_MAX_AGE),
    ('max-age="120"', None, 120),
], ids=["absent", "google_style", "minus_age", "bad_age", "capped_24h", "zero_floored",
        "no_cache_floored", "age_beyond_max_age", "unparsable", "quoted"])
def test_freshness_lifetime(cache_control: str, age: str | None, ttl: float) -> None:
    assert _max_age(cache_control, age) == ttl


def _verify_n(verifier: RequestVerifier, ctx: Ctx, n: int) -> None:
    request = ctx.request(ctx.sys(), ctx.usr())
    for _ in range(n):
        verifier.verify_request(*request)


def test_many_verifications_one_fetch(verifier: RequestVerifier, ctx: Ctx,
                                      cert_server: CertServer) -> None:
    _verify_n(verifier, ctx, 50)
    assert cert_server.fetches == 1


@pytest.mark.parametrize(("max_age", "age", "fresh_for"), [
    (300, None, 300), (None, None, DEFAULT_MAX_AGE), (3600, 3000, 600),
    (10 * 24 * 3600, None, MAX_MAX_AGE),
], ids=["max_age_300", "no_cache_control", "age_header", "ten_days_capped"])
def test_refetch_after_expiry(verifier: RequestVerifier, certs: CertificateCache, ctx: Ctx,
                              cert_server: CertServer,
                              max_age: int | None, age: int | None, fresh_for: float) -> None:
    cert_server.max_age, cert_server.age = max_age, age
    _verify_n(verifier, ctx, 3)
    ctx.clock.advance(fresh_for - 1)       # tokens would not outlive a day: ask the cache
    certs.get()
    assert cert_server.fetches == 1
    ctx.clock.advance(2)
    certs.get()
    certs.get()
    assert cert_server.fetches == 2


def test_server_down_fails_closed(certs: CertificateCache, verifier: RequestVerifier,
                                  ctx: Ctx, cert_server: CertServer) -> None:
    cert_server()
    with pytest.raises(AuthError):
        certs.get()
    with pytest.raises(AuthError):
        verifier.verify_request(*ctx.request(ctx.sys(), ctx.usr()))


@pytest.mark.parametrize(("status", "body"), [
    (500, None),
    (404, None),
    (200, b"<html>maintenance</html>"),
    (200, b"[]"),
    (200, b"{}"),
    (200, json.dumps({"k1": "-----BEGIN CERTIFICATE-----\nnot base64\n"}).encode()),
    (200, json.dumps({"keys": [{"kty": "EC", "kid": "e1", "crv": "P-256"}]}).encode()),
    (200, b"{" + b" " * 1_100_000 + b"}"),
], ids=["http_500", "http_404", "html", "json_list", "empty_object", "broken_pem",
        "jwks_without_rsa", "too_large"])
def test_bad_certificate_response_fails_closed(certs: CertificateCache,
                                               cert_server: CertServer,
                                               status: int, body: bytes | None) -> None:
    cert_server.status, cert_server.body = status, body
    with pytest.raises(AuthError):
        certs.get()


def test_expired_certificates_are_not_used_when_refetch_fails(
        certs: CertificateCache, verifier: RequestVerifier, ctx: Ctx,
        cert_server: CertServer) -> None:
    _verify_n(verifier, ctx, 1)
    cert_server.status = 503
    ctx.clock.advance(301)
    with pytest.raises(AuthError):
        verifier.verify_request(*ctx.request(ctx.sys(), ctx.usr()))


def test_failed_fetch_pauses_then_recovers(certs: CertificateCache, clock: FakeClock,
                                           cert_server: CertServer,
                                           issuer: LocalIssuer) -> None:
    cert_server.status = 500
    with pytest.raises(AuthError):
        certs.get()
    cert_server.status = 200
    for _ in range(20):            # a failing certificate URL is not hammered
        with pytest.raises(AuthError):
            certs.get()
    assert cert_server.fetches == 1
    clock.advance(6)
    assert issuer.kid in certs.get()
    assert cert_server.fetches == 2


def test_concurrent_first_requests_share_one_fetch(verifier: RequestVerifier, ctx: Ctx,
                                                   cert_server: CertServer) -> None:
    cert_server.delay = 0.3
    request = ctx.request(ctx.sys(), ctx.usr())
    threads_n = 16
    barrier = threading.Barrier(threads_n)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(verifier.verify_request(*request).user_email)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors
    assert len(results) == threads_n
    assert cert_server.fetches == 1


@pytest.fixture
def rotating() -> Iterator[tuple[LocalIssuer, CertServer]]:
    own = LocalIssuer()          # its own keys: rotation must not leak into other tests
    _url, server = serve_certs(own, max_age=6 * 3600)
    yield own, server
    server()


def test_key_rotation_refetches_once_and_forged_kids_are_rate_limited(
        rotating: tuple[LocalIssuer, CertServer], ctx: Ctx) -> None:
    own, server = rotating
    cache = CertificateCache(server.url, clock=ctx.clock)
    verifier = RequestVerifier(cache, audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                               oauth_client_id=CLIENT_ID, clock=ctx.clock)
    try:
        old = own.system_token(audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                               now=None)
        verifier.verify_system_token(old)
        ctx.clock.advance(UNKNOWN_KID_REFETCH + 1)
        own.rotate()
        new = own.system_token(audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                               now=None)
        verifier.verify_system_token(new)            # unknown kid: one refetch finds it
        verifier.verify_system_token(old)            # the old key stays published
        assert server.fetches == 2
        for i in range(25):                          # forged kids cannot make us hammer
            forged = own.system_token(audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                                      kid=f"forged-{i}")
            with pytest.raises(AuthError):
                verifier.verify_system_token(forged)
        assert server.fetches == 2
        ctx.clock.advance(UNKNOWN_KID_REFETCH + 1)
        for i in range(25):
            forged = own.system_token(audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                                      kid=f"forged-again-{i}")
            with pytest.raises(AuthError):
                verifier.verify_system_token(forged)
        assert server.fetches == 3
    finally:
        cache.close()


def test_jwks_format(issuer: LocalIssuer, ctx: Ctx) -> None:
    _url, server = serve_certs(issuer, fmt="jwks")
    cache = CertificateCache(server.url, clock=ctx.clock)
    try:
        verifier = RequestVerifier(cache, audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                                   oauth_client_id=CLIENT_ID, clock=ctx.clock)
        caller = verifier.verify_request(*ctx.request(ctx.sys(), ctx.usr()))
        assert caller.user_email == ctx.user.lower()
        with pytest.raises(AuthError):
            verifier.verify_system_token(ctx.sys(key_override=ctx.other_key))
        assert server.fetches == 1
    finally:
        cache.close()
        server()


def test_unusable_entries_are_dropped_not_trusted(issuer: LocalIssuer) -> None:
    doc = dict(issuer.certs_json())
    doc["broken"] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    doc["not-a-string"] = 5  # type: ignore[assignment]
    assert set(parse_certs(doc)) == {issuer.kid}


def test_shared_session_is_not_closed_by_the_cache(cert_server: CertServer,
                                                   clock: FakeClock) -> None:
    with requests.Session() as session:
        cache = CertificateCache(cert_server.url, session=session, clock=clock)
        cache.get()
        cache.close()
        assert session.get(cert_server.url, timeout=5).status_code == 200


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://example.com/certs"],
                         ids=["empty", "file", "ftp"])
def test_certificate_url_must_be_http(url: str) -> None:
    with pytest.raises(ConfigError):
        CertificateCache(url)
