"""What a package's wrapped blob holds, and the link tokens derived from it.

The store keeps only SHA-256 hashes of link tokens, yet the notice that carries a token
goes out later, from whichever worker releases the package. So the tokens are derived:
``token = base64url(HMAC-SHA256(link_seed, address))`` (256 bits), with a random 256-bit
``link_seed`` sealed together with the password under the key wrapper. Only the service
(holding the master key or KMS access) can mint or re-mint a token, and a grant row put
into the database by hand opens nothing: its token would not match the derived one.

Binding: the caller picks the package id before the record exists
(``new_package_id()``, handed to ``Store.create_package``), so the blob's AAD names the
id together with the record's immutable fields (sender, recipients, archive and file
names, creation and expiry times, release mode, reveal limit): a blob copied onto another
record, or a record whose recipients were edited, does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from service.errors import SecretError
from service.protect.keywrap import KeyWrapper
from service.storage import Package

MAGIC = b"SGK1"
SEED_BYTES = 32
TOKEN_CHARS = 43            # base64url of 32 bytes, unpadded


@dataclass(frozen=True)
class KeyMaterial:
    """What a package's blob holds: the ZIP password and the seed of its link tokens."""

    password: str = field(repr=False)
    link_seed: bytes = field(repr=False)

    @classmethod
    def new(cls, password: str) -> KeyMaterial:
        return cls(password, secrets.token_bytes(SEED_BYTES))

    def link_token(self, address: str) -> str:
        return link_token(self.link_seed, address)


def link_token(seed: bytes, address: str) -> str:
    mac = hmac.new(seed, b"sendguard-link/v1\0" + address.strip().lower().encode("utf-8"),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def well_formed_token(token: str) -> bool:
    """Cheap shape check before any database look-up."""
    return (len(token) == TOKEN_CHARS and token.isascii()
            and all(c.isalnum() or c in "-_" for c in token))


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def binding(*, package_id: str, sender: str, recipients: Sequence[str], zip_filename: str,
            file_names: Sequence[str], created_at: datetime, expires_at: datetime,
            release_mode: str, reveal_limit: int) -> bytes:
    """The AAD of a package's blob, from fields normalised as the store keeps them."""
    rcpts: list[str] = []
    for addr in recipients:
        low = addr.strip().lower()
        if low not in rcpts:
            rcpts.append(low)
    doc = {"id": package_id, "sender": sender.strip().lower(), "recipients": rcpts,
           "zip": zip_filename, "files": list(file_names), "created": _iso(created_at),
           "expires": _iso(expires_at), "mode": release_mode, "limit": reveal_limit}
    return b"sendguard-package/v2\0" + json.dumps(doc, ensure_ascii=False,
                                                  sort_keys=True).encode("utf-8")


def package_binding(package: Package) -> bytes:
    return binding(package_id=package.id, sender=package.sender, recipients=package.recipients,
                   zip_filename=package.zip_filename, file_names=package.file_names,
                   created_at=package.created_at, expires_at=package.expires_at,
                   release_mode=package.release_mode, reveal_limit=package.reveal_limit)


def seal(wrapper: KeyWrapper, material: KeyMaterial, aad: bytes) -> bytes:
    plain = MAGIC + material.link_seed + material.password.encode("utf-8")
    return wrapper.wrap(plain, aad)


def open_package(wrapper: KeyWrapper, package: Package) -> KeyMaterial:
    """Unwrap a package's blob; ``SecretError`` when it does not open for this record
    (or its key was purged: the blob is then empty)."""
    plain = wrapper.unwrap(package.wrapped_password, package_binding(package))
    head = len(MAGIC) + SEED_BYTES
    if len(plain) <= head or not plain.startswith(MAGIC):
        raise SecretError()
    try:
        password = plain[head:].decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError() from None
    return KeyMaterial(password, plain[len(MAGIC):head])
