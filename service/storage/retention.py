"""Retention and re-wrapping of stored keys: maintenance an administrator runs (or the
release worker, for retention), never a request.

A key record outlives its key. Once a package has been revoked or expired for the
retention period, ``purge_key_material`` erases its wrapped password (the blob also holds
the seed the link tokens are derived from, so no link can be re-minted) and any pending
code hash, keeps the row as evidence and appends ``package.purged`` in the same
transaction. The audit log itself is never touched.

Re-wrapping under a new master key replaces one blob by another only when the blob is
still the one that was read (compare and set), so it can run beside the service, beside a
purge, and again after an interruption.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from service.errors import InputError
from service.storage import checks
from service.storage.audit import insert_audit
from service.storage.database import Database
from service.storage.packages import MAX_CLAIM, to_package
from service.storage.records import ACTIVE_STATES, SYSTEM_ACTOR, Package
from service.storage.schema import grants, packages

_DAY_S = 86400


def _older_than(value: timedelta) -> timedelta:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InputError("older_than must be a duration of zero or more")
    return value


def _purgeable(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Not yet purged, and ended at or before ``cutoff``: revoked then, or expired then
    (whether or not the expiry has been recorded yet)."""
    p = packages.c
    return sa.and_(p.purged_at.is_(None), sa.or_(
        sa.and_(p.state == "revoked", p.revoked_at <= cutoff),
        sa.and_(p.state.in_(("expired", *ACTIVE_STATES)), p.expires_at <= cutoff)))


class RetentionStore(Database):
    def count_purgeable(self, now: datetime, older_than: timedelta) -> int:
        """How many records ``purge_key_material`` would erase now (``--dry-run``)."""
        cutoff = checks.aware(now, "now") - _older_than(older_than)
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(packages)
                                    .where(_purgeable(cutoff))).scalar_one())

    def purge_key_material(self, now: datetime, older_than: timedelta, *,
                           actor: str = SYSTEM_ACTOR, limit: int = MAX_CLAIM) -> list[str]:
        """Erase the keys of up to ``limit`` records that ended ``older_than`` ago or more;
        returns their ids. A record past its expiry but not yet marked expired is expired
        first (with its own audit event). Workers racing here skip each other's rows."""
        now = checks.aware(now, "now")
        span = _older_than(older_than)
        actor = checks.actor(actor)
        checks.positive(limit, "limit", at_most=MAX_CLAIM)
        p = packages.c
        with self._write() as conn:
            rows = conn.execute(
                sa.select(p.id, p.state, p.message_id).where(_purgeable(now - span))
                .order_by(p.id).limit(limit).with_for_update(skip_locked=True)).all()
            for row in rows:
                values: dict[str, object] = {"wrapped_password": b"", "purged_at": now}
                state = row.state
                if state in ACTIVE_STATES:
                    values["state"] = state = "expired"
                    insert_audit(conn, at=now, actor=SYSTEM_ACTOR, action="package.expired",
                                 package_id=row.id, message_id=row.message_id,
                                 data={"from_state": row.state})
                conn.execute(sa.update(packages)
                             .where(p.id == row.id, p.purged_at.is_(None)).values(**values))
                insert_audit(conn, at=now, actor=actor, action="package.purged",
                             package_id=row.id, message_id=row.message_id,
                             data={"state": state,
                                   "older_than_days": span.total_seconds() / _DAY_S})
            ids = [row.id for row in rows]
            if ids:
                conn.execute(sa.update(grants).where(grants.c.package_id.in_(ids))
                             .values(code_hash=None, code_expires_at=None))
            return ids

    def count_packages_with_key(self) -> int:
        """Records still holding a wrapped key (not purged), whatever their state."""
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(packages)
                                    .where(packages.c.purged_at.is_(None))).scalar_one())

    def packages_with_key(self, *, after_id: str | None = None,
                          limit: int = 100) -> list[Package]:
        """A page of records still holding a key, in id order after ``after_id``."""
        p = packages.c
        query = sa.select(packages).where(p.purged_at.is_(None))
        if after_id is not None:
            query = query.where(p.id > after_id)
        query = query.order_by(p.id).limit(checks.positive(limit, "limit", at_most=MAX_CLAIM))
        with self._read() as conn:
            return [to_package(row) for row in conn.execute(query)]

    def replace_wrapped_password(self, package_id: str, old: bytes, new: bytes) -> bool:
        """Swap a record's blob for one wrapped anew, only if it still holds ``old``;
        False when it changed (re-wrapped or purged meanwhile) or does not exist."""
        for value, name in ((old, "old"), (new, "new")):
            if not isinstance(value, bytes) or not value:
                raise InputError(f"{name} must be a non-empty wrapped key")
        p = packages.c
        with self._write() as conn:
            result = conn.execute(
                sa.update(packages)
                .where(p.id == package_id, p.purged_at.is_(None), p.wrapped_password == old)
                .values(wrapped_password=new))
        return result.rowcount == 1
