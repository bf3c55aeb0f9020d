"""User-facing text in Japanese and English, chosen by the user's locale.

Catalogs are plain dicts keyed by message id with ``str.format`` fields, so every text
exists in both languages (a test checks the keys match) and the pure policy core can
render messages without a web framework.
"""

from __future__ import annotations

import os
import re
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


_catalogs: dict[str, dict[str, str]] = {}


def catalogs() -> dict[str, dict[str, str]]:
    """Each area keeps its own ``EN``/``JA`` dicts; merged once, on first use."""
    if not _catalogs:
        from service import history_texts, messages
        from service.addon import texts as addon_texts
        from service.delivery import texts as delivery_texts

        for mod in (messages, addon_texts, delivery_texts, history_texts):
            _catalogs.setdefault("en", {}).update(mod.EN)
            _catalogs.setdefault("ja", {}).update(mod.JA)
    return _catalogs


_CHOICE = re.compile(r"\{(\w+)\|([^|{}]*)\|([^|{}]*)\}")


def choose_forms(template: str, params: Mapping[str, Any]) -> str:
    """Resolve ``{n|file|files}`` to the singular when ``n`` is 1, else the plural.

    English needs two forms for any count in a sentence (and a sentence may hold two
    counts: "1 recipient in 2 domains"); Japanese needs none and writes no choices.
    """
    if "|" not in template:
        return template

    def pick(m: re.Match[str]) -> str:
        return m.group(2) if params.get(m.group(1)) == 1 else m.group(3)

    return _CHOICE.sub(pick, template)


def t(key: str, locale: str = DEFAULT, /, **params: Any) -> str:
    """The text ``key`` in ``locale``, formatted with ``params``."""
    cats = catalogs()
    template = (cats.get(locale) or cats[DEFAULT]).get(key)
    if template is None:
        template = cats[DEFAULT].get(key, key)
    template = choose_forms(template, params)
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


def tn(key: str, locale: str, n: int, /, **params: Any) -> str:
    """``t`` with a count, ngettext-style: ``key.one`` when ``n`` is 1 and the catalog
    has that form ("1 file"), else ``key`` ("3 files"; Japanese has one form, "1件")."""
    cats = catalogs()
    if n == 1 and key + ".one" in (cats.get(locale) or cats[DEFAULT]):
        key += ".one"
    return t(key, locale, n=n, **params)
