"""Key records and their one-way life: held or awaiting release, then released, and at
last revoked or expired. Every transition is a conditional change inside one short
transaction, with its audit event in that same transaction, so it happens exactly once no
matter how many workers or instances race for it.
"""

from __future__ import annotations

import re
import secrets
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
from service.storage.records import (
    ACTIVE_STATES,
    RELEASE_MODES,
    STATES,
    SYSTEM_ACTOR,
    Package,
    PackageState,
    ReleaseMode,
)
from service.storage.schema import packages

PACKAGE_ID_BYTES = 16        # 128 bits, 22 URL-safe characters
MIN_PACKAGE_ID_CHARS = 16    # 96 bits of base64url at the least
DEFAULT_REVEAL_LIMIT = 5
MAX_CLAIM = 1000
_PACKAGE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def new_package_id() -> str:
    """A fresh random id; callers that bind a key blob to the id make it first. It never
    starts with '-', so ``sendguard keys show ID`` cannot mistake it for an option."""
    while True:
        value = secrets.token_urlsafe(PACKAGE_ID_BYTES)
        if not value.startswith("-"):
            return value


def check_package_id(value: object) -> str:
    """A caller-chosen id: URL-safe base64 characters, 96 bits (16 characters) or more,
    at most the column's 64. Its randomness is the caller's duty (``new_package_id``)."""
    if (not isinstance(value, str) or not _PACKAGE_ID.match(value)
            or not MIN_PACKAGE_ID_CHARS <= len(value) <= 64):
        raise InputError(f"package_id must be {MIN_PACKAGE_ID_CHARS} to 64 URL-safe "
                         "characters (A-Z, a-z, 0-9, '-', '_')")
    return value


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


def _names(values: object, name: str) -> list[str]:
    names = checks.sequence(values, name)
    if not names:
        raise InputError(f"{name} must be a non-empty list of file names")
    return [str(checks.text(v, name, max_len=255)) for v in names]


def _grant_pair(item: object) -> tuple[str, bytes]:
    if not isinstance(item, tuple | list) or len(item) != 2:
        raise InputError("grants must be (address, token_hash) pairs")
    return checks.address(item[0], "grant address"), checks.digest(item[1], "token_hash")


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
        now = checks.aware(now, "now")
        sender = checks.address(sender, "sender")
        rcpts = checks.addresses(recipients, "recipients")
        names = _names(file_names, "file_names")
        zip_name = str(checks.text(zip_filename, "zip_filename", max_len=255))
        if not isinstance(wrapped_password, bytes) or not wrapped_password:
            raise InputError("wrapped_password must be non-empty bytes")
        if release_mode not in RELEASE_MODES:
            raise InputError(f"release_mode must be one of {', '.join(RELEASE_MODES)}")
        expires = checks.aware(expires_at, "expires_at")
        if expires <= now:
            raise InputError("expires_at must be in the future")
        if release_mode == "manual":
            if release_at is not None:
                raise InputError("a manual release has no release_at")
            release, state = None, "awaiting_release"
        else:
            if release_at is None:
                raise InputError(f"release mode {release_mode} needs release_at")
            release, state = checks.aware(release_at, "release_at"), "held"
            if release >= expires:
                raise InputError("release_at must come before expires_at")
        checks.positive(reveal_limit, "reveal_limit", at_most=1000)
        if subject_hash is not None:
            checks.digest(subject_hash, "subject_hash")
        pairs = [_grant_pair(item) for item in checks.sequence(grants, "grants")]
        allowed = {sender} if release_mode == "sender_only" else set(rcpts)
        for addr, _ in pairs:
            if addr not in allowed:
                raise InputError("a key can only go to an actual recipient of the message"
                                 if release_mode != "sender_only"
                                 else "this package's key goes to the sender only")
        package_id = new_package_id() if package_id is None else check_package_id(package_id)
        msg_id = checks.text(message_id, "message_id", max_len=998, required=False)
        values = dict(
            id=package_id, sender=sender, message_id=msg_id,
            gmail_message_id=checks.text(gmail_message_id, "gmail_message_id", max_len=64,
                                         required=False),
            subject_hash=subject_hash, zip_filename=zip_name, file_names=names,
            recipients=rcpts, wrapped_password=wrapped_password, state=state,
            release_mode=release_mode, created_at=now, release_at=release,
            expires_at=expires, reveal_limit=reveal_limit, reveal_count=0,
        )
        try:
            with self._write() as conn:
                if conn.execute(sa.select(packages.c.id)
                                .where(packages.c.id == package_id)).first() is not None:
                    raise ConflictError("a package with this id already exists")
                conn.execute(sa.insert(packages).values(**values))
                for addr, token_hash in pairs:
                    conn.execute(sa.insert(schema.grants).values(
                        package_id=package_id, address=addr, token_hash=token_hash,
                        created_at=now))
                insert_audit(conn, at=now, actor=sender, action="package.created",
                             package_id=package_id, message_id=msg_id,
                             data={"recipients": rcpts, "grants": [a for a, _ in pairs],
                                   "files": names, "zip_filename": zip_name,
                                   "release_mode": release_mode,
                                   "release_at": release.isoformat() if release else None,
                                   "expires_at": expires.isoformat(),
                                   "reveal_limit": reveal_limit})
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
