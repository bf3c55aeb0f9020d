"""User-facing text in Japanese and English: gettext catalogues and the current translator.

The texts live in ``service/locale/<lang>/LC_MESSAGES/sendguard.po`` (compiled to the
``.mo`` beside it, which the package ships). Message ids are symbolic (``finding.<code>``,
``addon.sent.text``); the English catalogue holds the source text. Placeholders are
``str.format`` fields; plurals are gettext plural entries (``ngettext``: English one/other,
Japanese a single form).

Code asks for text with ``_()`` / ``ngettext()`` and no locale: the translator of the
current context (a ``ContextVar``) answers. The web layer sets it once per request, the CLI
from ``LANG``/``LC_*``, the analysis worker from its task; the policy core only reads it,
so it needs no web framework. ``translator(locale)`` answers in a given language where one
text must be in a language other than the context's (notices in both languages).

A text that cannot be formatted (a placeholder the caller did not give) or a message id
missing from a catalogue raises ``TextError`` when ``SENDGUARD_STRICT_TEXTS`` is set (the
test suite sets it); in production the English text is used instead and the message id
(never the values) is logged.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar, Token
from functools import cache, cached_property, partial
from pathlib import Path
from typing import Any

SUPPORTED = ("ja", "en")
DEFAULT = "en"
DOMAIN = "sendguard"
LOCALE_DIR = Path(__file__).with_name("locale")
STRICT_ENV = "SENDGUARD_STRICT_TEXTS"


class TextError(LookupError):
    """A message id missing from a catalogue, or a text its parameters cannot fill."""


def negotiate(value: str | None) -> str:
    """Map a locale string (``ja_JP.UTF-8``, ``ja-JP``, ``en``, ``None``) to ``ja`` or ``en``."""
    if not value:
        return DEFAULT
    tag = value.split(".")[0].split("@")[0].replace("-", "_").strip()
    if not tag or tag in ("C", "POSIX"):
        return DEFAULT
    lang = tag.split("_")[0].lower()
    if lang in SUPPORTED:       # the usual tags: no need to load Babel (~12 ms at start-up)
        return lang
    from babel import Locale, UnknownLocaleError

    with suppress(ValueError, UnknownLocaleError):
        lang = Locale.parse(tag).language
    return lang if lang in SUPPORTED else DEFAULT


def locale_from_env(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return negotiate(env[name])
    return DEFAULT


def _strict() -> bool:
    return bool(os.environ.get(STRICT_ENV))


class Translator:
    """One language's catalogue; falls back to English (logged) for what it cannot render.

    Either may be given as a function that reads it: it is then read when a text is first
    needed (``sendguard protect --json`` prints none, and a Japanese command reads the
    English catalogue only to fall back; ~2 ms a catalogue at start-up, issue 12)."""

    def __init__(self, locale: str,
                 catalogue: gettext.GNUTranslations | Callable[[], gettext.GNUTranslations],
                 english: Translator | Callable[[], Translator] | None) -> None:
        self.locale = locale
        self._catalogue = catalogue
        self._english_from = english

    @cached_property
    def _compiled(self) -> tuple[dict[Any, str], Callable[[int], int]]:
        # The compiled messages, read directly: plain ids -> text, (id, form) -> text.
        catalogue = self._catalogue if isinstance(self._catalogue, gettext.GNUTranslations) \
            else self._catalogue()
        return catalogue._catalog, catalogue.plural  # type: ignore[attr-defined]

    @property
    def _messages(self) -> dict[Any, str]:
        return self._compiled[0]

    def _plural(self, n: int) -> int:
        return self._compiled[1](n)

    @cached_property
    def _english(self) -> Translator | None:
        english = self._english_from
        return english() if callable(english) else english

    def has(self, msgid: str) -> bool:
        return msgid in self._messages

    def gettext(self, msgid: str, /, **params: Any) -> str:
        text = self._messages.get(msgid)
        if text is None:
            return self._fallback(msgid, "missing", lambda en: en.gettext(msgid, **params))
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            return self._fallback(msgid, f"unformattable ({type(exc).__name__})",
                                  lambda en: en.gettext(msgid, **params))

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The form for ``n``; ``n`` fills ``{n}`` unless ``params`` name it otherwise."""
        params.setdefault("n", n)
        text = self._messages.get((singular, self._plural(n)))
        if text is None:
            return self._fallback(singular, "missing",
                                  lambda en: en.ngettext(singular, plural, n, **params))
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            return self._fallback(singular, f"unformattable ({type(exc).__name__})",
                                  lambda en: en.ngettext(singular, plural, n, **params))

    def _fallback(self, msgid: str, problem: str, english: Any) -> str:
        if _strict():
            raise TextError(f"text {msgid!r} ({self.locale}): {problem}")
        # The id and the problem only: the parameters may hold addresses or file names.
        # logging is imported here, where a text is broken: every command imports this
        # module, and logging with it cost each start ~5 ms (issue 12).
        import logging

        logging.getLogger(__name__).error(
            "text %s (%s): %s; using %s", msgid, self.locale, problem,
            "English" if self._english is not None else "the message id")
        if self._english is not None:
            return str(english(self._english))
        return msgid


def _load(locale: str) -> gettext.GNUTranslations:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as fh:
        return gettext.GNUTranslations(fh)


@cache
def translator(locale: str) -> Translator:
    """The translator for ``locale`` (``ja``/``en``; anything else is negotiated)."""
    locale = locale if locale in SUPPORTED else negotiate(locale)
    english = None if locale == DEFAULT else partial(translator, DEFAULT)
    return Translator(locale, partial(_load, locale), english)


_current: ContextVar[Translator | None] = ContextVar("sendguard_translator", default=None)


def current() -> Translator:
    return _current.get() or translator(DEFAULT)


def current_locale() -> str:
    return current().locale


def activate(locale: str) -> Token[Translator | None]:
    """Make ``locale`` the language of this context; ``deactivate(token)`` undoes it."""
    return _current.set(translator(locale))


def deactivate(token: Token[Translator | None]) -> None:
    _current.reset(token)


@contextmanager
def using(locale: str) -> Iterator[Translator]:
    """``with using("ja"): ...``: texts inside the block in ``locale``."""
    token = activate(locale)
    try:
        yield current()
    finally:
        deactivate(token)


def _(msgid: str, /, **params: Any) -> str:
    """The text ``msgid`` in the current language, formatted with ``params``."""
    return current().gettext(msgid, **params)


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The plural entry ``singular``/``plural`` for the count ``n`` in the current language."""
    return current().ngettext(singular, plural, n, **params)


def N_(msgid: str) -> str:
    """Marks an id for extraction where the text is looked up later (``_(name)``)."""
    return msgid


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Marks a plural entry for extraction, looked up later with ``ngettext(*pair, n)``."""
    return singular, plural


def has(msgid: str) -> bool:
    return current().has(msgid)


def join_list(items: list[str], limit: int = 5) -> str:
    """Join names for a sentence, shortening long lists ("a, b, c and 12 more")."""
    sep = "、" if current_locale() == "ja" else ", "
    shown = sep.join(items[:limit])
    rest = len(items) - limit
    if rest > 0:
        shown += _("list.more", n=rest)
    return shown
