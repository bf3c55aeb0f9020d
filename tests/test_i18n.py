"""The gettext catalogues: complete in both languages, placeholders that agree, compiled
files that match their sources, every id the code names present; the translator's
plurals, its fallback, and one language per request."""

from __future__ import annotations

import gettext
import io
import logging
import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from service import i18n
from service.i18n import (
    LOCALE_DIR,
    STRICT_ENV,
    TextError,
    Translator,
    _,
    current_locale,
    negotiate,
    ngettext,
    translator,
    using,
)

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("en", "ja")
# The keywords of `make i18n-extract` (Makefile: I18N_KEYWORDS).
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "N_plural": (1, 2),
            "Text": None, "InvalidValue": None}


def _po(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "sendguard.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _messages(cat: Catalog) -> dict[str, Message]:
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in cat if m.id}


def _forms(m: Message) -> list[str]:
    forms = m.string if isinstance(m.string, tuple | list) else [m.string]
    return [form or "" for form in forms]


def _fields(text: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None}


CATALOGUES = {lang: _messages(_po(lang)) for lang in LANGS}


def test_both_catalogues_hold_the_same_messages() -> None:
    en, ja = CATALOGUES["en"], CATALOGUES["ja"]
    assert set(en) == set(ja)
    assert len(en) > 400
    for key, m in en.items():
        assert m.id == ja[key].id, key                # plural entries in both, same ids


@pytest.mark.parametrize("lang", LANGS)
def test_no_fuzzy_empty_or_obsolete_entries(lang: str) -> None:
    cat = _po(lang)
    assert not cat.obsolete
    for m in cat:
        if not m.id:
            continue
        assert not m.fuzzy, m.id
        assert all(form.strip() for form in _forms(m)), m.id


def test_plural_forms_per_language() -> None:
    """English one/other; Japanese one form (nplurals=1)."""
    assert _po("en").num_plurals == 2 and _po("ja").num_plurals == 1
    for lang, count in (("en", 2), ("ja", 1)):
        for m in CATALOGUES[lang].values():
            if m.pluralizable:
                assert len(_forms(m)) == count, (lang, m.id)


def test_placeholders_agree_across_languages_and_forms() -> None:
    """Every form of every message fills exactly the fields of the English text: a
    missing or misspelt placeholder in a translation fails here, not in front of a user."""
    for key, en in CATALOGUES["en"].items():
        expected = _fields(_forms(en)[-1])
        for lang in LANGS:
            for form in _forms(CATALOGUES[lang][key]):
                assert _fields(form) == expected, (lang, key, form)


@pytest.mark.parametrize("text,ok", [
    ("{n} files", True), ("{n}件", True), ("{mb:.1f} MB", True),
    ("{n files", False), ("n} files", False),
], ids=["plain", "japanese", "format spec", "unclosed", "stray brace"])
def test_placeholder_parser_refuses_broken_braces(text: str, ok: bool) -> None:
    """The check above parses each text; a broken brace is an error, not a silent pass."""
    if ok:
        assert _fields(text)
    else:
        with pytest.raises(ValueError):
            _fields(text)


@pytest.mark.parametrize("lang", LANGS)
def test_shipped_mo_matches_its_po(lang: str) -> None:
    """The committed .mo is what `make i18n-compile` makes of the .po today."""
    buf = io.BytesIO()
    write_mo(buf, _po(lang))
    buf.seek(0)
    fresh = gettext.GNUTranslations(buf)
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "sendguard.mo").open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    assert shipped._catalog == fresh._catalog, "run `make i18n-compile`"  # type: ignore[attr-defined]


def _extracted() -> list[tuple[str, int, str | tuple[str, ...]]]:
    found = []
    for path, method in (("service", "python"), ("service", "jinja2")):
        pattern = "**.py" if method == "python" else "**/templates/**.html"
        for fn, line, msg, _c, _ctx in extract_from_dir(
                ROOT / path, method_map=[(pattern, method)], keywords=KEYWORDS):
            if msg and (isinstance(msg, str) or msg[0]):
                found.append((fn, line, msg))
    return found


