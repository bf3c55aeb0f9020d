"""What to tell the user about a draft match or a Gmail failure, in Japanese or English."""

from __future__ import annotations

from service.errors import ConflictError, GmailClientError, GmailTransientError, SendGuardError
from service.gmail.drafts import Ambiguous, DraftMatch, Found, NotSaved, NotSavedReason
from service.gmail.retry import NOT_CONFIRMED

_TEXT: dict[str, dict[str, str]] = {
    "found": {
        "ja": "作成中の下書きを確認しました。",
        "en": "Found the draft you are writing.",
    },
    "ambiguous": {
        "ja": "同じ宛先と件名の下書きが複数あります。確認する下書きを選んでください。",
        "en": "Several drafts have these recipients and subject. Choose the one to check.",
    },
    "missing": {
        "ja": "この下書きはまだ Gmail に保存されていません。数秒待って保存されてから、"
              "もう一度お試しください。",
        "en": "Gmail has not saved this draft yet. Wait a few seconds for Gmail to save it, "
              "then try again.",
    },
    "outdated": {
        "ja": "画面の変更がまだ Gmail に保存されていません。数秒待ってから、"
              "もう一度お試しください。",
        "en": "Gmail has not saved your latest changes yet. Wait a few seconds, then try again.",
    },
    "busy": {
        "ja": "Gmail が混み合っているか、接続できません。少し待ってからもう一度お試しください。",
        "en": "Gmail is busy or unreachable. Wait a moment, then try again.",
    },
    "unconfirmed": {
        "ja": "送信できたかどうか Gmail から確認できませんでした。再送する前に「送信済み」を"
              "確認してください。",
        "en": "Gmail did not confirm whether the message was sent. Check Sent before sending "
              "again.",
    },
    "vanished": {
        "ja": "下書きが Gmail から消えており、送信済みのメールも見つかりません。削除されたか、"
              "別の画面から送信された可能性があります。",
        "en": "The draft is no longer in Gmail and no sent copy was found. It may have been "
              "deleted or sent from another window.",
    },
    "401": {
        "ja": "Gmail へのログインが受け付けられませんでした。アドオンを開き直してください。",
        "en": "Gmail did not accept the sign-in. Reopen the add-on and try again.",
    },
    "403": {
        "ja": "このメールボックスへのアクセスが Gmail に拒否されました。",
        "en": "Gmail refused access to this mailbox.",
    },
    "404": {
        "ja": "下書きまたはメールが Gmail に見つかりません。",
        "en": "The draft or message no longer exists in Gmail.",
    },
    "413": {
        "ja": "メールが Gmail の上限 (35 MB) を超えています。",
        "en": "The message is larger than Gmail's 35 MB limit.",
    },
    "400": {
        "ja": "Gmail がこの操作を受け付けませんでした。",
        "en": "Gmail refused the request.",
    },
}


def _lang(locale: str) -> str:
    return "ja" if locale.lower().startswith("ja") else "en"


def text(key: str, locale: str) -> str:
    return _TEXT[key][_lang(locale)]


def match_text(match: DraftMatch, locale: str) -> str:
    match match:
        case Found():
            return text("found", locale)
        case Ambiguous():
            return text("ambiguous", locale)
        case NotSaved(reason=NotSavedReason.OUTDATED):
            return text("outdated", locale)
        case _:
            return text("missing", locale)


def error_text(error: SendGuardError, locale: str) -> str:
    """The sentence for a Gmail failure; the detail (for logs) stays out of it."""
    if isinstance(error, GmailTransientError):
        return text("unconfirmed" if error.detail == NOT_CONFIRMED else "busy", locale)
    if isinstance(error, ConflictError):
        return text("vanished", locale)
    if isinstance(error, GmailClientError):
        return text(str(error.http_status) if str(error.http_status) in _TEXT else "400", locale)
    return error.public_message
