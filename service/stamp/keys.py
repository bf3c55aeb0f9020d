"""Stamp keys: ``SENDGUARD_STAMP_KEY`` = ``<key id>:<64 hex digits>[,…]``; the first
signs, all verify (rotation: put the new key first, keep the old one until no message
signed with it needs checking). Secret Manager in production; on embedded defaults a
key generated once under ``var/stamp.key`` (owner-only). Production never falls back to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service.errors import ConfigError
from service.hexkey import decode_hex_key

VAR = "SENDGUARD_STAMP_KEY"
KEY_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
DEV_FILE = "stamp.key"


@dataclass(frozen=True)
class StampKeys:
    """Key ids in order (the first signs) and their secrets; repr never shows a secret."""

    ids: tuple[str, ...]
    _secrets: Mapping[str, bytes] = field(repr=False)

    @property
    def signing_id(self) -> str:
        return self.ids[0]

    def secret(self, key_id: str) -> bytes | None:
        return self._secrets.get(key_id)


def parse_stamp_keys(value: str, var: str = VAR) -> StampKeys:
    """Parse the variable; errors name the variable and the item, never a secret."""
    items = [item.strip() for item in value.split(",")]
    if not any(items):
        raise ConfigError(f"{var} is empty")
    ids: list[str] = []
    found: dict[str, bytes] = {}
    for n, item in enumerate(items, 1):
        where = f"{var}: key {n} of {len(items)}"
        kid, sep, hexkey = item.partition(":")
        kid, hexkey = kid.strip(), hexkey.strip()
        if not sep:
            raise ConfigError(f"{where} must be <key id>:<{KEY_BYTES * 2} hex digits>")
        if not KEY_ID.fullmatch(kid):
            raise ConfigError(f"{where}: the key id must be 1-32 of A-Z a-z 0-9 . _ - "
                              "(starting with a letter or digit)")
        if kid in found:
            raise ConfigError(f"{where}: key id {kid!r} appears twice")
        ids.append(kid)
        found[kid] = decode_hex_key(hexkey, f"{where} ({kid})", KEY_BYTES)
    return StampKeys(tuple(ids), found)


def new_key_line(key_id: str = "k1") -> str:
    """A fresh ``<key id>:<hex>`` item (deploy.sh makes its own with the same shape)."""
    return f"{key_id}:{secrets.token_hex(KEY_BYTES)}"


def dev_key_path(var_dir: Path) -> Path:
    return var_dir / DEV_FILE


def load_or_create(var_dir: Path) -> StampKeys:
    """The development key under ``var_dir`` (made once, mode 0600, atomically)."""
    path = dev_key_path(var_dir)
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{DEV_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(new_key_line("dev1") + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)      # a concurrent creator's key wins, never two keys
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return parse_stamp_keys(path.read_text().strip(), var=str(path))


def keys_for(config: object, *, create: bool = True) -> StampKeys:
    """The deployment's keys: the variable; in production nothing else; in development
    the key under ``var`` (``create=False``: only if it exists, for ``stamp verify``)."""
    value = getattr(config, "stamp_key", "")
    if value:
        return parse_stamp_keys(value)
    if getattr(config, "production", False):
        raise ConfigError(f"production needs {VAR}; a development key is never used")
    var_dir = Path(getattr(config, "var_dir", "var"))
    if not create and not dev_key_path(var_dir).exists():
        raise ConfigError(f"no stamp key: set {VAR} (as the service has it) or run where "
                          f"{dev_key_path(var_dir)} exists")
    return load_or_create(var_dir)