def test_every_id_the_code_names_is_in_the_catalogues() -> None:
    """``pybabel extract`` over the code and templates finds only ids the catalogues
    hold, as plain or plural entries as the call expects."""
    en = CATALOGUES["en"]
    found = _extracted()
    assert len(found) > 300
    problems = []
    for fn, line, msg in found:
        if isinstance(msg, str):
            if msg not in en or en[msg].pluralizable:
                problems.append(f"{fn}:{line}: {msg}")
        elif msg[0] not in en or tuple(en[msg[0]].id) != tuple(msg[:2]):
            problems.append(f"{fn}:{line}: {msg}")
    assert not problems


# ------------------------------------------------------------------------- translator

@pytest.mark.parametrize("value,expected", [
    ("ja_JP.UTF-8", "ja"), ("ja-JP", "ja"), ("ja", "ja"), ("en_US.UTF-8", "en"),
    ("fr_FR", "en"), ("C", "en"), ("", "en"), (None, "en"), ("zz_ZZ", "en"), ("JA", "ja"),
    ("jpn", "ja"), ("eng_GB", "en"),                    # ISO 639-2 codes: through Babel
], ids=lambda v: repr(v))
def test_negotiate(value: str | None, expected: str) -> None:
    assert negotiate(value) == expected


@pytest.mark.parametrize(("lang", "n", "expected"), [
    ("en", 0, "Your message was sent to 0 recipients."),
    ("en", 1, "Your message was sent to 1 recipient."),
    ("en", 2, "Your message was sent to 2 recipients."),
    ("ja", 1, "1件の宛先にメールを送信しました。"),
    ("ja", 2, "2件の宛先にメールを送信しました。"),
], ids=["en-0", "en-1", "en-2", "ja-1", "ja-2"])
def test_ngettext_forms(lang: str, n: int, expected: str) -> None:
    with using(lang):
        assert ngettext("addon.sent.text.one", "addon.sent.text", n) == expected


@pytest.mark.parametrize(("n", "d", "expected"), [
    (1, 1, "1 external recipient in 1 domain: b.jp."),
    (3, 1, "3 external recipients in 1 domain: b.jp."),
    (3, 2, "3 external recipients in 2 domains: b.jp."),
], ids=["1-1", "3-1", "3-2"])
def test_a_sentence_with_two_counts_reads_naturally(n: int, d: int, expected: str) -> None:
    from service.policy.catalogue import finding_text

    with using("en"):
        assert finding_text("external_recipients", {"n": n, "d": d, "domains": "b.jp"}) \
            == expected
    with using("ja"):
        assert finding_text("external_recipients", {"n": n, "d": d, "domains": "b.jp"}) \
            == f"社外の宛先が{n}件（{d}ドメイン）あります: b.jp。"


def test_the_context_language_and_its_reset() -> None:
    assert current_locale() == "en"
    with using("ja"):
        assert _("addon.button.send") == "送信"
        with using("en"):
            assert _("addon.button.send") == "Send"
        assert current_locale() == "ja"
    assert _("addon.button.send") == "Send"


def _broken_japanese() -> Translator:
    """A real compiled catalogue whose Japanese text names a field the caller never gives."""
    cat = Catalog(locale="ja", domain="sendguard")
    cat.add("addon.sent.close", "閉じて {oops} ください")
    buf = io.BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    return Translator("ja", gettext.GNUTranslations(buf), translator("en"))


@pytest.mark.parametrize(("msgid", "params", "problem"), [
    ("addon.sent.close", {}, "unformattable (KeyError)"),
    ("no.such.id", {}, "missing"),
], ids=["missing field", "missing id"])
def test_strict_mode_raises(msgid: str, params: dict[str, str], problem: str) -> None:
    with pytest.raises(TextError, match=re.escape(problem)):
        _broken_japanese().gettext(msgid, **params)


