"""The development issuer mints tokens google-auth accepts, publishes its keys over HTTP,
and refuses to exist in production."""

from __future__ import annotations

from typing import Any

import google.auth.jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from service.devtools.tokens import CertServer, LocalIssuer, serve_certs
from service.errors import ConfigError
from service.settings import Config


@pytest.mark.parametrize("make", [
    lambda: LocalIssuer(config=Config(env="production")),
    lambda: serve_certs(LocalIssuer(), config=Config(env="production")),
], ids=["issuer", "server"])
def test_refuses_production_config(make: Any) -> None:
    with pytest.raises(ConfigError, match="development only"):
        make()


@pytest.mark.parametrize("env", ["production", " Production "], ids=["lower", "padded"])
def test_refuses_production_environment(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("SENDGUARD_ENV", env)
    with pytest.raises(ConfigError):
        LocalIssuer()


def test_allowed_in_development_and_test() -> None:
    for env in ("development", "test"):
        assert LocalIssuer(kid=f"k-{env}", config=Config(env=env)).kid == f"k-{env}"


def test_certificate_holds_the_signing_key(issuer: LocalIssuer) -> None:
    pem = issuer.certs_json()[issuer.kid]
    cert = x509.load_pem_x509_certificate(pem.encode())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert (cert.public_key().public_bytes(serialization.Encoding.PEM, spki)
            == issuer.private_key.public_key().public_bytes(serialization.Encoding.PEM, spki))
    assert issuer.private_key.key_size == 2048


def test_minted_token_verifies_with_google_auth(issuer: LocalIssuer) -> None:
    token = issuer.mint({"aud": "a", "iss": "https://accounts.google.com", "drop": None,
                         "email": "x@example.jp"}, lifetime=120)
    header = google.auth.jwt.decode_header(token)
    assert (header["alg"], header["kid"]) == ("RS256", issuer.kid)
    claims = google.auth.jwt.decode(token, certs=issuer.certs_json(), audience="a")
    assert claims["exp"] - claims["iat"] == 120
    assert "drop" not in claims


def test_forged_token_does_not_verify(issuer: LocalIssuer, other_key: Any) -> None:
    token = issuer.mint({"aud": "a"}, key_override=other_key)
    assert google.auth.jwt.decode_header(token)["kid"] == issuer.kid
    with pytest.raises(ValueError, match="signature"):
        google.auth.jwt.decode(token, certs=issuer.certs_json(), audience="a")


def test_rotation_keeps_old_keys_published() -> None:
    own = LocalIssuer(kid="first")
    second = own.rotate("second")
    assert (own.kid, set(own.certs_json())) == (second, {"first", "second"})
    assert {k["kid"] for k in own.jwks_json()["keys"]} == {"first", "second"}
    old = own.mint({"aud": "a"}, kid="first")
    assert google.auth.jwt.decode(old, certs=own.certs_json(), audience="a")["aud"] == "a"


@pytest.mark.parametrize(("fmt", "key"), [("v1", None), ("jwks", "keys")],
                         ids=["google_v1", "jwks"])
def test_server_publishes_with_cache_control(issuer: LocalIssuer, fmt: str,
                                             key: str | None) -> None:
    url, server = serve_certs(issuer, max_age=1234, fmt=fmt)
    try:
        resp = requests.get(url, timeout=5)
        assert resp.status_code == 200
        assert "max-age=1234" in resp.headers["Cache-Control"]
        body = resp.json()
        assert issuer.kid in (body if key is None else {k["kid"] for k in body[key]})
        assert requests.get(url.replace("/oauth2/v1/certs", "/other"), timeout=5
                            ).status_code == 404
        assert server.fetches == 1
    finally:
        server()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_server_rejects_unknown_format(issuer: LocalIssuer) -> None:
    with pytest.raises(ValueError, match="fmt"):
        serve_certs(issuer, fmt="pem")


def test_stop_is_idempotent(cert_server: CertServer) -> None:
    cert_server.stop()
    cert_server.stop()
