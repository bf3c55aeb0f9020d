"""Declared charsets and RFC 2047 encoded words, decoded without trusting either.

One home for both so the header parser (addresses) and the MIME walk (message) decode
the same way: a declared charset that is a Python codec but not a charset (``idna``,
``punycode``…) raises on ordinary text, so it is treated as unknown and detected.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re

WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t]+(?==\?)")
_NOT_CHARSETS = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape",
                           "undefined", "utf-7", "mbcs", "oem"})


def charset_decode(data: bytes, charset: str, *, strict: bool = False) -> str:
    """``data`` in a declared charset; with ``strict`` a bad charset or byte raises
    (LookupError/UnicodeError), otherwise the text is detected instead."""
    from service.policy.extract import decode_text

    try:
        info = codecs.lookup(charset)
    except LookupError:
        if strict:
            raise
        return decode_text(data)
    if info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        if strict:
            raise LookupError(charset)
        return decode_text(data)
    try:
        return data.decode(info.name, "strict" if strict else "replace")
    except UnicodeError:  # bad bytes, or a codec that refuses the error handler
        if strict:
            raise
        return decode_text(data)


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded in place, nothing added between them and the text
    around them (a client may encode part of an address); an undecodable word is kept."""
    if "=?" not in value:
        return value
    return WORD.sub(_decode_word, _BETWEEN_WORDS.sub(r"\1", value))


def _decode_word(m: re.Match[str]) -> str:
    charset, enc, text = m.group(1).split("*")[0], m.group(2).lower(), m.group(3)
    try:
        if enc == "b":
            data = base64.b64decode(text + "=" * (-len(text) % 4))
        else:
            data = quopri.decodestring(text.replace("_", " ").encode("ascii"), header=True)
        return charset_decode(data, charset, strict=True)
    except (LookupError, ValueError, UnicodeError, binascii.Error):
        return m.group(0)
