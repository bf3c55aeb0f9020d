"""Add-on request verification through google-auth's real code, against a certificate
server on loopback: every forged, stale or misdirected request is one generic AuthError,
and the log names the failed check without ever holding a token."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from service.auth import Caller, RequestVerifier
from service.errors import AuthError, ConfigError
from service.idtokens import PUBLIC_MESSAGE, CertificateCache, verify_oidc_token

from .conftest import AUDIENCE, CLIENT_ID, SERVICE_ACCOUNT, USER, Ctx

Request = tuple[object, object]
Case = Callable[[Ctx], Request]

OTHER_SA = "service-999999999999@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"


def _rs_sign(ctx: Ctx, algorithm: hashes.HashAlgorithm) -> Callable[[bytes], bytes]:
    return lambda data: ctx.issuer.private_key.sign(data, padding.PKCS1v15(), algorithm)


def _hs256_with_public_key(ctx: Ctx) -> str:
    """The classic confusion attack: HMAC keyed with the published certificate."""
    secret = ctx.issuer.certs_json()[ctx.issuer.kid].encode()
    return ctx.forge({"alg": "HS256", "typ": "JWT", "kid": ctx.issuer.kid},
                     ctx.system_claims(),
                     lambda data: hmac.new(secret, data, hashlib.sha256).digest())


def _hs256_with_public_key_spki(ctx: Ctx) -> str:
    secret = ctx.issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ctx.forge({"alg": "HS256", "typ": "JWT", "kid": ctx.issuer.kid},
                     ctx.system_claims(),
                     lambda data: hmac.new(secret, data, hashlib.sha256).digest())


def _ok_user(ctx: Ctx) -> str:
    return ctx.usr()


# (id, build the request, fragment the log line must name)
REJECTED: list[tuple[str, Case, str]] = [
    ("forged_signature",
     lambda c: c.request(c.sys(key_override=c.other_key), _ok_user(c)), "bad signature"),
    ("forged_user_signature",
     lambda c: c.request(c.sys(), c.usr(key_override=c.other_key)), "bad signature"),
    ("wrong_audience",
     lambda c: c.request(c.sys(audience="https://evil.example/addon"), _ok_user(c)),
     "audience"),
    ("audience_as_list",
     lambda c: c.request(c.sys(aud=[AUDIENCE, "other"]), _ok_user(c)), "audience"),
    ("wrong_service_account",
     lambda c: c.request(c.sys(service_account=OTHER_SA), _ok_user(c)), "service account"),
    ("email_verified_false",
     lambda c: c.request(c.sys(email_verified=False), _ok_user(c)), "email_verified"),
    ("email_verified_missing",
     lambda c: c.request(c.sys(email_verified=None), _ok_user(c)), "email_verified"),
    ("email_verified_string",
     lambda c: c.request(c.sys(email_verified="true"), _ok_user(c)), "email_verified"),
    ("email_missing", lambda c: c.request(c.sys(email=None), _ok_user(c)), "email missing"),
    ("expired", lambda c: c.request(c.sys(now=c.clock.now - 7200), _ok_user(c)), "expired"),
    ("expired_beyond_leeway",
     lambda c: c.request(c.sys(now=c.clock.now - 3611), _ok_user(c)), "expired"),
    ("issued_in_future",
     lambda c: c.request(c.sys(now=c.clock.now + 600), _ok_user(c)), "future"),
    ("not_before_in_future",
     lambda c: c.request(c.sys(nbf=int(c.clock.now) + 600), _ok_user(c)), "nbf"),
    ("exp_missing", lambda c: c.request(c.sys(exp=None), _ok_user(c)), "exp"),
    ("iat_missing", lambda c: c.request(c.sys(iat=None), _ok_user(c)), "iat"),
    ("exp_not_a_number",
     lambda c: c.request(c.sys(exp=str(int(c.clock.now) + 60)), _ok_user(c)), "claim exp"),
    ("lifetime_two_days",
     lambda c: c.request(c.sys(lifetime=48 * 3600), _ok_user(c)), "lifetime"),
    ("wrong_issuer",
     lambda c: c.request(c.sys(iss="https://evil.example"), _ok_user(c)), "issuer"),
    ("issuer_missing", lambda c: c.request(c.sys(iss=None), _ok_user(c)), "issuer"),
    ("alg_none_empty_signature",
     lambda c: c.request(c.forge({"alg": "none", "kid": c.issuer.kid}, c.system_claims()),
                         _ok_user(c)), "compact JWS"),
    ("alg_none_with_signature",
     lambda c: c.request(c.forge({"alg": "none", "kid": c.issuer.kid}, c.system_claims(),
                                 b"x" * 32), _ok_user(c)), "is not RS256"),
    ("hs256_certificate_as_secret",
     lambda c: c.request(_hs256_with_public_key(c), _ok_user(c)), "is not RS256"),
    ("hs256_public_key_as_secret",
     lambda c: c.request(_hs256_with_public_key_spki(c), _ok_user(c)), "is not RS256"),
    ("rs512_real_signature",
     lambda c: c.request(c.forge({"alg": "RS512", "kid": c.issuer.kid}, c.system_claims(),
                                 _rs_sign(c, hashes.SHA512())), _ok_user(c)), "is not RS256"),
    ("es256_header",
     lambda c: c.request(c.forge({"alg": "ES256", "kid": c.issuer.kid}, c.system_claims(),
                                 b"x" * 64), _ok_user(c)), "is not RS256"),
    ("no_kid_but_valid_signature",
     lambda c: c.request(c.forge({"alg": "RS256", "typ": "JWT"}, c.system_claims(),
                                 _rs_sign(c, hashes.SHA256())), _ok_user(c)), "has no key id"),
    ("kid_not_text",
     lambda c: c.request(c.forge({"alg": "RS256", "kid": 7}, c.system_claims(),
                                 _rs_sign(c, hashes.SHA256())), _ok_user(c)), "has no key id"),
    ("unknown_kid",
     lambda c: c.request(c.sys(kid="0123456789abcdef-unknown"), _ok_user(c)),
     "unknown key id"),
    ("missing_header", lambda c: (None, c.request(c.sys(), _ok_user(c))[1]),
     "no Authorization"),
    ("empty_header", lambda c: ("", c.request(c.sys(), _ok_user(c))[1]), "no Authorization"),
    ("basic_scheme", lambda c: ("Basic " + c.sys(), c.request(c.sys(), _ok_user(c))[1]),
     "Bearer"),
    ("bearer_without_token", lambda c: ("Bearer ", c.request(c.sys(), _ok_user(c))[1]),
     "Bearer"),
    ("bearer_alone", lambda c: ("Bearer", c.request(c.sys(), _ok_user(c))[1]), "Bearer"),
    ("bearer_two_tokens",
     lambda c: (f"Bearer {c.sys()} {c.sys()}", c.request(c.sys(), _ok_user(c))[1]), "Bearer"),
    ("bearer_trailing_newline",
     lambda c: (f"Bearer {c.sys()}\n", c.request(c.sys(), _ok_user(c))[1]), "Bearer"),
    ("garbage_token", lambda c: c.request("not-a-jwt", _ok_user(c)), "compact JWS"),
    ("garbage_segments", lambda c: c.request("abc.def.ghi", _ok_user(c)), "header"),
    ("non_ascii_token", lambda c: c.request("ｔｏｋｅｎ.ａ.ｂ", _ok_user(c)), "compact JWS"),
    ("huge_garbage_token",
     lambda c: c.request("A" * 100_000 + ".B.C", _ok_user(c)), "longer than"),
    ("huge_but_validly_signed",
     lambda c: c.request(c.sys(padding="x" * 9000), _ok_user(c)), "longer than"),
    ("user_token_in_header", lambda c: c.request(c.usr(), c.usr()), "audience"),
    ("user_token_wrong_audience",
     lambda c: c.request(c.sys(), c.usr(audience="999-other.apps.googleusercontent.com")),
     "audience"),
    ("system_token_as_user_token", lambda c: c.request(c.sys(), c.sys()), "audience"),
    ("service_account_as_user",
     lambda c: c.request(c.sys(), c.usr(email=SERVICE_ACCOUNT)), "cannot name a user"),
    ("user_email_verified_false",
     lambda c: c.request(c.sys(), c.usr(email_verified=False)), "email_verified"),
    ("user_sub_missing", lambda c: c.request(c.sys(), c.usr(sub=None)), "sub missing"),
    ("user_token_expired",
     lambda c: c.request(c.sys(), c.usr(now=c.clock.now - 7200)), "expired"),
    ("user_token_unknown_kid",
     lambda c: c.request(c.sys(), c.usr(kid="feedface-unknown")), "unknown key id"),
    ("user_token_missing", lambda c: c.request(c.sys(), None), "userIdToken missing"),
    ("user_token_not_text",
     lambda c: (f"Bearer {c.sys()}",
                {"authorizationEventObject": {"userIdToken": {"a": 1}}}), "not text"),
    ("auth_object_missing", lambda c: (f"Bearer {c.sys()}", {}), "authorizationEventObject"),
    ("auth_object_not_object",
     lambda c: (f"Bearer {c.sys()}", {"authorizationEventObject": "x"}),
     "authorizationEventObject"),
    ("event_not_object", lambda c: (f"Bearer {c.sys()}", ["x"]), "not a JSON object"),
    ("echoed_system_token_forged",
     lambda c: c.request(c.sys(), _ok_user(c), echo=c.sys(key_override=c.other_key)),
     "bad signature"),
    ("echoed_system_token_not_text",
     lambda c: c.request(c.sys(), _ok_user(c), echo=12345), "not text"),
]


def _tokens_of(header: object, event: object) -> list[str]:
    found = []
    if isinstance(header, str) and " " in header:
        found.append(header.split(" ", 1)[1].strip())
    auth = event.get("authorizationEventObject") if isinstance(event, dict) else None
    if isinstance(auth, dict):
        found += [v for v in auth.values() if isinstance(v, str)]
    return [t for t in found if len(t) >= 16]


def _assert_no_token_logged(caplog: pytest.LogCaptureFixture, tokens: list[str]) -> None:
    pieces = set(tokens)
    for token in tokens:
        pieces.update(part for part in token.split(".") if len(part) >= 16)
    for record in caplog.records:
        text = record.getMessage() + (record.exc_text or "")
        for piece in pieces:
            assert piece not in text, f"a token leaked into the log: {record.name}"


@pytest.mark.parametrize(("build", "reason"), [(b, r) for _, b, r in REJECTED],
                         ids=[name for name, _, _ in REJECTED])
def test_rejected(verifier: RequestVerifier, ctx: Ctx, caplog: pytest.LogCaptureFixture,
                  build: Case, reason: str) -> None:
    header, event = build(ctx)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        verifier.verify_request(header, event)  # type: ignore[arg-type]
    err = info.value
    assert (str(err), err.status) == (PUBLIC_MESSAGE, 401)
    assert err.__cause__ is None and err.__context__ is None   # nothing chained, nothing leaks
    lines = [r.getMessage() for r in caplog.records
             if r.name == "service.auth" and r.levelno >= logging.WARNING]
    assert lines, "a rejection must leave a log line"
    assert reason in lines[-1]
    _assert_no_token_logged(caplog, _tokens_of(header, event))


ACCEPTED: list[tuple[str, Case]] = [
    ("echoed", lambda c: c.request(c.sys(), c.usr())),
    ("header_only", lambda c: c.request(c.sys(), c.usr(), echo=None)),
    ("echo_is_another_valid_token",
     lambda c: c.request(c.sys(), c.usr(), echo=c.sys(now=c.clock.now - 60))),
    ("issuer_without_scheme",
     lambda c: c.request(c.sys(iss="accounts.google.com"), c.usr(iss="accounts.google.com"))),
    ("lower_case_scheme", lambda c: (f"bearer {c.sys()}", c.request(c.sys(), c.usr())[1])),
    ("expired_within_leeway",
     lambda c: c.request(c.sys(now=c.clock.now - 3605), c.usr(now=c.clock.now - 3605))),
    ("service_account_in_upper_case",
     lambda c: c.request(c.sys(email=SERVICE_ACCOUNT.upper()), c.usr())),
]


@pytest.mark.parametrize("build", [b for _, b in ACCEPTED], ids=[n for n, _ in ACCEPTED])
def test_accepted(verifier: RequestVerifier, ctx: Ctx, caplog: pytest.LogCaptureFixture,
                  build: Case) -> None:
    header, event = build(ctx)
    caplog.set_level(logging.DEBUG)
    caller = verifier.verify_request(header, event)  # type: ignore[arg-type]
    assert caller.user_email == USER.lower()
    assert caller.user_id.isdigit() and len(caller.user_id) == 21
    _assert_no_token_logged(caplog, _tokens_of(header, event))


def test_caller_is_the_user_not_the_service_account(verifier: RequestVerifier,
                                                    ctx: Ctx) -> None:
    other = ctx.usr(email="Suzuki@Example.co.jp")
    caller = verifier.verify_request(*ctx.request(ctx.sys(), other))
    assert caller == Caller(user_email="suzuki@example.co.jp",
                            user_id=caller.user_id, hosted_domain="example.co.jp")
    assert caller.user_id != verifier.verify_user_token(ctx.usr()).user_id


def test_system_token_claims(verifier: RequestVerifier, ctx: Ctx) -> None:
    claims = verifier.verify_system_token(ctx.sys())
    assert (claims["aud"], claims["email"]) == (AUDIENCE, SERVICE_ACCOUNT)


def test_user_not_required(verifier: RequestVerifier, ctx: Ctx) -> None:
    header = f"Bearer {ctx.sys()}"
    assert verifier.verify_request(header, {}, require_user=False) == Caller("", "")
    assert verifier.verify_request(*ctx.request(ctx.sys(), ctx.usr()),
                                   require_user=False).user_email == USER.lower()
    with pytest.raises(AuthError):   # present means it must verify
        verifier.verify_request(*ctx.request(ctx.sys(), ctx.sys()), require_user=False)
    with pytest.raises(AuthError):   # the system token is never optional
        verifier.verify_request(None, {}, require_user=False)


def test_injected_clock_expires_a_token_that_is_fresh_in_real_time(
        verifier: RequestVerifier, ctx: Ctx) -> None:
    request = ctx.request(ctx.sys(), ctx.usr())
    assert verifier.verify_request(*request).user_email == USER.lower()
    ctx.clock.advance(3600 + 11)
    with pytest.raises(AuthError):
        verifier.verify_request(*request)


@pytest.mark.parametrize(("field", "value"), [
    ("audience", ""), ("service_account", ""), ("oauth_client_id", ""),
], ids=["no_audience", "no_service_account", "no_client_id"])
def test_verifier_needs_its_settings(certs: CertificateCache, field: str, value: str) -> None:
    kwargs: dict[str, Any] = {"audience": AUDIENCE, "service_account": SERVICE_ACCOUNT,
              "oauth_client_id": CLIENT_ID, field: value}
    with pytest.raises(ConfigError, match="SENDGUARD_"):
        RequestVerifier(certs, **kwargs)


SCHEDULER = "release-scheduler@sendguard-prod.iam.gserviceaccount.com"
TASK_URL = "https://sendguard.example.jp/tasks/release-due"

OIDC_CASES: list[tuple[str, dict[str, Any], str | None, str, bool]] = [
    # (id, token overrides, expected service account, audience, accepted)
    ("scheduler", {}, SCHEDULER, TASK_URL, True),
    ("any_verified_account_without_sa", {}, None, TASK_URL, True),
    ("other_account", {"email": "intruder@gmail.com"}, SCHEDULER, TASK_URL, False),
    ("wrong_audience", {"aud": AUDIENCE}, SCHEDULER, TASK_URL, False),
    ("unverified_email", {"email_verified": False}, None, TASK_URL, False),
    ("no_email", {"email": None}, None, TASK_URL, False),
    ("expired", {"now_offset": -7200}, SCHEDULER, TASK_URL, False),
    ("no_audience_configured", {}, SCHEDULER, "", False),
]


@pytest.mark.parametrize(("overrides", "expected_sa", "audience", "accepted"),
                         [c[1:] for c in OIDC_CASES], ids=[c[0] for c in OIDC_CASES])
def test_oidc_token(certs: CertificateCache, ctx: Ctx, caplog: pytest.LogCaptureFixture,
                    overrides: dict[str, Any], expected_sa: str | None, audience: str,
                    accepted: bool) -> None:
    overrides = dict(overrides)
    now = ctx.clock.now + overrides.pop("now_offset", 0)
    token = ctx.issuer.system_token(audience=overrides.pop("aud", TASK_URL),
                                    service_account=SCHEDULER, now=now, **overrides)
    if accepted:
        claims = verify_oidc_token(token, certs=certs, audience=audience,
                                   service_account=expected_sa, clock=ctx.clock)
        assert claims["email"] == SCHEDULER
    else:
        with pytest.raises(AuthError):
            verify_oidc_token(token, certs=certs, audience=audience,
                              service_account=expected_sa, clock=ctx.clock)
        text = caplog.text
        assert "OIDC token rejected" in text
        assert "intruder@" not in text      # a person's address is not logged, only its domain
    _assert_no_token_logged(caplog, [token])
