"""CSRF protection for the key page: a signed double-submit token bound to the grant.

The browser gets a random nonce in an HttpOnly, SameSite=Strict cookie (``__Host-``
prefixed, so Secure and host-only, when the service runs on https); each form carries
``HMAC(K, nonce)`` where ``K = HMAC(server secret, link token)``. A page elsewhere can
neither read the cookie nor compute the form value, and a form value made for one link
is useless on another. The server secret is derived from the master key material
(``SENDGUARD_MASTER_KEY``, or the development key under ``var``); with Cloud KMS alone
there is none to derive from, and the link token (256 bits, never stored) is the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.protect.keywrap import load_or_create_dev_key, parse_master_keys
from service.settings import Config

NONCE_BYTES = 32
SECURE_COOKIE = "__Host-sendguard-csrf"
PLAIN_COOKIE = "sendguard-csrf"


def server_secret(config: Config) -> bytes:
    """A 256-bit secret for form tokens, derived from the first master key (or b"")."""
    if config.master_key:
        material = parse_master_keys(config.master_key)[0]
    elif not config.kms_key and not config.production:
        material = parse_master_keys(load_or_create_dev_key(config.var_dir))[0]
    else:
        return b""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"sendguard/key-page/csrf/v1").derive(material)


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else PLAIN_COOKIE


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def form_token(secret: bytes, link_token: str, nonce: str) -> str:
    key = hmac.new(secret, b"csrf\0" + link_token.encode("utf-8"), hashlib.sha256).digest()
    mac = hmac.new(key, nonce.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def valid(secret: bytes, link_token: str, nonce: str | None, submitted: str | None) -> bool:
    if not nonce or not submitted or len(nonce) > 128 or len(submitted) > 128:
        return False
    expected = form_token(secret, link_token, nonce)
    return hmac.compare_digest(expected.encode("ascii"),
                               submitted.encode("ascii", "replace"))
