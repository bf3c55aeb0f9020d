"""Personal-data detectors: every kind fires on the forms people really type, and the
close look-alikes (dates, postal codes, amounts, bad check digits, order numbers) do not."""

from __future__ import annotations

import random
import time

import pytest

from service.policy.personal_data import (
    PersonalData,
    is_my_number,
    luhn_ok,
    normalize,
    scan_text,
)

# Valid by the official algorithm (check digit 8): the number used in My Number guides.
MY_NUMBER = "123456789018"


def my_number_with_check(body: str) -> str:
    """An independent check-digit computation, written from the published formula."""
    weights = [n + 1 if n <= 6 else n - 5 for n in range(1, 12)]  # Q_n, n = 1..11
    digits = [int(d) for d in reversed(body)]                      # P_n from the right
    remainder = sum(p * q for p, q in zip(digits, weights, strict=True)) % 11
    return body + str(0 if remainder <= 1 else 11 - remainder)


def luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_ok(prefix + check):
            return prefix + check
    raise AssertionError("unreachable")


CARD_19 = luhn_complete("621234567890123456")
ORDER_LUHN_OK = luhn_complete("123456781234567")   # passes Luhn, but no card issuer starts with 1

# (id, text, kind, expected normalised values)
FIRES = [
    ("email", "連絡先: taro.yamada@example.co.jp", "emails", {"taro.yamada@example.co.jp"}),
    ("email-upper-case", "TARO@Example.CO.JP", "emails", {"taro@example.co.jp"}),
    ("email-full-width", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "emails", {"taro@example.jp"}),
    ("email-in-japanese", "メールはhanako+list@mail.example.comまで", "emails",
     {"hanako+list@mail.example.com"}),
    ("email-sentence-end", "宛先 a_b-c@sub.example.org.", "emails", {"a_b-c@sub.example.org"}),
    ("phone-tokyo", "TEL 03-1234-5678", "phones", {"0312345678"}),
    ("phone-osaka", "06-6123-4567", "phones", {"0661234567"}),
    ("phone-sapporo-3-3-4", "011-234-5678", "phones", {"0112345678"}),
    ("phone-4-2-4", "0476-12-3456", "phones", {"0476123456"}),
    ("phone-5-1-4", "01267-2-3456", "phones", {"0126723456"}),
    ("phone-free-dial", "0120-123-456", "phones", {"0120123456"}),
    ("phone-0800", "0800-123-4567", "phones", {"08001234567"}),
    ("phone-navi-dial", "0570-064-000", "phones", {"0570064000"}),
    ("phone-area-parens", "(03)1234-5678", "phones", {"0312345678"}),
    ("phone-full-width-parens", "（０３）１２３４－５６７８", "phones", {"0312345678"}),
    ("phone-exchange-parens", "03(1234)5678", "phones", {"0312345678"}),
    ("phone-intl", "+81-3-1234-5678", "phones", {"0312345678"}),
    ("phone-intl-spaces", "+81 90 1234 5678", "phones", {"09012345678"}),
    ("phone-intl-trunk-zero", "+81(0)3-1234-5678", "phones", {"0312345678"}),
    ("phone-intl-compact", "+819012345678", "phones", {"09012345678"}),
    ("mobile-090", "090-1234-5678", "phones", {"09012345678"}),
    ("mobile-080", "080-9876-5432", "phones", {"08098765432"}),
    ("mobile-070", "070-1111-2222", "phones", {"07011112222"}),
    ("ip-phone-050", "050-3123-4567", "phones", {"05031234567"}),
    ("mobile-no-hyphens", "携帯09012345678", "phones", {"09012345678"}),
    ("fixed-no-hyphens", "0312345678", "phones", {"0312345678"}),
    ("phone-spaces", "03 1234 5678", "phones", {"0312345678"}),
    ("phone-dots", "03.1234.5678", "phones", {"0312345678"}),
    ("full-width-digits-and-hyphen", "０９０－１２３４－５６７８", "phones", {"09012345678"}),
    ("katakana-long-mark", "０３ー１２３４ー５６７８", "phones", {"0312345678"}),
    ("half-width-long-mark", "03ｰ1234ｰ5678", "phones", {"0312345678"}),
    ("hyphen-u2010", "03‐1234‐5678", "phones", {"0312345678"}),
    ("minus-sign-u2212", "03−1234−5678", "phones", {"0312345678"}),
    ("non-breaking-hyphen", "03‑1234‑5678", "phones", {"0312345678"}),
    ("en-dash", "03–1234–5678", "phones", {"0312345678"}),
    ("my-number", f"個人番号 {MY_NUMBER}", "my_numbers", {MY_NUMBER}),
    ("my-number-4-4-4-spaces", "1234 5678 9018", "my_numbers", {MY_NUMBER}),
    ("my-number-4-4-4-hyphens", "1234-5678-9018", "my_numbers", {MY_NUMBER}),
    ("my-number-full-width", "１２３４５６７８９０１８", "my_numbers", {MY_NUMBER}),
    ("my-number-check-digit-0", my_number_with_check("00000000006"), "my_numbers",
     {my_number_with_check("00000000006")}),
    ("visa", "4111111111111111", "cards", {"4111111111111111"}),
    ("visa-spaces", "カード 4111 1111 1111 1111", "cards", {"4111111111111111"}),
    ("visa-hyphens", "4111-1111-1111-1111", "cards", {"4111111111111111"}),
    ("mastercard", "5555 5555 5555 4444", "cards", {"5555555555554444"}),
    ("amex-4-6-5", "3782 822463 10005", "cards", {"378282246310005"}),
    ("jcb", "3530-1113-3330-0000", "cards", {"3530111333300000"}),
    ("diners-14", "30569309025904", "cards", {"30569309025904"}),
    ("card-19-digits", CARD_19, "cards", {CARD_19}),
    ("card-full-width", "４１１１－１１１１－１１１１－１１１１", "cards", {"4111111111111111"}),
]

