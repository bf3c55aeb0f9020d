"""What a link-mode package's sealed blob holds instead of a ZIP password: the package's
fresh file key and, per file, its name, size and random object name.

It travels as the package's ``password`` string (``MARK`` + base64url JSON), so it is
wrapped, bound to the record and re-wrapped exactly like a ZIP password: a database dump
without the master key (or KMS) names no object and opens no file. The record itself is
marked by ``LINK_ZIP_NAME`` in ``zip_filename`` (no ZIP exists in link mode).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field

from service.errors import SecretError
from service.files.crypt import KEY_BYTES

MARK = "sglink1:"
LINK_ZIP_NAME = "(link)"


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    object_name: str


@dataclass(frozen=True)
class Manifest:
    key: bytes = field(repr=False)
    files: tuple[StoredFile, ...]

    @classmethod
    def new_key(cls) -> bytes:
        return secrets.token_bytes(KEY_BYTES)

    def encode(self) -> str:
        doc = {"k": self.key.hex(),
               "f": [{"n": f.name, "s": f.size, "o": f.object_name} for f in self.files]}
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return MARK + base64.urlsafe_b64encode(raw).decode("ascii")


def is_link_password(password: str) -> bool:
    return password.startswith(MARK)


def decode(password: str) -> Manifest:
    if not is_link_password(password):
        raise SecretError()
    try:
        doc = json.loads(base64.urlsafe_b64decode(password[len(MARK):]))
        key = bytes.fromhex(doc["k"])
        files = tuple(StoredFile(str(f["n"]), int(f["s"]), str(f["o"])) for f in doc["f"])
    except (ValueError, KeyError, TypeError):
        raise SecretError() from None
    if len(key) != KEY_BYTES:
        raise SecretError()
    return Manifest(key, files)
