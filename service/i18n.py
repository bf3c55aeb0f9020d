"""User-facing text in Japanese and English, chosen by the user's locale.

Catalogs are plain dicts keyed by message id with ``str.format`` fields, so every text
exists in both languages (a test checks the keys match) and the pure policy core can
render messages without a web framework.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from babel import Locale, UnknownLocaleError

SUPPORTED = ("ja", "en")
DEFAULT = "en"


def negotiate(value: str | None) -> str:
    """Map a locale string (``ja_JP.UTF-8``, ``ja-JP``, ``en``, ``None``) to ``ja`` or ``en``."""
    if not value:
        return DEFAULT
    tag = value.split(".")[0].split("@")[0].replace("-", "_").strip()
    if not tag or tag in ("C", "POSIX"):
        return DEFAULT
    try:
        lang = Locale.parse(tag).language
    except (ValueError, UnknownLocaleError):
        lang = tag.split("_")[0].lower()
    return lang if lang in SUPPORTED else DEFAULT


def locale_from_env(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return negotiate(env[name])
    return DEFAULT


# Modules holding ``EN`` and ``JA`` dicts; merged on first use. Each area keeps its own.
CATALOG_MODULES = ("service.messages", "service.addon.texts", "service.delivery.texts")
_catalogs: dict[str, dict[str, str]] = {}


def catalogs() -> dict[str, dict[str, str]]:
    if not _catalogs:
        import importlib

        merged: dict[str, dict[str, str]] = {"en": {}, "ja": {}}
        for name in CATALOG_MODULES:
            try:
                mod = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            merged["en"].update(mod.EN)
            merged["ja"].update(mod.JA)
        _catalogs.update(merged)
    return _catalogs


def t(key: str, locale: str = DEFAULT, /, **params: Any) -> str:
    """The text ``key`` in ``locale``, formatted with ``params``."""
    cats = catalogs()
    template = (cats.get(locale) or cats[DEFAULT]).get(key)
    if template is None:
        template = cats[DEFAULT].get(key, key)
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def join_list(items: list[str], locale: str, limit: int = 5) -> str:
    """Join names for a sentence, shortening long lists ("a, b, c and 12 more")."""
    sep = "、" if locale == "ja" else ", "
    shown = sep.join(items[:limit])
    rest = len(items) - limit
    if rest > 0:
        shown += t("list.more", locale, n=rest)
    return shown
