"""Argument checks at the store's edge: bad input is an ``InputError`` naming the argument,
before anything reaches the database."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from service.errors import InputError

SHA256_LEN = 32
_BAD_ADDRESS_CHARS = re.compile(r"[\s<>,;\"()\[\]\\\x00-\x1f\x7f]")
_ACTION = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_ACTOR = re.compile(r"^[^\s\x00-\x1f\x7f]{1,400}$")


def aware(value: datetime, name: str) -> datetime:
    """A UTC-aware datetime, or ValueError: a naive clock is a programming error."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a UTC-aware datetime")
    return value.astimezone(UTC)


def address(value: str, name: str = "address") -> str:
    """A bare e-mail address, lower-cased (display names and lists are refused)."""
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string")
    addr = value.strip().lower()
    local, at, domain = addr.rpartition("@")
    if (not at or not local or not domain or "@" in local or len(addr) > 320
            or _BAD_ADDRESS_CHARS.search(addr) or domain.startswith(".")
            or domain.endswith(".")):
        raise InputError(f"{name} is not a single e-mail address")
    return addr


def sequence(values: object, name: str) -> list[Any]:
    """A list from any iterable but a string (whose characters are no list of names)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InputError(f"{name} must be a list")
    return list(values)


def addresses(values: object, name: str) -> list[str]:
    """Distinct addresses in their first order; at least one."""
    out: list[str] = []
    for value in sequence(values, name):
        addr = address(value, name)
        if addr not in out:
            out.append(addr)
    if not out:
        raise InputError(f"{name} must not be empty")
    return out


def digest(value: bytes, name: str, *, exact: bool = True) -> bytes:
    """A hash, never a secret: exactly (or at least) a SHA-256 digest's 32 bytes."""
    if not isinstance(value, bytes):
        raise InputError(f"{name} must be bytes (a hash)")
    if (len(value) != SHA256_LEN) if exact else not (SHA256_LEN <= len(value) <= 256):
        raise InputError(f"{name} must be a {SHA256_LEN}-byte hash, not a raw secret")
    return value


def positive(value: int, name: str, *, at_most: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{name} must be a whole number of at least 1")
    if at_most is not None and value > at_most:
        raise InputError(f"{name} must be at most {at_most}")
    return value


def text(value: str | None, name: str, *, max_len: int, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name} must be a non-empty string")
    if len(value) > max_len or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InputError(f"{name} is too long or holds control characters")
    return value


def action(value: str) -> str:
    if not isinstance(value, str) or len(value) > 64 or not _ACTION.match(value):
        raise InputError("action must look like 'package.released'")
    return value


def actor(value: str) -> str:
    if not isinstance(value, str) or not _ACTOR.match(value):
        raise InputError("actor must be an address, 'system' or 'recipient:<address>'")
    return value.lower()
