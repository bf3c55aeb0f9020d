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

import functools
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from service.errors import AuthError, ConfigError, GmailError, GmailTransientError
from service.idtokens import (
    FETCH_TIMEOUT,
    CertificateCache,
    account_for_log,
    google_claims,
    guarded,
    reject,
    same_account,
    shown,
    verified_email,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """The verified user behind an add-on request."""

    user_email: str   # lower-case, from the verified user ID token; "" if not required
    user_id: str      # the token's ``sub``
    hosted_domain: str = ""   # the token's ``hd``: the user's Google Workspace domain


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
        return guarded("system token", lambda: self._system_claims(token, endpoint_url), log)

    def verify_user_token(self, token: str) -> Caller:
        """The user named by a user ID token issued to the add-on's OAuth client, who must
        belong to one of the organisation's Google Workspace domains.

        ``workspace_domains`` is read per call and outside the guard: a broken policy file
        must reach the admin as the policy error it is, not as a refused token.
        """
        caller = guarded("user token", lambda: self._caller(token), log)
        domains = tuple(self._workspace_domains())
        guarded("user token", lambda: _check_hosted_domain(caller, domains), log)
        return caller

    def verify_request(self, authorization_header: str | None, event: Mapping[str, Any],
                       *, require_user: bool = True, endpoint_url: str | None = None
                       ) -> Caller:
        """Verify a whole add-on request: Bearer system token, body echo, user token."""
        token = guarded("add-on request", lambda: _bearer(authorization_header), log)
        self.verify_system_token(token, endpoint_url=endpoint_url)
        auth = guarded("add-on request", lambda: _auth_object(event, require_user), log)
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
        claims = google_claims(token, self._certs, audiences, self._clock(), self._leeway)
        email = verified_email(claims)
        if not same_account(email, self._service_account):
            reject(f"{account_for_log(email)} is not the add-on service account")
        return claims

    def _caller(self, token: object) -> Caller:
        claims = google_claims(token, self._certs, self._client_id, self._clock(),
                                self._leeway)
        email = verified_email(claims)
        if same_account(email, self._service_account):
            reject("the system token cannot name a user")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            reject("claim sub missing")
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
        reject("the account is not a Google Workspace account (no hd claim)")
    if domains and not _domain_list(domains).matches_domain(hd):
        reject(f"hosted domain {shown(hd)} is not one of the organisation's")


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
        reject("no Authorization header")
    m = _BEARER.fullmatch(header)
    if m is None:
        reject("Authorization header is not a single Bearer token")
    return m.group(1)


def _auth_object(event: object, require_user: bool) -> Mapping[str, Any]:
    if not isinstance(event, Mapping):
        reject("event is not a JSON object")
    auth = event.get("authorizationEventObject")
    if auth is None and not require_user:
        return {}
    if not isinstance(auth, Mapping):
        reject("authorizationEventObject missing")
    if require_user and auth.get("userIdToken") is None:
        reject("userIdToken missing")
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
            reject("Gmail profile answer too large")
        data = json.loads(body)
        email = data.get("emailAddress") if isinstance(data, Mapping) else None
        if not isinstance(email, str) or "@" not in email:
            reject("Gmail profile has no emailAddress")
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
            guarded("OAuth token", lambda: reject("no verified user or no access token"), log)
        key = hashlib.sha256(access_token.encode("utf-8", "surrogatepass")).digest()
        now = self._clock()
        with self._lock:
            hit = self._seen.get(key)
            if hit is not None and hit[1] > now and same_account(hit[0], caller.user_email):
                self._seen.move_to_end(key)
                return
        # the lookup's Gmail errors pass through; anything else fails closed as AuthError
        owner = guarded("OAuth token", lambda: self._lookup(access_token), log,
                        (GmailError, AuthError))
        guarded("OAuth token", lambda: _same_mailbox(owner, caller.user_email), log)
        with self._lock:
            self._seen[key] = (caller.user_email, now + self._ttl)
            self._seen.move_to_end(key)
            while len(self._seen) > self._max:
                self._seen.popitem(last=False)

    def close(self) -> None:
        close = getattr(self._lookup, "close", None)
        if callable(close):
            close()


def _same_mailbox(owner: str, user_email: str) -> None:
    if not same_account(owner, user_email):
        reject("the Gmail access token opens another mailbox than the verified user's")
