"""The append-only audit log: the evidence after an incident (who saw which finding, who
overrode what, what was sent to whom, every key event).

There is no update or delete here, and the database refuses them (migration triggers).
``data`` is checked before it is written: keys that name secrets or bodies (token,
password, secret, body, link, url, ...) and long strings are refused, and values under
``code``/``codes`` must be finding codes, so a one-time code cannot slip in as one.

For ``search_audit(code=...)`` each event keeps the finding codes in its data: values
under those keys, and any string shaped like a finding code (``snake_case`` with an
underscore, as every SPEC code is) wherever it appears, e.g. in ``acknowledged`` lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from service.errors import InputError
from service.storage import checks
from service.storage.database import Database
from service.storage.records import AuditEvent
from service.storage.schema import audit_events

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


def insert_audit(conn: Connection, *, at: datetime, actor: str, action: str,
                 package_id: str | None = None, message_id: str | None = None,
                 data: Mapping[str, Any] | None = None) -> int:
    """Append one event inside the caller's transaction; returns its id."""
    payload = dict(data or {})
    codes = scan_data(payload)
    row = conn.execute(
        sa.insert(audit_events).values(
            at=checks.aware(at, "now"), actor=checks.actor(actor),
            action=checks.action(action),
            package_id=checks.text(package_id, "package_id", max_len=64, required=False),
            message_id=checks.text(message_id, "message_id", max_len=998, required=False),
            data=payload, codes=f" {' '.join(codes)} " if codes else "",
        ).returning(audit_events.c.id)).one()
    return int(row[0])


def _event(row: Row[Any]) -> AuditEvent:
    m = row._mapping
    return AuditEvent(id=int(m["id"]), at=m["at"], actor=m["actor"], action=m["action"],
                      package_id=m["package_id"], message_id=m["message_id"],
                      data=dict(m["data"] or {}))


class AuditStore(Database):
    def append_audit(self, actor: str, action: str, *, now: datetime,
                     package_id: str | None = None, message_id: str | None = None,
                     data: Mapping[str, Any] | None = None) -> AuditEvent:
        """Record what a user or the system did, with what was shown and decided."""
        with self._write() as conn:
            event_id = insert_audit(conn, at=now, actor=actor, action=action,
                                    package_id=package_id, message_id=message_id, data=data)
            row = conn.execute(sa.select(audit_events)
                               .where(audit_events.c.id == event_id)).one()
        return _event(row)

    def search_audit(self, *, user: str | None = None, since: datetime | None = None,
                     until: datetime | None = None, code: str | None = None,
                     package_id: str | None = None, message_id: str | None = None,
                     action: str | None = None, limit: int = 1000,
                     after_id: int | None = None) -> list[AuditEvent]:
        """Events in the order recorded; ``since`` inclusive, ``until`` exclusive; ``code`` is a
        finding code anywhere in ``data``; ``after_id`` pages through long results."""
        t = audit_events.c
        query = sa.select(audit_events)
        if user is not None:
            query = query.where(t.actor == checks.actor(user))
        if since is not None:
            query = query.where(t.at >= checks.aware(since, "since"))
        if until is not None:
            query = query.where(t.at < checks.aware(until, "until"))
        if code is not None:
            if not isinstance(code, str) or not _CODE.match(code):
                raise InputError("code must be a finding code such as 'bcc_recommended'")
            query = query.where(t.codes.contains(f" {code} ", autoescape=True))
        if package_id is not None:
            query = query.where(t.package_id == package_id)
        if message_id is not None:
            query = query.where(t.message_id == message_id)
        if action is not None:
            query = query.where(t.action == checks.action(action))
        if after_id is not None:
            query = query.where(t.id > after_id)
        query = query.order_by(t.id).limit(checks.positive(limit, "limit", at_most=100_000))
        with self._read() as conn:
            return [_event(row) for row in conn.execute(query)]