# (id, text): nothing at all may be found
QUIET = [
    ("date-iso", "2024-01-15"),
    ("date-slash", "2024/01/15 10:30"),
    ("date-dots", "2024.01.15"),
    ("date-japanese", "令和6年1月15日"),
    ("postal-code", "〒100-0001 東京都千代田区千代田1-1"),
    ("postal-code-starting-0", "〒060-0001 札幌市"),
    ("amount-yen", "1,234,567円"),
    ("amount-large", "12,345,678,901,234円"),
    ("short-number", "03-1234-567"),
    ("mobile-too-short", "090-1234-567"),
    ("mobile-too-long", "090-1234-56789"),
    ("fixed-11-digits", "03123456789"),
    ("leading-00", "003-1234-5678"),
    ("no-leading-zero", "3-1234-5678"),
    ("phone-inside-longer-hyphenated", "12-03-1234-5678"),
    ("phone-followed-by-group", "03-1234-5678-9"),
    ("phone-in-decimal", "0.0312345678"),
    ("phone-in-long-run", "1203123456789"),
    ("version-string", "0.12.3456.7890"),
    ("my-number-wrong-check", "123456789012"),
    ("my-number-wrong-check-spaced", "1234 5678 9012"),
    ("my-number-inside-13", "1234567890181"),
    ("my-number-inside-card-groups", "1234-5678-9018-1234"),
    ("luhn-failure", "4111111111111112"),
    ("luhn-failure-spaced", "4111 1111 1111 1112"),
    ("order-number-passes-luhn-bad-issuer", f"注文番号 {ORDER_LUHN_OK}"),
    ("twenty-digits", "41111111111111111111"),
    ("card-with-extra-group", "4111-1111-1111-1111-2222"),
    ("email-no-tld", "taro@localhost"),
    ("email-no-local", "@example.co.jp"),
    ("email-no-domain", "taro@"),
    ("email-spelled-out", "taro at example dot jp"),
    ("email-numeric-tld", "taro@192.168.0.1"),
    ("plain-japanese", "本日の会議は十時から第一会議室で行います。"),
    ("empty", ""),
]


@pytest.mark.parametrize(("text", "kind", "expected"), [c[1:] for c in FIRES],
                         ids=[c[0] for c in FIRES])
def test_detector_fires(text: str, kind: str, expected: set[str]) -> None:
    found = scan_text(text)
    assert getattr(found, kind) == expected
    assert found.total == len(expected), found  # nothing else counted for the same text


@pytest.mark.parametrize("text", [c[1] for c in QUIET], ids=[c[0] for c in QUIET])
def test_close_cases_do_not_fire(text: str) -> None:
    found = scan_text(text)
    assert found.total == 0, found