def test_production_falls_back_to_english_and_logs_only_the_id(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(STRICT_ENV)
    with caplog.at_level(logging.ERROR, logger="service.i18n"):
        text = _broken_japanese().gettext("addon.sent.close", secret="taro@example.jp")
    assert text == translator("en").gettext("addon.sent.close")
    assert "addon.sent.close" in caplog.text and "taro@example.jp" not in caplog.text
    with caplog.at_level(logging.ERROR, logger="service.i18n"):
        assert translator("en").gettext("no.such.id", name="x@y.jp") == "no.such.id"
    assert "x@y.jp" not in caplog.text


@pytest.mark.parametrize(("locale", "use", "read"), [
    ("en", None, []),                                     # protect --json: no text at all
    ("ja", "cli.protect_password", ["ja"]),               # a Japanese text: ja alone
    ("ja", "no.such.id", ["ja", "en"]),                   # English only to fall back
    ("en", "cli.protect_password", ["en"]),
], ids=["no-text", "ja-text", "ja-fallback", "en-text"])
def test_catalogues_are_read_when_a_text_is_first_needed(
        monkeypatch: pytest.MonkeyPatch, locale: str, use: str | None, read: list[str]) -> None:
    """A command that prints nothing reads no catalogue, a Japanese one no English
    catalogue unless it falls back (start-up, issue 12); texts are the same either way."""
    monkeypatch.delenv(STRICT_ENV, raising=False)
    loaded: list[str] = []
    real = i18n._load

    def load(name: str) -> gettext.GNUTranslations:
        loaded.append(name)
        return real(name)

    monkeypatch.setattr(i18n, "_load", load)
    translator.cache_clear()
    try:
        with using(locale):
            assert loaded == []
            if use is not None:
                assert _(use, password="pw") != use or use == "no.such.id"
        assert loaded == read
    finally:
        translator.cache_clear()


def test_one_language_per_request_and_none_left_behind() -> None:
    """The request's translator: set once per request, reset when it ends (a thread that
    serves the next request starts in English again)."""
    from service import request_locale

    app = Flask("t")
    request_locale.init_app(app)

    @app.get("/<lang>")
    def page(lang: str) -> str:
        if lang != "default":
            request_locale.use_locale(lang)
        return _("addon.button.send") + "|" + app.jinja_env.from_string(
            '{{ _("addon.button.recheck") }}|'
            '{{ ngettext("addon.sent.text.one", "addon.sent.text", 2) }}').render()

    client = app.test_client()
    assert client.get("/ja").text == "送信|もう一度確認|2件の宛先にメールを送信しました。"
    assert client.get("/default").text == \
        "Send|Check again|Your message was sent to 2 recipients."
    assert current_locale() == "en"
    assert i18n._current.get() is None


def test_policy_core_does_not_import_flask() -> None:
    import subprocess
    import sys

    code = ("import sys, service.policy.rules, service.policy.catalogue; "
            "print('flask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_no_module_rebinds_the_gettext_underscore() -> None:
    """``_`` is the translation function wherever ``service.i18n._`` is imported: a loop or
    unpacking that binds ``_`` there turns a later ``_("id")`` into a call of that value
    (a crash the type checker cannot see, on an error path the user meets)."""
    import ast

    found = []
    for path in sorted((ROOT / "service").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(isinstance(node, ast.ImportFrom) and node.module == "service.i18n"
                   and any(a.name == "_" for a in node.names) for node in ast.walk(tree)):
            continue
        found += [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
                  if (isinstance(node, ast.Name) and node.id == "_"
                      and isinstance(node.ctx, ast.Store))
                  or (isinstance(node, ast.arg) and node.arg == "_")]
    assert not found


def test_every_catalogue_message_is_named_in_the_code() -> None:
    """The other way round: no message the code never asks for, so `make i18n-update`
    (which drops what extraction does not find) keeps every text the service shows."""
    named = {msg if isinstance(msg, str) else msg[0] for _f, _l, msg in _extracted()}
    assert set(CATALOGUES["en"]) - named == set()
