"""Every user-facing text exists in Japanese and English with the same fields."""

from __future__ import annotations

import string

import pytest

from service.i18n import _CHOICE, catalogs, negotiate, t


def _fields(template: str) -> set[str]:
    """Fields a translation must fill; ``{n|one|other}`` choices are English grammar."""
    plain = _CHOICE.sub("", template)
    return {f for _, f, _, _ in string.Formatter().parse(plain) if f}


def test_catalogs_have_same_keys_and_fields() -> None:
    cats = catalogs()
    assert set(cats["en"]) == set(cats["ja"])
    for key, en in cats["en"].items():
        assert _fields(en) == _fields(cats["ja"][key]), key


@pytest.mark.parametrize("value,expected", [
    ("ja_JP.UTF-8", "ja"), ("ja-JP", "ja"), ("ja", "ja"), ("en_US.UTF-8", "en"),
    ("fr_FR", "en"), ("C", "en"), ("", "en"), (None, "en"), ("zz_ZZ", "en"), ("JA", "ja"),
], ids=lambda v: repr(v))
def test_negotiate(value: str | None, expected: str) -> None:
    assert negotiate(value) == expected


def test_missing_key_and_bad_params_do_not_raise() -> None:
    assert t("no.such.key", "ja") == "no.such.key"
    assert t("finding.invalid_address", "en")  # params missing: template returned as is


@pytest.mark.parametrize(("template", "params", "expected"), [
    ("{n} {n|file|files}", {"n": 1}, "1 file"),
    ("{n} {n|file|files}", {"n": 0}, "0 files"),
    ("{n} {n|file|files}", {"n": 2}, "2 files"),
    ("{n} {n|recipient|recipients} in {d} {d|domain|domains}", {"n": 1, "d": 2},
     "1 recipient in 2 domains"),
    ("{n}件", {"n": 1}, "1件"),
    ("no choice {n}", {"n": 1}, "no choice 1"),
], ids=["one", "zero", "many", "two-counts", "japanese", "plain"])
def test_choose_forms(template: str, params: dict[str, int], expected: str) -> None:
    from service.i18n import choose_forms

    assert choose_forms(template, params).format(**params) == expected


@pytest.mark.parametrize(("n", "expected"), [(1, "1 external recipient in 1 domain"),
                                             (3, "3 external recipients in 1 domain")])
def test_finding_text_reads_naturally(n: int, expected: str) -> None:
    from service.i18n import t

    text = t("finding.external_recipients", "en", n=n, d=1, domains="b.jp")
    assert text.startswith(expected)
    assert "(s)" not in text
