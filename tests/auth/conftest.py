"""Real parts for the token tests: a local RSA issuer, a certificate server over HTTP on
loopback, google-auth's own verification. Only the clock is ours, so expiry is testable."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from service.auth import RequestVerifier
from service.devtools.tokens import CertServer, LocalIssuer, serve_certs
from service.idtokens import CertificateCache

AUDIENCE = "https://sendguard.example.jp/addon"
SERVICE_ACCOUNT = "service-123456789012@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
CLIENT_ID = "123456789012-abcdefg.apps.googleusercontent.com"
USER = "Sato.Taro@Example.co.jp"


class FakeClock:
    """A settable wall clock (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Ctx:
    """What a test case needs to build a request."""

    issuer: LocalIssuer
    other_key: rsa.RSAPrivateKey
    clock: FakeClock
    audience: str = AUDIENCE
    service_account: str = SERVICE_ACCOUNT
    client_id: str = CLIENT_ID
    user: str = USER
    extra: dict[str, Any] = field(default_factory=dict)

    def sys(self, **kw: Any) -> str:
        kw.setdefault("audience", self.audience)
        kw.setdefault("service_account", self.service_account)
        kw.setdefault("now", self.clock.now)
        return self.issuer.system_token(**kw)

    def usr(self, **kw: Any) -> str:
        kw.setdefault("audience", self.client_id)
        kw.setdefault("email", self.user)
        kw.setdefault("now", self.clock.now)
        return self.issuer.user_token(**kw)

    def system_claims(self, **kw: Any) -> dict[str, Any]:
        now = int(self.clock.now)
        claims = {"iss": "https://accounts.google.com", "aud": self.audience,
                  "email": self.service_account, "email_verified": True,
                  "sub": "1", "iat": now, "exp": now + 3600}
        claims.update(kw)
        return claims

    def forge(self, header: Mapping[str, Any], payload: Mapping[str, Any],
              sign: Callable[[bytes], bytes] | bytes = b"") -> str:
        """A hand-built compact JWS, for what google-auth's signer will not produce."""
        signing_input = (b64url(json.dumps(dict(header)).encode()) + "."
                         + b64url(json.dumps(dict(payload)).encode()))
        signature = sign(signing_input.encode()) if callable(sign) else sign
        return f"{signing_input}.{b64url(signature)}"

    def request(self, system: str | None, user: str | None, *,
                echo: object = "same") -> tuple[str | None, dict[str, Any]]:
        auth: dict[str, Any] = {"userOAuthToken": "ya29.local-oauth-token"}
        if echo == "same":
            auth["systemIdToken"] = system
        elif echo is not None:
            auth["systemIdToken"] = echo
        if user is not None:
            auth["userIdToken"] = user
        header = None if system is None else f"Bearer {system}"
        return header, {"commonEventObject": {"hostApp": "GMAIL"},
                        "authorizationEventObject": auth}


@pytest.fixture(scope="session")
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
def cert_server(issuer: LocalIssuer) -> Iterator[CertServer]:
    _url, server = serve_certs(issuer)
    yield server
    server()


@pytest.fixture
def certs(cert_server: CertServer, clock: FakeClock) -> Iterator[CertificateCache]:
    cache = CertificateCache(cert_server.url, clock=clock)
    yield cache
    cache.close()


@pytest.fixture
def verifier(certs: CertificateCache, clock: FakeClock) -> RequestVerifier:
    return RequestVerifier(certs, audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                           oauth_client_id=CLIENT_ID, clock=clock)


@pytest.fixture
def ctx(issuer: LocalIssuer, other_key: rsa.RSAPrivateKey, clock: FakeClock) -> Ctx:
    return Ctx(issuer=issuer, other_key=other_key, clock=clock)


# The add-on suite's real parts (Gmail emulator over loopback, the app factory, signed
# events), for the tests that bind the user to the mailbox through the real routes.
from tests.addon.conftest import emulator, events, gmail_server, make_app  # noqa: E402
from tests.support.tokens import certs_url  # noqa: E402

__all__ = ["certs_url", "emulator", "events", "gmail_server", "make_app"]
