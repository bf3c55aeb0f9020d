"""Every user-facing text exists in Japanese and English with the same fields."""

from __future__ import annotations

import string

import pytest

from service.i18n import catalogs, negotiate, t


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


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
