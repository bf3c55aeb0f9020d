"""User-facing texts of the protect step, in Japanese and English."""

from __future__ import annotations

from typing import Any

_TEXTS: dict[str, dict[str, str]] = {
    "no_attachments": {
        "en": "no attachments to encrypt",
        "ja": "暗号化する添付ファイルがありません",
    },
    "not_a_message": {
        "en": "not an e-mail message: {why}",
        "ja": "メールメッセージではありません: {why}",
    },
    "blocked": {
        "en": "attachment \"{name}\" has a blocked file type ({ext})",
        "ja": "添付ファイル「{name}」は送信が禁止されている種類です（{ext}）",
    },
    "too_large": {
        "en": "the encrypted message is {mb:.1f} MB ({size} bytes), over the limit of "
              "{limit_mb:.1f} MB",
        "ja": "暗号化後のメッセージが {mb:.1f} MB（{size} バイト）で、上限 {limit_mb:.1f} MB "
              "を超えています",
    },
}

_WHY: dict[str, dict[str, str]] = {
    "empty": {"en": "the input is empty", "ja": "入力が空です"},
    "no_headers": {"en": "it has no message headers", "ja": "メールヘッダーがありません"},
    "boundary": {"en": "its multipart boundary is missing",
                 "ja": "マルチパートの境界が見つかりません"},
    "not_bytes": {"en": "the input is not bytes", "ja": "入力がバイト列ではありません"},
}


def text(key: str, locale: str = "en", **params: Any) -> str:
    """The text ``key`` in ``locale`` ("ja" or "en"; anything else falls back to English)."""
    lang = "ja" if locale.lower().startswith("ja") else "en"
    if "why" in params:
        params["why"] = _WHY[params["why"]][lang]
    return _TEXTS[key][lang].format(**params)
