"""Google-signed ID tokens (OIDC), verified fully and failing closed: the add-on's
requests (``service.auth``) and Cloud Scheduler's calls to ``/tasks/release-due``
(``service.delivery.routes``) both rest on this, so it belongs to neither package.

Signatures are RS256 over Google's published keys (``SENDGUARD_GOOGLE_CERTS_URL``, cached
as the response's ``Cache-Control`` allows), checked by google-auth's own ``RSAVerifier``;
issuer, audience and time claims on the injected clock. Every failure is one generic
:class:`AuthError`; the log line names the check that failed and never holds a token
(google-auth's own messages embed the token, so they are never logged or chained).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

import google.auth.crypt
import google.auth.jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.errors import AuthError, ConfigError

log = logging.getLogger(__name__)

GOOGLE_ISSUERS = frozenset({"https://accounts.google.com", "accounts.google.com"})
PUBLIC_MESSAGE = "unauthorised request"
MAX_TOKEN_CHARS = 8192            # Google ID tokens are 1-2 KB
MAX_TOKEN_LIFETIME = 24 * 3600    # Google issues 1-hour tokens
DEFAULT_MAX_AGE = 300.0           # when the certificate response has no max-age
MAX_MAX_AGE = 24 * 3600.0
MIN_MAX_AGE = 5.0                 # so no-cache/max-age=0 cannot make us fetch per request
FAILED_FETCH_RETRY = 5.0          # after a failed fetch, fail fast this long
UNKNOWN_KID_REFETCH = 30.0        # a forged kid forces at most one fetch per this interval
MAX_CERTS_BYTES = 1_000_000
FETCH_TIMEOUT = (3.05, 10.0)

_JWS_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_T = TypeVar("_T")


class Rejected(Exception):
    """Internal: which check failed (log text only; never shown, never holds a token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reject(reason: str) -> NoReturn:
    raise Rejected(reason)


def guarded(what: str, check: Callable[[], _T], logger: logging.Logger | None = None,
            passes: tuple[type[Exception], ...] = ()) -> _T:
    """Run a check; turn every failure into one generic AuthError and one log line (on
    ``logger``: the caller's, so a rejection is logged where the request was handled).
    Errors of the ``passes`` types go through as they are (a Gmail error the user should
    see)."""
    out = logger or log
    try:
        return check()
    except passes:
        raise
    except Rejected as exc:
        out.warning("%s rejected: %s", what, exc.reason)
    except Exception as exc:  # fail closed: nothing but AuthError may escape
        out.warning("%s rejected: unexpected %s", what, type(exc).__name__)
    raise AuthError(PUBLIC_MESSAGE)


def shown(value: object) -> str:
    """A claim value for a log line: bounded, repr-quoted (no log injection)."""
    return repr(value)[:200]


# --------------------------------------------------------------------------- certificates


def _max_age(cache_control: str, age_header: str | None) -> float:
    """Freshness lifetime of a certificate response, per RFC 9111, bounded both ways."""
    ttl = DEFAULT_MAX_AGE
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip()
        if name in ("no-cache", "no-store"):
            ttl = 0.0
            break
        if name == "max-age":
            try:
                ttl = float(int(value.strip().strip('"')))
            except ValueError:
                ttl = DEFAULT_MAX_AGE
    if age_header:
        with contextlib.suppress(ValueError):
            ttl -= max(0, int(age_header.strip()))
    return min(max(ttl, MIN_MAX_AGE), MAX_MAX_AGE)


def _rsa_public_pem(pem: str) -> bool:
    """True when ``pem`` is an RSA public key or x509 certificate holding one."""
    data = pem.encode("ascii")
    key: object
    if b"-----BEGIN CERTIFICATE-----" in data:
        key = x509.load_pem_x509_certificate(data).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    return isinstance(key, rsa.RSAPublicKey)


def _b64_uint(value: str) -> int:
    """A JWK integer: unpadded base64url, big-endian."""
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _jwk_to_pem(jwk: Mapping[str, Any]) -> str | None:
    """PEM public key from an RSA signing JWK, or None when the key is not one."""
    if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
        return None
    if jwk.get("alg", "RS256") != "RS256":
        return None
    n, e = jwk.get("n"), jwk.get("e")
    if not isinstance(n, str) or not isinstance(e, str):
        return None
    public = rsa.RSAPublicNumbers(_b64_uint(e), _b64_uint(n)).public_key()
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii")


def parse_certs(data: object) -> dict[str, str]:
    """``{kid: PEM}`` from Google's v1 certs JSON or a JWKS; unusable entries are dropped."""
    if not isinstance(data, Mapping):
        raise ValueError("certificate document is not a JSON object")
    found: dict[str, str] = {}
    if isinstance(data.get("keys"), list):
        for jwk in data["keys"]:
            kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
            if isinstance(kid, str) and kid:
                try:
                    pem = _jwk_to_pem(jwk)
                except ValueError:
                    pem = None
                if pem:
                    found[kid] = pem
    else:
        for kid, pem in data.items():
            if isinstance(kid, str) and kid and isinstance(pem, str):
                try:
                    if _rsa_public_pem(pem):
                        found[kid] = pem
                except ValueError:
                    continue
    if not found:
        raise ValueError("no usable RSA key in the certificate document")
    return found


class CertificateCache:
    """Google's signing certificates, fetched once per their Cache-Control lifetime.

    Thread-safe; concurrent callers share one fetch. A failed fetch is an AuthError (fail
    closed: expired certificates are never used), repeated only after a short pause.
    """

    def __init__(self, url: str, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time,
                 timeout: tuple[float, float] = FETCH_TIMEOUT) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigError("SENDGUARD_GOOGLE_CERTS_URL must be an http(s) URL")
        self.url = url
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        empty: Mapping[str, str] = MappingProxyType({})
        self._snapshot: tuple[Mapping[str, str], float] = (empty, -math.inf)
        self._last_attempt = -math.inf
        self._last_failure = -math.inf
        self._verifiers: dict[str, tuple[str, google.auth.crypt.RSAVerifier]] = {}
        self.verified = VerifiedTokens()

    def get(self) -> Mapping[str, str]:
        """The current ``{kid: PEM}``; fetches when stale."""
        certs, expires = self._snapshot
        if self._clock() < expires:
            return certs
        with self._lock:
            certs, expires = self._snapshot
            now = self._clock()
            if now < expires:
                return certs
            return self._refresh(now)

    def key_for(self, kid: str) -> str | None:
        """The PEM for ``kid``; an unknown kid forces one rate-limited refetch (rotation)."""
        pem = self.get().get(kid)
        if pem is not None:
            return pem
        with self._lock:
            pem = self._snapshot[0].get(kid)
            now = self._clock()
            if pem is None and now - self._last_attempt >= UNKNOWN_KID_REFETCH:
                pem = self._refresh(now).get(kid)
        return pem

    def verifier_for(self, kid: str) -> google.auth.crypt.RSAVerifier | None:
        """google-auth's verifier for ``kid``, built once per published key: parsing the
        certificate for every token cost more than checking the signature."""
        pem = self.key_for(kid)
        if pem is None:
            return None
        known = self._verifiers.get(kid)
        if known is not None and known[0] is pem:
            return known[1]
        verifier: google.auth.crypt.RSAVerifier = google.auth.crypt.RSAVerifier.from_string(pem)
        with self._lock:
            if len(self._verifiers) > 4 * max(1, len(self._snapshot[0])):
                self._verifiers.clear()             # keys rotated away many times
            self._verifiers[kid] = (pem, verifier)
        return verifier

    def published(self, kid: str) -> bool:
        return kid in self.get()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def _refresh(self, now: float) -> Mapping[str, str]:
        """Fetch under the lock; callers hold ``self._lock``."""
        if now - self._last_failure < FAILED_FETCH_RETRY:
            raise AuthError(PUBLIC_MESSAGE)
        self._last_attempt = now
        try:
            certs, ttl = self._fetch()
        except (requests.RequestException, OSError, ValueError) as exc:
            self._last_failure = now
            log.error("Google certificates unavailable from %s: %s", self.url,
                      type(exc).__name__ if not isinstance(exc, ValueError) else exc)
            raise AuthError(PUBLIC_MESSAGE) from None
        frozen: Mapping[str, str] = MappingProxyType(certs)
        self._snapshot = (frozen, now + ttl)
        self._last_failure = -math.inf
        return frozen

    def _fetch(self) -> tuple[dict[str, str], float]:
        with self._session.get(self.url, timeout=self._timeout, stream=True,
                               headers={"Accept": "application/json"}) as resp:
            if resp.status_code != 200:
                raise ValueError(f"HTTP status {resp.status_code}")
            body = bytearray()
            for chunk in resp.iter_content(65536):
                body += chunk
                if len(body) > MAX_CERTS_BYTES:
                    raise ValueError("certificate document too large")
            ttl = _max_age(resp.headers.get("Cache-Control", ""), resp.headers.get("Age"))
        return parse_certs(json.loads(bytes(body))), ttl


# --------------------------------------------------------------------------- tokens


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        reject(f"claim {name} missing or not a number")
    return float(value)


class VerifiedTokens:
    """Tokens whose signature, issuer and audience were verified, until they expire.

    Whether it saves anything depends on Google sending the same token again (a token
    of the add-on's service account, a user's ID token, within their hour); when it does
    not, a miss costs one SHA-256 and a dict look-up (~2 us) against ~0.15 ms for the RSA
    check a hit saves (docs/security.md, "Token cache"). Nothing is weakened: the key is
    the whole token's hash with the audiences it was checked for, a hit re-checks the time
    claims on the current clock and that the signing key is still published, and a
    failed token is never remembered. Bounded; least recently used entries go first.
    """

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[bytes, tuple[str, ...]],
                                   tuple[Mapping[str, Any], str]] = OrderedDict()

    @staticmethod
    def key(token: str, audiences: tuple[str, ...]) -> tuple[bytes, tuple[str, ...]]:
        return hashlib.sha256(token.encode("ascii")).digest(), audiences

    def get(self, key: tuple[bytes, tuple[str, ...]]) -> tuple[Mapping[str, Any], str] | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key: tuple[bytes, tuple[str, ...]], claims: Mapping[str, Any],
            kid: str) -> None:
        with self._lock:
            self._entries[key] = (MappingProxyType(dict(claims)), kid)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def drop(self, key: tuple[bytes, tuple[str, ...]]) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


