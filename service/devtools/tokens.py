"""A local stand-in for Google's ID token issuer: development and tests only.

:class:`LocalIssuer` holds locally generated RSA-2048 keys with self-signed certificates and
mints RS256 ID tokens through google-auth's own signer; :func:`serve_certs` publishes the
certificates over real HTTP in Google's v1 format (or as a JWKS) with ``Cache-Control``.
Pointing ``SENDGUARD_GOOGLE_CERTS_URL`` at it makes the service trust these keys, so both
refuse to run in production.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import google.auth.crypt
import google.auth.jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from service.errors import ConfigError
from service.settings import Config

GOOGLE_ISSUER = "https://accounts.google.com"
CERTS_PATH = "/oauth2/v1/certs"


def refuse_in_production(config: Config | None = None) -> None:
    """Raise ConfigError in production: a service trusting local keys would trust anyone."""
    if config is not None:
        production = config.production
    else:
        production = os.environ.get("SENDGUARD_ENV", "").strip().lower() == "production"
    if production:
        raise ConfigError("the local token issuer is for development only, not production")


def _numeric_id(seed: str) -> str:
    """A stable 21-digit Google-style account id."""
    digest = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big")
    return str(10**20 + digest % (9 * 10**20))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class LocalIssuer:
    """RSA signing keys (current one signs) and their certificates, kept after rotation."""

    def __init__(self, kid: str | None = None, *, config: Config | None = None) -> None:
        refuse_in_production(config)
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[rsa.RSAPrivateKey, str]] = {}
        self.kid = ""
        self.rotate(kid)

    def rotate(self, kid: str | None = None) -> str:
        """Add a new key that signs from now on; earlier keys stay published."""
        kid = kid or secrets.token_hex(20)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"sendguard-dev-{kid[:12]}")])
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=365))
                .sign(key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        with self._lock:
            self._keys[kid] = (key, pem)
            self.kid = kid
        return kid

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return self._keys[self.kid][0]

    def certs_json(self) -> dict[str, str]:
        """``{kid: PEM certificate}``, Google's v1 certs format."""
        with self._lock:
            return {kid: pem for kid, (_, pem) in self._keys.items()}

    def jwks_json(self) -> dict[str, Any]:
        """The same keys as a JWKS (Google's v3 certs format)."""
        with self._lock:
            items = [(kid, key.public_key().public_numbers())
                     for kid, (key, _) in self._keys.items()]
        return {"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": _b64url(nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")),
        } for kid, nums in items]}

    def mint(self, claims: Mapping[str, Any], *, lifetime: int = 3600,
             now: float | None = None, kid: str | None = None,
             key_override: rsa.RSAPrivateKey | None = None) -> str:
        """An RS256 JWT of ``claims`` (iat/exp filled in; a claim set to None is left out).

        ``kid`` names the header key id (an unknown one signs with the current key);
        ``key_override`` signs with another key under the same kid (a forgery).
        """
        issued = int(time.time() if now is None else now)
        payload: dict[str, Any] = {"iat": issued, "exp": issued + lifetime}
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        kid = kid or self.kid
        with self._lock:
            known = self._keys.get(kid)
            key = key_override or (known[0] if known else self._keys[self.kid][0])
        signer = google.auth.crypt.RSASigner(key, key_id=kid)
        token: bytes = google.auth.jwt.encode(signer, payload)
        return token.decode("ascii")

    def system_token(self, *, audience: str, service_account: str, lifetime: int = 3600,
                     now: float | None = None, kid: str | None = None,
                     key_override: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        """An ID token of the add-on system service account, as Google sends it."""
        claims: dict[str, Any] = {
            "iss": GOOGLE_ISSUER, "aud": audience, "azp": _numeric_id(service_account),
            "sub": _numeric_id(service_account), "email": service_account,
            "email_verified": True,
        }
        claims.update(overrides)
        return self.mint(claims, lifetime=lifetime, now=now, kid=kid, key_override=key_override)

    def user_token(self, *, audience: str, email: str, lifetime: int = 3600,
                   now: float | None = None, kid: str | None = None,
                   key_override: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        """A user's ID token issued to the add-on's OAuth client."""
        claims: dict[str, Any] = {
            "iss": GOOGLE_ISSUER, "aud": audience, "azp": audience,
            "sub": _numeric_id(email), "email": email, "email_verified": True,
            "hd": email.rpartition("@")[2],
        }
        claims.update(overrides)
        return self.mint(claims, lifetime=lifetime, now=now, kid=kid, key_override=key_override)


class CertServer:
    """A running certificate server; calling it stops it. Knobs let tests break it."""

    def __init__(self, issuer: LocalIssuer, max_age: int | None, fmt: str) -> None:
        self.issuer = issuer
        self.max_age = max_age          # None: no Cache-Control header
        self.age: int | None = None     # an Age header, as a shared cache would add
        self.status = 200
        self.body: bytes | None = None  # replaces the JSON document when set
        self.delay = 0.0                # seconds to wait before answering
        self.fmt = fmt
        self.url = ""
        self._fetches = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def fetches(self) -> int:
        with self._lock:
            return self._fetches

    def count(self) -> None:
        with self._lock:
            self._fetches += 1

    def document(self) -> bytes:
        if self.body is not None:
            return self.body
        data = self.issuer.jwks_json() if self.fmt == "jwks" else self.issuer.certs_json()
        return json.dumps(data).encode("utf-8")

    def start(self, host: str, port: int) -> str:
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="sendguard-dev-certs", daemon=True)
        self._thread.start()
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}{CERTS_PATH}"
        return self.url

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __call__(self) -> None:
        self.stop()


def _handler_for(server: CertServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != CERTS_PATH:
                self.send_error(404)
                return
            server.count()
            if server.delay:
                time.sleep(server.delay)
            body = server.document()
            self.send_response(server.status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            if server.max_age is not None:
                self.send_header("Cache-Control",
                                 f"public, max-age={server.max_age}, must-revalidate")
            if server.age is not None:
                self.send_header("Age", str(server.age))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and ``make run`` have their own logs."""

    return Handler


def serve_certs(issuer: LocalIssuer, host: str = "127.0.0.1", port: int = 0,
                max_age: int | None = 300, *, fmt: str = "v1",
                config: Config | None = None) -> tuple[str, CertServer]:
    """Serve ``issuer``'s certificates over HTTP; returns ``(url, stop)``.

    ``stop`` is the :class:`CertServer` itself (call it to stop); it counts fetches.
    ``fmt`` is ``"v1"`` (``{kid: PEM}``, Google's default) or ``"jwks"``.
    """
    refuse_in_production(config)
    if fmt not in ("v1", "jwks"):
        raise ValueError("fmt must be 'v1' or 'jwks'")
    server = CertServer(issuer, max_age, fmt)
    return server.start(host, port), server

