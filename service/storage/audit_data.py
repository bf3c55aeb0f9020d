"""What an audit event may hold, checked before it is written, and the row it becomes;
no SQLAlchemy here, so the ``protect`` key record writer (``storage.sqlite_keys``) writes
the same ``package.created`` event as ``Store.create_package``.

``data`` is checked: keys that name secrets or bodies (token, password, secret, body,
link, url, ...) and long strings are refused, and values under ``code``/``codes`` must be
finding codes, so a one-time code cannot slip in as one. Each event keeps the finding
codes in its data (``codes``) for ``search_audit(code=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from service.errors import InputError
from service.storage import checks

MAX_STRING = 2000           # override reasons fit; a message body does not
MAX_DEPTH = 8
CODE_KEYS = frozenset({"code", "codes", "finding_code", "finding_codes"})
FORBIDDEN_WORDS = frozenset({
    "token", "tokens", "password", "passwords", "passwd", "passphrase", "secret", "secrets",
    "body", "bodies", "html", "otp", "passcode", "pin", "link", "links", "url", "urls",
    "cookie", "authorization", "key", "keys",
})
_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_CODE_SHAPED = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def _words(key: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", _CAMEL.sub(r"\1_\2", key).lower())) - {""}


def scan_data(data: Mapping[str, Any]) -> list[str]:
    """Check ``data`` for audit use; returns the finding codes it holds, in order."""
    codes: list[str] = []

    def visit(value: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InputError("audit data is nested too deeply")
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InputError("audit data keys must be strings")
                words = _words(key)
                if words & FORBIDDEN_WORDS or (
                        words & {"code", "codes"} and key.lower() not in CODE_KEYS):
                    raise InputError(f"audit data must not hold {key!r}")
                if key.lower() in CODE_KEYS:
                    for code in [item] if isinstance(item, str) else item:
                        if not isinstance(code, str) or not _CODE.match(code):
                            raise InputError(f"{key!r} must hold finding codes")
                        if code not in codes:
                            codes.append(code)
                visit(item, depth + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item, depth + 1)
        elif isinstance(value, str):
            if len(value) > MAX_STRING:
                raise InputError(f"audit data strings are limited to {MAX_STRING} characters")
            if len(value) <= 64 and _CODE_SHAPED.match(value) and value not in codes:
                codes.append(value)
        elif value is not None and not isinstance(value, bool | int | float):
            raise InputError(f"audit data cannot hold {type(value).__name__}")

    if not isinstance(data, Mapping):
        raise InputError("audit data must be a mapping")
    visit(data, 0)
    return codes


def audit_values(*, at: datetime, actor: str, action: str, package_id: str | None = None,
                 message_id: str | None = None, data: Mapping[str, Any] | None = None
                 ) -> dict[str, Any]:
    """The checked column values of one ``audit_events`` row (its id aside)."""
    payload = dict(data or {})
    codes = scan_data(payload)
    return dict(at=checks.aware(at, "now"), actor=checks.actor(actor),
                action=checks.action(action),
                package_id=checks.text(package_id, "package_id", max_len=64, required=False),
                message_id=checks.text(message_id, "message_id", max_len=998, required=False),
                data=payload, codes=f" {' '.join(codes)} " if codes else "")