def _check_times(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    exp, iat = _number(claims, "exp"), _number(claims, "iat")
    if now > exp + leeway:
        reject("token expired")
    if iat - leeway > now:
        reject("token issued in the future")
    if "nbf" in claims and _number(claims, "nbf") - leeway > now:
        reject("token not yet valid (nbf)")
    if exp - iat > MAX_TOKEN_LIFETIME or exp < iat:
        reject("token lifetime implausible")


def _b64url_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def google_claims(token: object, certs: CertificateCache, audience: str | tuple[str, ...],
                   now: float, leeway: int) -> Mapping[str, Any]:
    """Signature, algorithm, key id, time, issuer and audience of a Google ID token.

    The RS256 signature is checked by google-auth's ``RSAVerifier`` (kept per key, see
    ``CertificateCache.verifier_for``); the claims are read by ``google.auth.jwt.decode``
    and every claim google-auth would check is checked here, on the injected clock.
    """
    if not isinstance(token, str) or not token:
        reject("token missing or not text")
    if len(token) > MAX_TOKEN_CHARS:
        reject(f"token longer than {MAX_TOKEN_CHARS} characters")
    if not _JWS_SHAPE.fullmatch(token):
        reject("token is not a compact JWS")
    allowed = audience if isinstance(audience, tuple) else (audience,)
    cache_key = VerifiedTokens.key(token, allowed)
    hit = certs.verified.get(cache_key)
    if hit is not None:
        claims, signed_by = hit
        try:
            published = certs.published(signed_by)
        except AuthError:
            raise Rejected("signing certificates unavailable") from None
        if not published:
            certs.verified.drop(cache_key)
            reject("signing key no longer published")
        _check_times(claims, now, leeway)
        return claims
    try:
        header = google.auth.jwt.decode_header(token)
    except Exception:
        raise Rejected("token header unreadable") from None
    if not isinstance(header, Mapping):
        reject("token header is not an object")
    if header.get("alg") != "RS256":
        reject(f"algorithm {shown(header.get('alg'))} is not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        reject("token header has no key id")
    try:
        verifier = certs.verifier_for(kid)
    except AuthError:
        raise Rejected("signing certificates unavailable") from None
    if verifier is None:
        reject("unknown key id")
    signed_section, _, signature = token.rpartition(".")
    try:
        valid = verifier.verify(signed_section.encode("ascii"), _b64url_bytes(signature))
    except Exception:
        valid = False
    if not valid:
        reject("bad signature")
    try:
        claims = google.auth.jwt.decode(token, verify=False)
    except Exception as exc:
        raise Rejected(_google_auth_reason(exc)) from None
    if not isinstance(claims, Mapping):
        reject("payload is not an object")
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss not in GOOGLE_ISSUERS:
        reject(f"issuer {shown(iss)} is not Google")
    if claims.get("aud") not in allowed:
        reject(f"audience {shown(claims.get('aud'))} is not the configured one")
    _check_times(claims, now, leeway)
    certs.verified.put(cache_key, claims, kid)
    return claims


def _google_auth_reason(exc: Exception) -> str:
    """Which google-auth check failed, without its message (which embeds the token)."""
    text = str(exc)
    for prefix, reason in (
        ("Could not verify token signature", "bad signature"),
        ("Token expired", "token expired"),
        ("Token used too early", "token issued in the future"),
        ("Token has wrong audience", "audience is not the configured one"),
        ("Token does not contain required claim", "claim iat or exp missing"),
        ("Unsupported signature algorithm", "algorithm not supported"),
    ):
        if text.startswith(prefix):
            return reason
    return f"google-auth rejected the token ({type(exc).__name__})"


def verified_email(claims: Mapping[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        reject("claim email missing")
    if claims.get("email_verified") is not True:
        reject("claim email_verified is not true")
    return email.lower()


def account_for_log(email: str) -> str:
    """A service account is named in full (it helps fix the setting); a person is not."""
    if email.endswith(".gserviceaccount.com"):
        return shown(email)
    return "an account at " + shown(email.rpartition("@")[2])


def same_account(a: str, b: str) -> bool:
    return hmac.compare_digest(a.lower().encode("utf-8"), b.lower().encode("utf-8"))


def verify_oidc_token(token: str, *, certs: CertificateCache, audience: str,
                      service_account: str | None = None,
                      clock: Callable[[], float] = time.time, leeway: int = 10,
                      ) -> Mapping[str, Any]:
    """Claims of a Google OIDC token, e.g. Cloud Scheduler's call to /tasks/release-due.

    Pass ``service_account`` in production: without it any Google account holding a token
    for ``audience`` would pass.
    """

    def check() -> Mapping[str, Any]:
        if not audience:
            reject("no audience configured")
        claims = google_claims(token, certs, audience, clock(), leeway)
        email = verified_email(claims)
        if service_account is not None and not same_account(email, service_account):
            reject(f"{account_for_log(email)} is not the scheduler service account")
        return claims

    return guarded("OIDC token", check)
