"""Every error SendGuard raises on purpose, in one hierarchy.

    SendGuardError                 base; ``public_message`` is safe to show a user
    ├── InputError                 the caller's input is wrong (CLI exit 2, HTTP 400)
    │   ├── MessageError           not a readable e-mail message
    │   ├── PolicyError            bad policy file: names the key and the line
    │   └── AttachmentError        attachment refused (type, size)
    ├── ConfigError                the service is misconfigured (refuses to start)
    ├── AuthError                  a Google token failed verification (HTTP 401, no card)
    ├── NotFoundError              a draft, package or record does not exist (HTTP 404)
    ├── GmailError                 the Gmail API failed
    │   ├── GmailTransientError    429/5xx after all retries; the user may retry
    │   └── GmailClientError       4xx: the request itself is wrong
    ├── ConflictError              the state changed under us (already sent, revoked)
    └── SecretError                any bad key-page token or code: one opaque failure
        ├── LinkEndedError         the link works no more (why, for its holder)
        └── CodeRefusedError       a code did not open the key; the link still works

Handlers turn these into CLI lines, cards or HTTP answers in one place each
(``service.commands.main`` and ``service.addon.errors``); nothing else formats errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Text:
    """A message id and its parameters (catalogues in ``service/locale``), rendered where it
    is shown: the CLI in ``LANG``'s language, a card in the user's. ``str()`` is the English text,
    so logs and ``match=`` in tests read as before. A parameter that is itself a ``Text``
    (or has ``localized``) is rendered in the same language."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def localized(self, locale: str = "en") -> str:
        from service.i18n import translator

        return translator(locale).gettext(self.code, **{
            k: v.localized(locale) if hasattr(v, "localized") else v
            for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.localized("en")


class SendGuardError(Exception):
    """Base of every deliberate SendGuard error; ``message`` may be a ``Text``."""

    status = 500

    def __init__(self, message: str | Text = "", *, detail: str | None = None) -> None:
        super().__init__(str(message))
        self.public_message = str(message)
        self.text = message if isinstance(message, Text) else None
        self.detail = detail

    def localized(self, locale: str) -> str:
        """``public_message`` in ``locale`` where the error carries a message id."""
        return self.text.localized(locale) if self.text is not None else self.public_message


class InputError(SendGuardError):
    status = 400


class MessageError(InputError):
    pass


class PolicyError(InputError):
    """``path:line: message``; the place, key names and values stay verbatim in every
    language, the words around them follow the reader's (``localized``)."""

    def __init__(self, message: str | Text, *, key: str | None = None,
                 line: int | None = None, path: str | None = None) -> None:
        where = ""
        if path:
            where = f"{path}"
            if line:
                where += f":{line}"
            where += ": "
        self.where = where
        super().__init__(where + str(message))
        self.text = message if isinstance(message, Text) else None
        self.key = key
        self.line = line
        self.path = path

    def localized(self, locale: str) -> str:
        if self.text is None:
            return self.public_message
        return self.where + self.text.localized(locale)


class AttachmentError(InputError):
    pass


class ConfigError(SendGuardError):
    pass


class AuthError(SendGuardError):
    status = 401


class NotFoundError(SendGuardError):
    status = 404


class GmailError(SendGuardError):
    status = 502


class GmailTransientError(GmailError):
    status = 503


class GmailClientError(GmailError):
    def __init__(self, message: str = "", *, http_status: int = 400,
                 detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.http_status = http_status


class ConflictError(SendGuardError):
    status = 409


class SecretError(SendGuardError):
    """One opaque failure for every bad token or code: never says which check failed."""

    status = 403

    def __init__(self) -> None:
        super().__init__("invalid or expired link or code")


class LinkEndedError(SecretError):
    """A key link that cannot give its password any more, and why. The holder of a real
    link may know why (``revoked``, ``expired``, ``used_up``, ``locked``, ``codes_used_up``,
    ``held``); a link that does not exist is ``invalid`` and says nothing more."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class CodeRefusedError(SecretError):
    """A code that did not open the key while the link itself still works: the visitor
    stays on the code form (``wrong``, ``stale``, ``exhausted``, ``malformed``,
    ``rate_limited``)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