@pytest.mark.parametrize(("text", "summary"), [
    ("03-1234-5678 / 03 1234 5678 / (03)1234-5678 / +81-3-1234-5678 / ０３－１２３４－５６７８",
     {"emails": 0, "phones": 1, "my_numbers": 0, "cards": 0}),
    ("Taro@Example.jp, taro@example.jp, TARO@EXAMPLE.JP",
     {"emails": 1, "phones": 0, "my_numbers": 0, "cards": 0}),
    ("4111111111111111 4111-1111-1111-1111 4111 1111 1111 1111",
     {"emails": 0, "phones": 0, "my_numbers": 0, "cards": 1}),
    (f"{MY_NUMBER}\n1234 5678 9018\n1234-5678-9018",
     {"emails": 0, "phones": 0, "my_numbers": 1, "cards": 0}),
    ("山田,yamada@example.jp,090-1111-2222\n佐藤,sato@example.jp,090-3333-4444\n"
     "山田,yamada@example.jp,090-1111-2222",
     {"emails": 2, "phones": 2, "my_numbers": 0, "cards": 0}),
], ids=["same-phone-five-ways", "same-email-cases", "same-card-three-ways",
        "same-my-number-three-ways", "repeated-row"])
def test_counts_distinct_items(text: str, summary: dict[str, int]) -> None:
    found = scan_text(text)
    assert found.summary() == summary
    assert found.total == sum(summary.values())


def test_mixed_row_counts_every_kind_once() -> None:
    row = (f"山田太郎,taro@example.co.jp,03-1234-5678,090-1234-5678,{MY_NUMBER},"
           "4111 1111 1111 1111,2024-01-15,〒100-0001,1,234,567円\n")
    found = scan_text(row * 3)
    assert found.summary() == {"emails": 1, "phones": 2, "my_numbers": 1, "cards": 1}


def test_merge_unions_and_summary() -> None:
    a = scan_text("a@example.jp 03-1234-5678")
    b = scan_text("A@example.jp b@example.jp 4111111111111111")
    a.merge(b)
    assert a.emails == {"a@example.jp", "b@example.jp"}
    assert a.summary() == {"emails": 2, "phones": 1, "my_numbers": 0, "cards": 1}
    assert a.total == 4
    assert PersonalData().total == 0


@pytest.mark.parametrize("body", ["12345678901", "98765432109", "00000000001", "11111111111",
                                  "31415926535", "00000000006"],
                         ids=["guide-example", "descending", "small", "ones", "pi", "check-0"])
def test_my_number_check_digit_matches_the_formula(body: str) -> None:
    """The right check digit passes and each of the nine wrong ones fails."""
    number = my_number_with_check(body)
    assert is_my_number(number)
    for wrong in "0123456789":
        if wrong != number[-1]:
            assert not is_my_number(number[:-1] + wrong)


@pytest.mark.parametrize("value", ["12345678901", "1234567890189", "12345678901a", ""],
                         ids=["11-digits", "13-digits", "letter", "empty"])
def test_my_number_rejects_wrong_shapes(value: str) -> None:
    assert not is_my_number(value)


def test_normalize_folds_width_and_dashes() -> None:
    assert normalize("０３ー１２３４－５６７８　ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == \
        "03-1234-5678 taro@example.jp"


def test_threshold_sized_staff_list() -> None:
    rows = "".join(f"社員{i},staff{i}@example.co.jp,090-1234-{5600 + i:04d}\n" for i in range(30))
    found = scan_text("氏名,メール,電話\n" + rows)
    assert found.summary() == {"emails": 30, "phones": 30, "my_numbers": 0, "cards": 0}


@pytest.mark.parametrize("text", [
    "1" * 1_000_000,
    "a." * 500_000,
    ("x" * 60 + "@") * 16_000,
    "1 " * 500_000,
    "0-" * 500_000,
    "+81" * 300_000,
    "(0" * 500_000,
], ids=["digit-run", "dotted-run", "at-signs", "spaced-digits", "zero-dash", "plus81", "parens"])
def test_adversarial_megabyte_stays_linear(text: str) -> None:
    """Catastrophic backtracking would take seconds here; the scan takes about 0.1 s."""
    started = time.process_time()     # CPU, so a loaded machine does not fail it
    scan_text(text)
    assert time.process_time() - started < 3.0


def test_random_noise_does_not_crash() -> None:
    rng = random.Random(7)
    text = "".join(rng.choice("0123456789 -.()+@a－ー０") for _ in range(200_000))
    found = scan_text(text)
    assert found.total == len(found.emails) + len(found.phones) + len(found.my_numbers) + \
        len(found.cards)
