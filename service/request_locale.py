"""The request's language: one translator per request for every text the request shows.

Each request starts in English; the add-on's routes switch to the event's ``userLocale``
(or the policy's ``default_language``) once the event is parsed, the key page to its
language switch or ``Accept-Language``. Templates use the same translator (the Jinja
i18n extension). Card builders and the policy core then call
``_()``/``ngettext()`` without a locale (``service.i18n`` reads the current translator
from a ``ContextVar``). The value is reset when the request ends, so a worker thread that
serves the next request never inherits the last one's language.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Flask, g

from service import i18n

_SLOT = "i18n_reset"      # the attribute of ``g`` holding the ContextVar token


def use_locale(locale: str) -> None:
    """Texts from here to the end of this request in ``locale`` (``ja``/``en``)."""
    i18n.activate(locale)


def _start() -> None:
    setattr(g, _SLOT, i18n.activate(i18n.DEFAULT))


def _end(_exc: BaseException | None) -> None:
    token = g.pop(_SLOT, None)
    if token is not None:
        # ValueError: set in another context (a streamed response): nothing to undo here
        with suppress(ValueError):
            i18n.deactivate(token)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.teardown_request(_end)
    # Templates take their words from the same catalogues: ``{{ _("id", name=value) }}``
    # and ``{{ ngettext(one, other, n, ...) }}`` (str.format fields, like the code's).
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n._, i18n.ngettext, newstyle=False)
