"""The short "just revealed" session of the key page: Reload, Back and the language
switch show the password again in the browser that revealed it, without a new code and
without counting another reveal.

The cookie (HttpOnly, SameSite=Strict, ``__Host-`` on https) holds the grant id, an
expiry and ``HMAC(K, grant id, expiry, csrf nonce)`` with ``K`` derived from the server
secret and the link token, as for the form tokens: it is useless for another link, in
another browser (the CSRF nonce cookie is bound in) and after ``LIFETIME_S``. It reveals
nothing by itself; the password is opened again from the package on each view, so a
revoked or expired package stops showing it at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

LIFETIME_S = 10 * 60
LINK_LIFETIME_S = 30 * 60      # link mode: downloads within the code-opened session
SECURE_COOKIE = "__Host-sendguard-seen"
PLAIN_COOKIE = "sendguard-seen"


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else PLAIN_COOKIE


def _mac(secret: bytes, link_token: str, grant_id: int, until: int, nonce: str) -> str:
    key = hmac.new(secret, b"seen\0" + link_token.encode("utf-8"), hashlib.sha256).digest()
    mac = hmac.new(key, f"{grant_id}\0{until}\0{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def issue(secret: bytes, link_token: str, grant_id: int, nonce: str, now: datetime,
          lifetime: int = LIFETIME_S) -> str:
    until = int(now.timestamp()) + lifetime
    return f"{grant_id}.{until}.{_mac(secret, link_token, grant_id, until, nonce)}"


def until(value: str | None) -> int | None:
    try:
        return int((value or "").split(".")[1])
    except (IndexError, ValueError):
        return None


def valid(secret: bytes, link_token: str, grant_id: int, nonce: str | None,
          value: str | None, now: datetime) -> bool:
    if not value or not nonce or len(value) > 200 or len(nonce) > 128:
        return False
    parts = value.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return False
    if int(parts[0]) != grant_id or int(parts[1]) <= now.timestamp():
        return False
    expected = _mac(secret, link_token, grant_id, int(parts[1]), nonce)
    return hmac.compare_digest(expected.encode("ascii"), parts[2].encode("ascii", "replace"))
