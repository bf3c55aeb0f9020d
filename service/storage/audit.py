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

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from service.errors import InputError
from service.storage import checks
from service.storage.audit_data import _CODE, audit_values
from service.storage.database import Database
from service.storage.records import AuditEvent
from service.storage.schema import audit_events


def insert_audit(conn: Connection, *, at: datetime, actor: str, action: str,
                 package_id: str | None = None, message_id: str | None = None,
                 data: Mapping[str, Any] | None = None) -> int:
    """Append one event inside the caller's transaction; returns its id."""
    row = conn.execute(
        sa.insert(audit_events).values(**audit_values(
            at=at, actor=actor, action=action, package_id=package_id,
            message_id=message_id, data=data)).returning(audit_events.c.id)).one()
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
