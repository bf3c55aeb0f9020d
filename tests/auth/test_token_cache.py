"""Issue 12: one google-auth verifier per published key, and verified tokens remembered
until they expire, without weakening a single check (issue 9: fail closed)."""

from __future__ import annotations

import json

import pytest

from service.auth import RequestVerifier
from service.devtools.tokens import CertServer, LocalIssuer
from service.errors import AuthError
from service.idtokens import CertificateCache

from .conftest import AUDIENCE, Ctx, FakeClock


def test_a_token_seen_again_is_not_verified_again(verifier: RequestVerifier,
                                                  certs: CertificateCache, ctx: Ctx,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    token = ctx.sys()
    verifier.verify_system_token(token)
    calls: list[bytes] = []
    real = certs.verifier_for

    def counting(kid: str):  # type: ignore[no-untyped-def]
        calls.append(kid.encode())
        return real(kid)

    monkeypatch.setattr(certs, "verifier_for", counting)
    for _ in range(5):
        assert verifier.verify_system_token(token)["aud"] == AUDIENCE
    assert calls == []                       # remembered: no signature check again
    verifier.verify_system_token(ctx.sys(email_verified=True, sub="2"))
    assert len(calls) == 1                   # a new token is verified in full


def test_one_verifier_per_key(certs: CertificateCache, issuer: LocalIssuer) -> None:
    first = certs.verifier_for(issuer.kid)
    assert first is not None and certs.verifier_for(issuer.kid) is first
    assert certs.verifier_for("no-such-kid") is None


def test_a_remembered_token_still_expires(verifier: RequestVerifier, ctx: Ctx,
                                          clock: FakeClock) -> None:
    token = ctx.sys(lifetime=600)
    verifier.verify_system_token(token)
    clock.advance(600 + 11)                  # past exp and the 10 s leeway
    with pytest.raises(AuthError):
        verifier.verify_system_token(token)


def test_a_token_is_remembered_for_its_audiences_only(verifier: RequestVerifier,
                                                      ctx: Ctx) -> None:
    """Verified as the system token; the same string presented as a user token (another
    audience, another account check) is checked again, and refused."""
    token = ctx.sys()
    verifier.verify_system_token(token)
    with pytest.raises(AuthError):
        verifier.verify_user_token(token)


def test_a_failed_token_is_not_remembered(verifier: RequestVerifier, certs: CertificateCache,
                                          ctx: Ctx) -> None:
    forged = ctx.sys(key_override=ctx.other_key)
    for _ in range(2):
        with pytest.raises(AuthError):
            verifier.verify_system_token(forged)
    assert len(certs.verified) == 0


def test_a_key_no_longer_published_ends_its_tokens(verifier: RequestVerifier,
                                                   cert_server: CertServer, ctx: Ctx,
                                                   clock: FakeClock, issuer: LocalIssuer
                                                   ) -> None:
    token = ctx.sys()
    verifier.verify_system_token(token)
    # Google's next document lists only another key id (rotation after a compromise).
    cert_server.body = json.dumps({"rotated-in": issuer.certs_json()[issuer.kid]}).encode()
    clock.advance(301)                       # the certificate document's max-age
    with pytest.raises(AuthError):
        verifier.verify_system_token(token)
