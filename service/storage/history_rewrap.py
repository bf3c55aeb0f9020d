"""``keys rewrap`` for the recipient history's key (SPEC 10.2).

The history's keyed hashes and sealed values all come from one random history key, stored
only wrapped by the master key (``history_keys``). After a master-key rotation it must be
re-wrapped like every package password, or dropping the old master key would make the whole
history unreadable (every hash would change with a new key: history would silently restart
from nothing). Only the wrapping changes: the history key itself, and so every row, stays.
"""

from __future__ import annotations

import logging
from typing import Protocol

from service.errors import SecretError
from service.storage.history import KEY_AAD, Wrapper

log = logging.getLogger(__name__)


class _KeyStore(Protocol):
    def history_key_blob(self) -> bytes | None: ...

    def replace_history_key(self, old: bytes, new: bytes) -> bool: ...


def rewrap_history_key(store: _KeyStore, wrapper: Wrapper, header: bytes, *,
                       dry_run: bool = False) -> str:
    """``absent`` (no history yet), ``current`` (already under ``header``), ``rewrapped``
    (with ``dry_run``: would be), ``changed`` (someone else swapped it meanwhile) or
    ``failed`` (it opens with none of the configured keys: keep the old master key)."""
    blob = store.history_key_blob()
    if blob is None:
        return "absent"
    if blob.startswith(header):
        return "current"
    try:
        key = wrapper.unwrap(blob, KEY_AAD)
        new = wrapper.wrap(key, KEY_AAD)
        if wrapper.unwrap(new, KEY_AAD) != key:
            raise SecretError()
    except SecretError:
        log.error("rewrap: the history key does not open with the configured keys")
        return "failed"
    if dry_run or store.replace_history_key(blob, new):
        return "rewrapped"
    return "changed"
