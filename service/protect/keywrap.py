"""Wrapping ZIP passwords for storage: AES-256-GCM under master keys, or Cloud KMS.

A stored password is only ever a wrapped blob bound to its record by ``aad`` (the package
id): a blob copied onto another record does not open. Local blobs are

    version (1 byte) | key id (8 bytes) | nonce (12 bytes) | AES-GCM ciphertext and tag

with the first 9 bytes authenticated too. ``SENDGUARD_MASTER_KEY`` holds comma-separated
hex keys: the first encrypts, every one decrypts, so a key is rotated by putting the new
one first and dropping the old one once no record needs it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.errors import ConfigError, SecretError, SendGuardError
from service.hexkey import decode_hex_key
from service.settings import Config

if TYPE_CHECKING:
    import requests

LOCAL_VERSION = 1
KMS_VERSION = 2
KEY_BYTES = 32
_ID_BYTES = 8
_NONCE_BYTES = 12
_HEADER = 1 + _ID_BYTES
_KMS_NAME = r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$"  # Cloud KMS only


class KeyWrapper(Protocol):
    def wrap(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, aad: bytes) -> bytes: ...


def key_id(key: bytes) -> bytes:
    """A short public fingerprint naming which master key wrapped a blob."""
    return hashlib.sha256(b"sendguard-master-key-id\x00" + key).digest()[:_ID_BYTES]


def parse_master_keys(value: str, var: str = "SENDGUARD_MASTER_KEY") -> list[bytes]:
    """Decode comma-separated hex keys; errors name the variable, never the key."""
    items = [item.strip() for item in value.split(",")]
    if not any(items):
        raise ConfigError(f"{var} is empty")
    keys = []
    for n, item in enumerate(items, 1):
        where = f"{var}: key {n} of {len(items)}"
        if not item:
            raise ConfigError(f"{where} is empty")
        keys.append(decode_hex_key(item, where, KEY_BYTES))
    return keys


class LocalKeyWrapper(KeyWrapper):
    """AES-256-GCM under master keys from the environment (Secret Manager in production)."""

    def __init__(self, master_key: str | Sequence[bytes]) -> None:
        keys = parse_master_keys(master_key) if isinstance(master_key, str) else list(master_key)
        if not keys or any(len(k) != KEY_BYTES for k in keys):
            raise ConfigError(f"SENDGUARD_MASTER_KEY keys must be {KEY_BYTES} bytes each")
        self._primary = keys[0]
        self._keys = {key_id(k): AESGCM(k) for k in reversed(keys)}

    @property
    def primary_key_id(self) -> bytes:
        return key_id(self._primary)

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        header = bytes([LOCAL_VERSION]) + key_id(self._primary)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._keys[header[1:]].encrypt(nonce, plaintext, header + aad)
        return header + nonce + sealed

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < _HEADER + _NONCE_BYTES + 16 or blob[0] != LOCAL_VERSION:
            raise SecretError()
        aead = self._keys.get(blob[1:_HEADER])
        if aead is None:
            raise SecretError()
        nonce = blob[_HEADER:_HEADER + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, blob[_HEADER + _NONCE_BYTES:], blob[:_HEADER] + aad)
        except InvalidTag:
            raise SecretError() from None


class KmsKeyWrapper(KeyWrapper):
    """Cloud KMS ``encrypt``/``decrypt`` over REST, ``aad`` as additionalAuthenticatedData.

    Deliberately small: it cannot be tested against real Cloud KMS here, only against a
    loopback server speaking the same JSON. Credentials come from google-auth's default
    chain (the Cloud Run service account), fetched on first use, not at construction.
    """

    ENDPOINT = "https://cloudkms.googleapis.com/v1/"
    SCOPE = "https://www.googleapis.com/auth/cloudkms"

    def __init__(self, key_name: str, *, endpoint: str = ENDPOINT,
                 session: requests.Session | None = None, timeout: float = 10.0) -> None:
        name = key_name.strip()
        if not re.match(_KMS_NAME, name):
            raise ConfigError("SENDGUARD_KMS_KEY must be projects/P/locations/L/keyRings/R/"
                              "cryptoKeys/K")
        self.key_name = name
        self._endpoint = endpoint.rstrip("/") + "/"
        self._session = session
        self._timeout = timeout

    def _http(self) -> requests.Session:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=[self.SCOPE])
            self._session = AuthorizedSession(credentials)
        return self._session

    def _call(self, verb: str, body: dict[str, str]) -> dict[str, Any]:
        import requests

        url = f"{self._endpoint}{self.key_name}:{verb}"
        try:
            resp = self._http().post(url, json=body, timeout=self._timeout)
        except requests.RequestException as exc:
            raise SendGuardError("Cloud KMS is unreachable",
                                 detail=type(exc).__name__) from None
        if resp.status_code == 400 and verb == "decrypt":
            raise SecretError()
        if resp.status_code in (401, 403):
            raise ConfigError(f"Cloud KMS refused {verb} on SENDGUARD_KMS_KEY "
                              f"(HTTP {resp.status_code}): check the service account's role")
        if resp.status_code != 200:
            raise SendGuardError(f"Cloud KMS {verb} failed (HTTP {resp.status_code})")
        data: dict[str, Any] = resp.json()
        return data

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        data = self._call("encrypt", {"plaintext": _b64(plaintext),
                                      "additionalAuthenticatedData": _b64(aad)})
        return bytes([KMS_VERSION]) + base64.b64decode(data["ciphertext"])

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        if len(blob) < 2 or blob[0] != KMS_VERSION:
            raise SecretError()
        data = self._call("decrypt", {"ciphertext": _b64(blob[1:]),
                                      "additionalAuthenticatedData": _b64(aad)})
        try:
            return base64.b64decode(data.get("plaintext", ""), validate=True)
        except binascii.Error:
            raise SecretError() from None


class MigratingKeyWrapper(KeyWrapper):
    """Wraps with ``primary``; unwraps each blob with whichever wrapper made it, so
    records wrapped under master keys keep opening after a switch to Cloud KMS."""

    def __init__(self, primary: KeyWrapper, by_version: dict[int, KeyWrapper]) -> None:
        self._primary = primary
        self._by_version = by_version

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        return self._primary.wrap(plaintext, aad)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        wrapper = self._by_version.get(blob[0]) if blob else None
        if wrapper is None:
            raise SecretError()
        return wrapper.unwrap(blob, aad)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_or_create_dev_key(var_dir: Path) -> str:
    """Development only: the hex master key in ``var_dir/master.key``, made once (0600)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "master.key"
    if not path.exists():
        tmp = var_dir / f".master.key.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(KEY_BYTES) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic: a concurrent creator's key wins, not both
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    value = path.read_text().strip()
    parse_master_keys(value, var=str(path))
    return value


def wrapper_from_config(config: Config) -> KeyWrapper:
    """KMS when ``SENDGUARD_KMS_KEY`` is set (master keys still open older records), else
    the master keys; development without either generates a key under ``var_dir``."""
    local = LocalKeyWrapper(config.master_key) if config.master_key else None
    if config.kms_key:
        kms = KmsKeyWrapper(config.kms_key)
        if local is None:
            return kms
        return MigratingKeyWrapper(kms, {KMS_VERSION: kms, LOCAL_VERSION: local})
    if local is not None:
        return local
    if config.production:
        raise ConfigError("production needs SENDGUARD_MASTER_KEY or SENDGUARD_KMS_KEY; "
                          "a development key is never used")
    return LocalKeyWrapper(load_or_create_dev_key(config.var_dir))
