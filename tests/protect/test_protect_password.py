"""ZIP passwords: enough entropy from ``secrets``, no look-alike characters."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from service.protect.password import ALPHABET, generate_password, password_bits


def test_default_password_carries_at_least_128_bits() -> None:
    password = generate_password()
    assert password_bits(password) >= 128
    assert len(password.replace("-", "")) == math.ceil(128 / math.log2(len(ALPHABET)))


@pytest.mark.parametrize("bits", [100, 128, 160, 256], ids=lambda b: f"{b}-bits")
def test_requested_entropy_is_met(bits: int) -> None:
    assert bits <= password_bits(generate_password(bits)) < bits + math.log2(len(ALPHABET))


@pytest.mark.parametrize("bits", [0, 64, 99, -1], ids=lambda b: f"{b}-bits")
def test_too_weak_is_refused(bits: int) -> None:
    with pytest.raises(ValueError, match="at least 100 bits"):
        generate_password(bits)


@pytest.mark.parametrize("look_alike", list("0Oo1lIi"), ids=list("0Oo1lIi"))
def test_alphabet_has_no_look_alikes(look_alike: str) -> None:
    assert look_alike not in ALPHABET


def test_alphabet_is_plain_ascii_without_duplicates() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) >= 50
    assert all(c.isascii() and c.isalnum() for c in ALPHABET)


def test_grouped_by_four_with_dashes() -> None:
    for _ in range(50):
        password = generate_password()
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}(-[{ALPHABET}]{{4}})*(-[{ALPHABET}]{{1,4}})?",
                            password), password


def test_passwords_are_random_and_use_the_whole_alphabet() -> None:
    passwords = [generate_password() for _ in range(2000)]
    assert len(set(passwords)) == len(passwords)
    counts = Counter("".join(passwords).replace("-", ""))
    expected = sum(counts.values()) / len(ALPHABET)
    assert set(counts) == set(ALPHABET)
    # a biased generator (e.g. modulo bias or a fixed seed) lands far outside +-25 %
    assert all(0.75 * expected < n < 1.25 * expected for n in counts.values()), counts
