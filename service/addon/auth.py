"""Proof that an add-on request comes from Google, for the user it names (SPEC section 5).

HTTP Workspace add-ons get, with every request, an ID token of the deployment's system
service account (``service-{PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com``)
in ``Authorization: Bearer`` and again in ``authorizationEventObject.systemIdToken``, plus
the user's ID token in ``authorizationEventObject.userIdToken`` (audience: the add-on's
OAuth client id). Both are RS256 JWTs signed with Google's keys, published at
``SENDGUARD_GOOGLE_CERTS_URL``. Signatures are checked by google-auth's own code.

The user must belong to the organisation: the user token's ``hd`` (hosted domain) claim,
which Google sets only for Google Workspace accounts, must be one of the organisation's
domains (a consumer account has none and is refused). The OAuth access token in the same
body is a separate, unsigned string: :class:`MailboxBinding` checks, through Gmail's
``users.getProfile``, that it opens the verified user's own mailbox before anything reads
or sends with it (a user token of Bob beside an access token of Alice is refused).

Fail closed: every failure is one generic :class:`AuthError` (HTTP 401, no card). The log
line names the check that failed and never holds a token: google-auth's own messages embed
the token, so they are never logged or chained.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NoReturn, TypeVar

import google.auth.crypt
import google.auth.jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.errors import AuthError, ConfigError, GmailError, GmailTransientError

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


@dataclass(frozen=True)
class Caller:
    """The verified user behind an add-on request."""

    user_email: str   # lower-case, from the verified user ID token; "" if not required
    user_id: str      # the token's ``sub``
    hosted_domain: str = ""   # the token's ``hd``: the user's Google Workspace domain


class _Rejected(Exception):
    """Internal: which check failed (log text only; never shown, never holds a token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject(reason: str) -> NoReturn:
    raise _Rejected(reason)


def _guarded(what: str, check: Callable[[], _T]) -> _T:
    """Run a check; turn every failure into one generic AuthError and one log line."""
    try:
        return check()
    except _Rejected as exc:
        log.warning("%s rejected: %s", what, exc.reason)
    except Exception as exc:  # fail closed: nothing but AuthError may escape
        log.warning("%s rejected: unexpected %s", what, type(exc).__name__)
    raise AuthError(PUBLIC_MESSAGE)


def _shown(value: object) -> str:
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
        _reject(f"claim {name} missing or not a number")
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
        _reject("token expired")
    if iat - leeway > now:
        _reject("token issued in the future")
    if "nbf" in claims and _number(claims, "nbf") - leeway > now:
        _reject("token not yet valid (nbf)")
    if exp - iat > MAX_TOKEN_LIFETIME or exp < iat:
        _reject("token lifetime implausible")


def _b64url_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _google_claims(token: object, certs: CertificateCache, audience: str | tuple[str, ...],
                   now: float, leeway: int) -> Mapping[str, Any]:
    """Signature, algorithm, key id, time, issuer and audience of a Google ID token.

    The RS256 signature is checked by google-auth's ``RSAVerifier`` (kept per key, see
    ``CertificateCache.verifier_for``); the claims are read by ``google.auth.jwt.decode``
    and every claim google-auth would check is checked here, on the injected clock.
    """
    if not isinstance(token, str) or not token:
        _reject("token missing or not text")
    if len(token) > MAX_TOKEN_CHARS:
        _reject(f"token longer than {MAX_TOKEN_CHARS} characters")
    if not _JWS_SHAPE.fullmatch(token):
        _reject("token is not a compact JWS")
    allowed = audience if isinstance(audience, tuple) else (audience,)
    cache_key = VerifiedTokens.key(token, allowed)
    hit = certs.verified.get(cache_key)
    if hit is not None:
        claims, signed_by = hit
        try:
            published = certs.published(signed_by)
        except AuthError:
            raise _Rejected("signing certificates unavailable") from None
        if not published:
            certs.verified.drop(cache_key)
            _reject("signing key no longer published")
        _check_times(claims, now, leeway)
        return claims
    try:
        header = google.auth.jwt.decode_header(token)
    except Exception:
        raise _Rejected("token header unreadable") from None
    if not isinstance(header, Mapping):
        _reject("token header is not an object")
    if header.get("alg") != "RS256":
        _reject(f"algorithm {_shown(header.get('alg'))} is not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        _reject("token header has no key id")
    try:
        verifier = certs.verifier_for(kid)
    except AuthError:
        raise _Rejected("signing certificates unavailable") from None
    if verifier is None:
        _reject("unknown key id")
    signed_section, _, signature = token.rpartition(".")
    try:
        valid = verifier.verify(signed_section.encode("ascii"), _b64url_bytes(signature))
    except Exception:
        valid = False
    if not valid:
        _reject("bad signature")
    try:
        claims = google.auth.jwt.decode(token, verify=False)
    except Exception as exc:
        raise _Rejected(_google_auth_reason(exc)) from None
    if not isinstance(claims, Mapping):
        _reject("payload is not an object")
    iss = claims.get("iss")
    if not isinstance(iss, str) or iss not in GOOGLE_ISSUERS:
        _reject(f"issuer {_shown(iss)} is not Google")
    if claims.get("aud") not in allowed:
        _reject(f"audience {_shown(claims.get('aud'))} is not the configured one")
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


def _verified_email(claims: Mapping[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        _reject("claim email missing")
    if claims.get("email_verified") is not True:
        _reject("claim email_verified is not true")
    return email.lower()


def _account_for_log(email: str) -> str:
    """A service account is named in full (it helps fix the setting); a person is not."""
    if email.endswith(".gserviceaccount.com"):
        return _shown(email)
    return "an account at " + _shown(email.rpartition("@")[2])


def _same_account(a: str, b: str) -> bool:
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
            _reject("no audience configured")
        claims = _google_claims(token, certs, audience, clock(), leeway)
        email = _verified_email(claims)
        if service_account is not None and not _same_account(email, service_account):
            _reject(f"{_account_for_log(email)} is not the scheduler service account")
        return claims

    return _guarded("OIDC token", check)


class RequestVerifier:
    """Verifies add-on requests: the system token, then the user's token.

    Time claims are checked on ``clock``; google-auth also checks them on the wall clock,
    so an injected clock can only make verification stricter.
    """

    def __init__(self, certs: CertificateCache, *, audience: str, service_account: str,
                 oauth_client_id: str, clock: Callable[[], float] = time.time,
                 leeway: int = 10,
                 workspace_domains: Callable[[], Iterable[str]] = tuple) -> None:
        missing = [name for name, value in (
            ("SENDGUARD_ADDON_AUDIENCE", audience),
            ("SENDGUARD_ADDON_SERVICE_ACCOUNT", service_account),
            ("SENDGUARD_OAUTH_CLIENT_ID", oauth_client_id),
        ) if not value]
        if missing:
            raise ConfigError("request verification needs: " + ", ".join(missing))
        if not 0 <= leeway <= 300:
            raise ConfigError("token leeway must be 0-300 seconds")
        self._certs = certs
        self._audience = audience
        self._service_account = service_account.lower()
        self._client_id = oauth_client_id
        self._clock = clock
        self._leeway = leeway
        self._workspace_domains = workspace_domains

    def verify_system_token(self, token: str, *, endpoint_url: str | None = None
                            ) -> Mapping[str, Any]:
        """Claims of the add-on system service account's ID token.

        Google sets the audience to the configured audience or to the URL of the endpoint
        called (each card action has its own URL); ``endpoint_url`` must be built from
        ``SENDGUARD_BASE_URL``, never from the request's Host header.
        """
        return _guarded("system token", lambda: self._system_claims(token, endpoint_url))

    def verify_user_token(self, token: str) -> Caller:
        """The user named by a user ID token issued to the add-on's OAuth client, who must
        belong to one of the organisation's Google Workspace domains.

        ``workspace_domains`` is read per call and outside the guard: a broken policy file
        must reach the admin as the policy error it is, not as a refused token.
        """
        caller = _guarded("user token", lambda: self._caller(token))
        domains = tuple(self._workspace_domains())
        _guarded("user token", lambda: _check_hosted_domain(caller, domains))
        return caller

    def verify_request(self, authorization_header: str | None, event: Mapping[str, Any],
                       *, require_user: bool = True, endpoint_url: str | None = None
                       ) -> Caller:
        """Verify a whole add-on request: Bearer system token, body echo, user token."""
        token = _guarded("add-on request", lambda: _bearer(authorization_header))
        self.verify_system_token(token, endpoint_url=endpoint_url)
        auth = _guarded("add-on request", lambda: _auth_object(event, require_user))
        echoed = auth.get("systemIdToken")
        if echoed is not None and not (
                isinstance(echoed, str)
                and hmac.compare_digest(echoed.encode("utf-8"), token.encode("utf-8"))):
            # a different echo must stand on its own
            self.verify_system_token(echoed, endpoint_url=endpoint_url)
        user_token = auth.get("userIdToken")
        if user_token is None and not require_user:
            return Caller(user_email="", user_id="")
        return self.verify_user_token(user_token if isinstance(user_token, str) else "")

    def _system_claims(self, token: object, endpoint_url: str | None = None
                       ) -> Mapping[str, Any]:
        audiences = (self._audience, endpoint_url) if endpoint_url else (self._audience,)
        claims = _google_claims(token, self._certs, audiences, self._clock(), self._leeway)
        email = _verified_email(claims)
        if not _same_account(email, self._service_account):
            _reject(f"{_account_for_log(email)} is not the add-on service account")
        return claims

    def _caller(self, token: object) -> Caller:
        claims = _google_claims(token, self._certs, self._client_id, self._clock(),
                                self._leeway)
        email = _verified_email(claims)
        if _same_account(email, self._service_account):
            _reject("the system token cannot name a user")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            _reject("claim sub missing")
        hd = claims.get("hd")
        return Caller(user_email=email, user_id=sub,
                      hosted_domain=hd.lower() if isinstance(hd, str) else "")


def _check_hosted_domain(caller: Caller, domains: tuple[str, ...]) -> None:
    """Google Workspace accounts only, and of the organisation's domains when it names any.

    Google: ``hd`` is "the domain associated with the Google Workspace or Cloud organization
    of the user"; its absence means the account is not in a hosted domain (a consumer
    account). The e-mail's domain proves nothing (a consumer account may use any address).
    """
    hd = caller.hosted_domain
    if not hd:
        _reject("the account is not a Google Workspace account (no hd claim)")
    if domains and not _domain_list(domains).matches_domain(hd):
        _reject(f"hosted domain {_shown(hd)} is not one of the organisation's")


@functools.lru_cache(maxsize=8)
def _domain_list(entries: tuple[str, ...]) -> Any:
    """The policy's list semantics (SPEC 10.1): ``example.jp`` with its subdomains,
    ``*.example.jp`` subdomains only, ``-x.example.jp`` an exception; address entries
    (``@example.jp``, ``sato@example.jp``) name no hosted domain and are not used."""
    from service.policy.patterns import PatternList

    return PatternList(entries)


_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] (\S+)")


def _bearer(header: object) -> str:
    if not isinstance(header, str) or not header:
        _reject("no Authorization header")
    m = _BEARER.fullmatch(header)
    if m is None:
        _reject("Authorization header is not a single Bearer token")
    return m.group(1)


def _auth_object(event: object, require_user: bool) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        _reject("event is not a JSON object")
    auth = event.get("authorizationEventObject")
    if auth is None and not require_user:
        return {}
    if not isinstance(auth, Mapping):
        _reject("authorizationEventObject missing")
    if require_user and auth.get("userIdToken") is None:
        _reject("userIdToken missing")
    return auth


# --------------------------------------------------------------------------- the mailbox

PROFILE_PATH = "gmail/v1/users/me/profile"
MAX_PROFILE_BYTES = 64 * 1024
BINDING_TTL = 600.0          # seconds an access token's mailbox is remembered
MAX_BINDINGS = 4096


class GmailProfileLookup:
    """The address of the mailbox an access token opens: Gmail's ``users.getProfile``.

    Chosen over ``oauth2/tokeninfo`` because it needs only a scope every token-using action
    already has (``gmail.compose`` is one of the method's scopes in Gmail's discovery
    document; tokeninfo returns ``email`` only with the ``email`` scope), it names exactly
    what matters (whose mail the token reads and sends), and it is the same API host the
    service already trusts. A failed lookup is the Gmail error it is (401: re-open the
    add-on; 5xx: try again): nothing goes on without the check.
    """

    def __init__(self, endpoint: str, *, session: requests.Session | None = None,
                 timeout: tuple[float, float] = FETCH_TIMEOUT) -> None:
        self.url = (endpoint if endpoint.endswith("/") else endpoint + "/") + PROFILE_PATH
        self._session = session if session is not None else requests.Session()
        self._owns_session = session is None
        self._timeout = timeout

    def __call__(self, access_token: str) -> str:
        from service.gmail.retry import BUSY, Failure, client_error

        try:
            with self._session.get(self.url, timeout=self._timeout, stream=True,
                                   allow_redirects=False,
                                   headers={"Authorization": f"Bearer {access_token}",
                                            "Accept": "application/json"}) as resp:
                body = resp.raw.read(MAX_PROFILE_BYTES + 1, decode_content=True)
                status = resp.status_code
        except (requests.RequestException, OSError) as exc:
            raise GmailTransientError(BUSY, detail=f"users.getProfile: {type(exc).__name__}"
                                      ) from None
        if status == 429 or status >= 500:
            raise GmailTransientError(BUSY, detail=f"users.getProfile: HTTP {status}")
        if status != 200:
            raise client_error(Failure("client", status, reason=_google_reason(body)),
                               "users.getProfile")
        if len(body) > MAX_PROFILE_BYTES:
            _reject("Gmail profile answer too large")
        data = json.loads(body)
        email = data.get("emailAddress") if isinstance(data, Mapping) else None
        if not isinstance(email, str) or "@" not in email:
            _reject("Gmail profile has no emailAddress")
        return email

    def close(self) -> None:
        if self._owns_session:
            self._session.close()


def _google_reason(body: bytes) -> str:
    try:
        err = json.loads(body)["error"]
        return str((err.get("errors") or [{}])[0].get("reason", err.get("status", "")))[:60]
    except Exception:
        return ""


class MailboxBinding:
    """Refuses an access token that does not open the verified user's own mailbox.

    The answer for a token is remembered (by its SHA-256, never the token) for
    ``BINDING_TTL`` seconds: an access token belongs to one account for its whole life, so
    the binding cannot change, and a send does not pay one more Gmail round trip per click.
    Only a matching binding is remembered; a mismatch is checked afresh each time.
    """

    def __init__(self, lookup: Callable[[str], str], *, ttl: float = BINDING_TTL,
                 max_entries: int = MAX_BINDINGS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    def require(self, caller: Caller, access_token: str) -> None:
        """Return when ``access_token`` opens ``caller``'s mailbox; else one AuthError.

        Gmail errors from the lookup itself (expired token, Gmail down) propagate as the
        Gmail errors they are, so the user sees why and can retry; nothing proceeds.
        """
        if not caller.user_email or not access_token:
            _guarded("OAuth token", lambda: _reject("no verified user or no access token"))
        key = hashlib.sha256(access_token.encode("utf-8", "surrogatepass")).digest()
        now = self._clock()
        with self._lock:
            hit = self._seen.get(key)
            if hit is not None and hit[1] > now and _same_account(hit[0], caller.user_email):
                self._seen.move_to_end(key)
                return
        owner = _guarded_lookup(self._lookup, access_token)
        _guarded("OAuth token", lambda: _same_mailbox(owner, caller.user_email))
        with self._lock:
            self._seen[key] = (caller.user_email, now + self._ttl)
            self._seen.move_to_end(key)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def close(self) -> None:
        close = getattr(self._lookup, "close", None)
        if callable(close):
            close()


def _guarded_lookup(lookup: Callable[[str], str], token: str) -> str:
    """The lookup's Gmail errors pass through; anything else fails closed as AuthError."""
    try:
        return lookup(token)
    except (GmailError, AuthError):
        raise
    except _Rejected as exc:
        log.warning("OAuth token rejected: %s", exc.reason)
    except Exception as exc:
        log.warning("OAuth token rejected: unexpected %s", type(exc).__name__)
    raise AuthError(PUBLIC_MESSAGE)


def _same_mailbox(owner: str, user_email: str) -> None:
    if not _same_account(owner, user_email):
        _reject("the Gmail access token opens another mailbox than the verified user's")
