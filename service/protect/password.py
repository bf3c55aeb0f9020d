"""ZIP passwords a person can read aloud or retype without confusing characters.

WinZip AES derives its key with PBKDF2-HMAC-SHA1 at only 1,000 iterations, so the password
itself must carry the strength: at least 100 bits from ``secrets``. The alphabet drops
characters that look alike in common fonts (0/O/o, 1/l/I/i); dashes every four characters
help reading and carry no entropy.
"""

from __future__ import annotations

import math
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz"
GROUP = 4
MIN_BITS = 100


def password_length(bits: int) -> int:
    """Characters needed for ``bits`` of entropy over ``ALPHABET`` (dashes not counted)."""
    return math.ceil(bits / math.log2(len(ALPHABET)))


def generate_password(bits: int = 128) -> str:
    """A fresh random password of at least ``bits`` (>= 100) bits, e.g. ``k7Qp-3mRx-…``."""
    if bits < MIN_BITS:
        raise ValueError(f"a ZIP password needs at least {MIN_BITS} bits, not {bits}")
    chars = [secrets.choice(ALPHABET) for _ in range(password_length(bits))]
    return "-".join("".join(chars[i:i + GROUP]) for i in range(0, len(chars), GROUP))


def password_bits(password: str) -> float:
    """Entropy of a password made by ``generate_password`` (dashes ignored)."""
    return len(password.replace("-", "")) * math.log2(len(ALPHABET))
