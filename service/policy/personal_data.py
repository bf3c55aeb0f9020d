"""Personal-data detection (SPEC section 2, ``personal_data``): distinct e-mail addresses,
Japanese phone numbers, My Numbers with a valid check digit and card numbers passing Luhn.

Text is NFKC-normalised first (full-width digits, ＠ and hyphens) and the many dash
characters Japanese text uses are folded to ``-``. Every number pattern is anchored with
digit-boundary lookarounds so that a run of digits inside a longer number never counts,
and each candidate is then validated (length, prefix, check digit), which is what keeps
dates, postal codes, amounts and order numbers out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.policy.deadline import Deadline

# Dashes left alone by NFKC that people type between digit groups (hyphen, non-breaking
# hyphen, figure/en/em dash, horizontal bar, minus sign, katakana prolonged sound mark).
_DASHES = ("\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\u30fc",
           "\u2043")

_EMAIL = re.compile(
    r"[A-Za-z0-9_%+\-](?<![A-Za-z0-9_%+\-]{2})[A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-])"
)

# Each number pattern starts with the character class of its first character and only
# then looks behind: the regex engine skips quickly to positions where that class matches,
# which keeps a megabyte of text to a few tens of milliseconds per pattern.

# A phone number starts with 0, (0 or +81; at most three digit groups, optionally in
# parentheses, separated by one of "-", "." or " ". Groups are checked in _phone().
_PHONE = re.compile(
    r"[0(+](?<![\d+][0(+])(?<!\d[-.][0(+])"
    r"(?:(?<=\+)81[-. ]?(?:\(0\)[-. ]?|0)?[1-9]\d{0,4}|(?<=\()0\d{1,4}\)|(?<=0)\d{1,5})"
    r"(?:[-. ]?\(\d{1,4}\)|[-. ]?\d{1,4}){0,2}"
    r"(?![\d@])(?![-.]\d)"
)

# My Number: twelve digits, plain or 4-4-4 with one kind of separator.
_MY_NUMBER = re.compile(
    r"\d(?<![\d+]\d)"
    r"(?:\d{11}"
    r"|(?<!\d[- ]\d)\d{3}(?P<s>[- ])\d{4}(?P=s)\d{4}(?!(?P=s)\d))"
    r"(?![\d@])"
)

# Card: 13-19 digits, plain or in groups of 3-6 with one kind of separator. The first
# digit is a real issuer's (2 Mastercard, 3 Amex/JCB/Diners, 4 Visa, 5 Mastercard,
# 6 Discover/UnionPay), which keeps most Luhn-passing order numbers out.
_CARD = re.compile(
    r"[2-6](?<![\d+][2-6])"
    r"(?:\d{12,18}"
    r"|(?<!\d[- ][2-6])\d{3}(?P<s>[- ])\d{3,6}(?:(?P=s)\d{3,6}){1,3}(?!(?P=s)\d))"
    r"(?![\d@])"
)

_DIGITS = re.compile(r"\d+")
_ELEVEN_DIGIT_PREFIXES = ("020", "050", "070", "080", "090")  # 080 covers 0800 free dial
_MY_NUMBER_WEIGHTS = (2, 3, 4, 5, 6, 7, 2, 3, 4, 5, 6)  # Q_n for P_1..P_11, right to left


@dataclass
class PersonalData:
    """Distinct personal-data items found, as normalised values."""

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    my_numbers: set[str] = field(default_factory=set)
    cards: set[str] = field(default_factory=set)
    partial: bool = False   # the deadline stopped the scan: the counts are a lower bound

    @property
    def total(self) -> int:
        return len(self.emails) + len(self.phones) + len(self.my_numbers) + len(self.cards)

    def merge(self, other: PersonalData) -> None:
        self.emails |= other.emails
        self.phones |= other.phones
        self.my_numbers |= other.my_numbers
        self.cards |= other.cards
        self.partial = self.partial or other.partial

    def summary(self) -> dict[str, int]:
        return {"emails": len(self.emails), "phones": len(self.phones),
                "my_numbers": len(self.my_numbers), "cards": len(self.cards)}


def normalize(text: str) -> str:
    """NFKC plus dash folding: the form every detector reads."""
    text = unicodedata.normalize("NFKC", text)
    for dash in _DASHES:
        if dash in text:
            text = text.replace(dash, "-")
    return text


SCAN_CHUNK = 1024 * 1024   # characters scanned between two looks at the deadline


def scan_text(text: str, deadline: Deadline | None = None) -> PersonalData:
    """Find the distinct personal-data items in ``text``; with a ``deadline``, in chunks
    cut at line ends (no item spans a line), stopping when it passes (``partial``)."""
    if deadline is None or len(text) <= SCAN_CHUNK:
        return _scan(text)
    found = PersonalData()
    pos = 0
    while pos < len(text):
        if deadline.expired():
            found.partial = True
            break
        end = pos + SCAN_CHUNK
        if end < len(text):
            cut = text.rfind("\n", pos, end)
            end = cut + 1 if cut > pos else end
        found.merge(_scan(text[pos:end]))
        pos = end
    return found


def _scan(text: str) -> PersonalData:
    found = PersonalData()
    if not text:
        return found
    text = normalize(text)
    if "@" in text:
        found.emails.update(m.group().lower() for m in _EMAIL.finditer(text))
    if not any(c in text for c in "0123456789"):
        return found
    for m in _PHONE.finditer(text):
        number = _phone(m.group())
        if number:
            found.phones.add(number)
    for m in _MY_NUMBER.finditer(text):
        digits = _only_digits(m.group())
        if is_my_number(digits):
            found.my_numbers.add(digits)
    for m in _CARD.finditer(text):
        digits = _only_digits(m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.cards.add(digits)
    return found


def _only_digits(s: str) -> str:
    return "".join(_DIGITS.findall(s))


def _phone(candidate: str) -> str | None:
    """The national form (digits, leading 0) of a phone candidate, or None."""
    groups = _DIGITS.findall(candidate)
    if candidate.startswith("+"):  # +81: drop the country code, restore the trunk 0
        groups[0] = groups[0][2:]
        if not groups[0]:
            groups = groups[1:]
        if len(groups) > 1 and groups[0] == "0":  # +81 (0)3 ...
            groups = ["0" + groups[1], *groups[2:]]
        elif groups and not groups[0].startswith("0"):
            groups[0] = "0" + groups[0]
    if not groups:
        return None
    national = "".join(groups)
    if len(national) < 10 or national[0] != "0" or national[1] == "0":
        return None
    expected = 11 if national[:3] in _ELEVEN_DIGIT_PREFIXES else 10
    if len(national) != expected:
        return None
    if len(groups) == 3:
        first, middle, last = (len(g) for g in groups)
        if not (2 <= first <= 5 and 1 <= middle <= 4 and 3 <= last <= 4):
            return None
    elif len(groups) == 2:
        first, last = len(groups[0]), len(groups[1])
        if not (2 <= first <= 5 or last == 4):
            return None
    return national


def is_my_number(digits: str) -> bool:
    """Twelve digits whose last is the check digit of the official algorithm."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = digits[:11]
    total = sum(int(d) * q for d, q in zip(reversed(body), _MY_NUMBER_WEIGHTS, strict=True))
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
