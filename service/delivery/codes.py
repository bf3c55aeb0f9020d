"""One-time codes: 8 digits from ``secrets``, stored only as a keyed hash.

The hash key is the grant's link token, which the store never sees (it keeps only the
token's SHA-256): someone holding a copy of the database cannot try the 10^8 codes
offline. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

DIGITS = 8
LIFETIME_S = 10 * 60
MAX_ATTEMPTS = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def code_hash(token: str, code: str) -> bytes:
    return hmac.new(token.encode("utf-8"), b"sendguard-code/v1\0" + code.encode("ascii"),
                    hashlib.sha256).digest()


def normalise(text: str) -> str | None:
    """What the visitor typed as an 8-digit code (full-width digits, spaces and dashes
    allowed), or None when it cannot be one."""
    value = unicodedata.normalize("NFKC", text or "")
    value = "".join(ch for ch in value if not ch.isspace() and ch not in "-‐‑–—")
    if len(value) == DIGITS and value.isascii() and value.isdigit():
        return value
    return None


def matches(token: str, typed: str, stored: bytes | None) -> bool:
    """True when ``typed`` is the code whose hash is ``stored`` (constant-time)."""
    code = normalise(typed)
    candidate = code_hash(token, code if code is not None else "x" * DIGITS)
    ok = stored is not None and hmac.compare_digest(candidate, stored)
    return ok and code is not None
