"""Key records and their one-way life: held or awaiting release, then released, and at
last revoked or expired. Every transition is a conditional change inside one short
transaction, with its audit event in that same transaction, so it happens exactly once no
matter how many workers or instances race for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from service.errors import ConflictError, InputError, NotFoundError
from service.storage import checks, schema
from service.storage.audit import insert_audit
from service.storage.database import Database
from service.storage.package_rows import (  # the SQLAlchemy-free half; names kept here
    DEFAULT_REVEAL_LIMIT,
    MIN_PACKAGE_ID_CHARS,
    PACKAGE_ID_BYTES,
    check_package_id,
    new_package_id,
    prepare_package,
)
from service.storage.records import (
    ACTIVE_STATES,
    STATES,
    SYSTEM_ACTOR,
    Package,
    PackageState,
    ReleaseMode,
)
from service.storage.schema import packages

__all__ = ["DEFAULT_REVEAL_LIMIT", "MIN_PACKAGE_ID_CHARS", "PACKAGE_ID_BYTES", "PackageStore",
           "check_package_id", "lock_package", "new_package_id", "to_package"]

MAX_CLAIM = 1000


def to_package(row: Row[Any]) -> Package:
    m = dict(row._mapping)
    m["file_names"] = tuple(m["file_names"])
    m["recipients"] = tuple(m["recipients"])
    m["wrapped_password"] = bytes(m["wrapped_password"])
    if m["subject_hash"] is not None:
        m["subject_hash"] = bytes(m["subject_hash"])
    return Package(**m)


def lock_package(conn: Connection, package_id: str) -> Package:
    """The package row, locked until commit (PostgreSQL; SQLite holds the DB lock)."""
    row = conn.execute(sa.select(packages).where(packages.c.id == package_id)
                       .with_for_update()).one_or_none()
    if row is None:
        raise NotFoundError("package not found")
    return to_package(row)


class PackageStore(Database):
    def create_package(self, *, sender: str, recipients: Iterable[str], zip_filename: str,
                       file_names: Iterable[str], wrapped_password: bytes,
                       release_mode: ReleaseMode, now: datetime, expires_at: datetime,
                       release_at: datetime | None = None,
                       reveal_limit: int = DEFAULT_REVEAL_LIMIT,
                       message_id: str | None = None, gmail_message_id: str | None = None,
                       subject_hash: bytes | None = None,
                       grants: Iterable[tuple[str, bytes]] = (),
                       package_id: str | None = None) -> Package:
        """Store a key record and its grants (address, SHA-256 of link token) atomically.

        ``package_id`` lets the caller bind the wrapped key to the id before the record
        exists (``new_package_id()``); an id already taken is a ``ConflictError``.

        ``manual`` waits in ``awaiting_release`` (``release_at`` must be None); ``delay``
        and ``sender_only`` are ``held`` until ``release_at``. Grants go only to actual
        recipients (``sender_only``: only to the sender).
        """
        new = prepare_package(
            sender=sender, recipients=recipients, zip_filename=zip_filename,
            file_names=file_names, wrapped_password=wrapped_password,
            release_mode=release_mode, now=now, expires_at=expires_at, release_at=release_at,
            reveal_limit=reveal_limit, message_id=message_id,
            gmail_message_id=gmail_message_id, subject_hash=subject_hash, grants=grants,
            package_id=package_id)
        package_id = new.values["id"]
        try:
            with self._write() as conn:
                if conn.execute(sa.select(packages.c.id)
                                .where(packages.c.id == package_id)).first() is not None:
                    raise ConflictError("a package with this id already exists")
                conn.execute(sa.insert(packages).values(**new.values))
                for grant in new.grants:
                    conn.execute(sa.insert(schema.grants).values(**grant))
                insert_audit(conn, **new.audit)
                return lock_package(conn, package_id)
        except IntegrityError:
            raise ConflictError("the package id, or a grant's address or token, is "
                                "already taken") from None

    def get_package(self, package_id: str) -> Package:
        with self._read() as conn:
            row = conn.execute(sa.select(packages)
                               .where(packages.c.id == package_id)).one_or_none()
        if row is None:
            raise NotFoundError("package not found")
        return to_package(row)

    def list_packages(self, sender: str, limit: int = 20,
                      state: PackageState | None = None) -> list[Package]:
        """The sender's packages, newest first (for the homepage card, ``keys list``)."""
        return self._newest(limit, state, packages.c.sender == checks.address(sender, "sender"))

    def list_recent_packages(self, limit: int = 20,
                             state: PackageState | None = None) -> list[Package]:
        """Every sender's packages, newest first (``keys list`` for an administrator)."""
        return self._newest(limit, state)

    def _newest(self, limit: int, state: PackageState | None,
                *where: sa.ColumnElement[bool]) -> list[Package]:
        query = sa.select(packages).where(*where)
        if state is not None:
            if state not in STATES:
                raise InputError(f"state must be one of {', '.join(STATES)}")
            query = query.where(packages.c.state == state)
        query = (query.order_by(packages.c.created_at.desc(), packages.c.id)
                 .limit(checks.positive(limit, "limit", at_most=1000)))
        with self._read() as conn:
            return [to_package(row) for row in conn.execute(query)]

    def set_message_ids(self, package_id: str, *, message_id: str | None,
                        gmail_message_id: str | None) -> Package:
        """Attach the sent message's ids once Gmail has sent it."""
        values = {
            "message_id": checks.text(message_id, "message_id", max_len=998, required=False),
            "gmail_message_id": checks.text(gmail_message_id, "gmail_message_id",
                                            max_len=64, required=False),
        }
        with self._write() as conn:
            lock_package(conn, package_id)
            conn.execute(sa.update(packages).where(packages.c.id == package_id)
                         .values(**values))
            return lock_package(conn, package_id)

    def release_now(self, package_id: str, actor: str, now: datetime) -> Package:
        """Manual release (or release before the delay ends), exactly once."""
        return self._transition(package_id, ("held", "awaiting_release"), "released",
                                actor, now, "package.released")

    def revoke(self, package_id: str, actor: str, now: datetime) -> Package:
        """The misdelivery brake: no code or reveal succeeds afterwards."""
        return self._transition(package_id, ACTIVE_STATES, "revoked", actor, now,
                                "package.revoked")

    def _transition(self, package_id: str, sources: tuple[str, ...], target: PackageState,
                    actor: str, now: datetime, action: str) -> Package:
        now = checks.aware(now, "now")
        actor = checks.actor(actor)
        stamp = {"released": "released_at", "revoked": "revoked_at"}[target]
        with self._write() as conn:
            package = lock_package(conn, package_id)
            if package.state not in sources:
                raise ConflictError(f"the package is already {package.state}")
            if target == "released" and package.expires_at <= now:
                raise ConflictError("the package has expired")
            result = conn.execute(
                sa.update(packages)
                .where(packages.c.id == package_id, packages.c.state.in_(sources))
                .values(state=target, **{stamp: now}))
            if result.rowcount != 1:
                raise ConflictError("the package changed meanwhile")
            insert_audit(conn, at=now, actor=actor, action=action, package_id=package_id,
                         message_id=package.message_id, data={"from_state": package.state})
            return lock_package(conn, package_id)

    def claim_due_releases(self, now: datetime, limit: int = 100) -> list[Package]:
        """Move due ``held`` packages to ``released`` and return them: each package is
        returned to exactly one caller, even with many workers at once (row locks with
        SKIP LOCKED on PostgreSQL, the write lock on SQLite)."""
        now = checks.aware(now, "now")
        checks.positive(limit, "limit", at_most=MAX_CLAIM)
        p = packages.c
        with self._write() as conn:
            ids = list(conn.execute(
                sa.select(p.id).where(p.state == "held", p.release_at <= now,
                                      p.expires_at > now)
                .order_by(p.release_at, p.id).limit(limit)
                .with_for_update(skip_locked=True)).scalars())
            if not ids:
                return []
            conn.execute(sa.update(packages).where(p.id.in_(ids), p.state == "held")
                         .values(state="released", released_at=now))
            claimed = [to_package(r) for r in conn.execute(
                sa.select(packages).where(p.id.in_(ids), p.state == "released")
                .order_by(p.release_at, p.id))]
            for package in claimed:
                insert_audit(conn, at=now, actor=SYSTEM_ACTOR, action="package.released",
                             package_id=package.id, message_id=package.message_id,
                             data={"from_state": "held"})
            return claimed

    def expire_due(self, now: datetime, limit: int = MAX_CLAIM) -> list[str]:
        """Expire active packages whose time is up; returns their ids."""
        now = checks.aware(now, "now")
        checks.positive(limit, "limit", at_most=MAX_CLAIM)
        p = packages.c
        with self._write() as conn:
            rows = conn.execute(
                sa.select(p.id, p.state, p.message_id)
                .where(p.state.in_(ACTIVE_STATES), p.expires_at <= now)
                .order_by(p.expires_at, p.id).limit(limit)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                conn.execute(sa.update(packages).where(p.id == row.id).values(state="expired"))
                insert_audit(conn, at=now, actor=SYSTEM_ACTOR, action="package.expired",
                             package_id=row.id, message_id=row.message_id,
                             data={"from_state": row.state})
            return [row.id for row in rows]
