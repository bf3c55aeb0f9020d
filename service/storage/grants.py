"""Grants: the verified addresses of a package, each with its own link and code.

Only hashes are kept: the SHA-256 of the link token (looked up by its unique index) and
whatever hash the delivery layer makes of a one-time code. Counters are bumped in the
database, never read-modify-written in Python, so limits hold across instances.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from service.errors import ConflictError, InputError, NotFoundError
from service.storage import checks
from service.storage.audit import insert_audit
from service.storage.database import Database
from service.storage.packages import lock_package, to_package
from service.storage.records import ACTIVE_STATES, Grant, Reveal, recipient_actor
from service.storage.schema import grants, packages


def to_grant(row: Row[Any]) -> Grant:
    m = dict(row._mapping)
    m["token_hash"] = bytes(m["token_hash"])
    if m["code_hash"] is not None:
        m["code_hash"] = bytes(m["code_hash"])
    return Grant(**m)


def _lock_grant(conn: Connection, grant_id: int) -> Grant:
    row = conn.execute(sa.select(grants).where(grants.c.id == grant_id)
                       .with_for_update()).one_or_none()
    if row is None:
        raise NotFoundError("grant not found")
    return to_grant(row)


class GrantStore(Database):
    def add_grant(self, package_id: str, address: str, token_hash: bytes,
                  now: datetime) -> Grant:
        """Give one more actual recipient a link to a package that is still active."""
        now = checks.aware(now, "now")
        addr = checks.address(address)
        checks.digest(token_hash, "token_hash")
        try:
            with self._write() as conn:
                package = lock_package(conn, package_id)
                if package.state not in ACTIVE_STATES:
                    raise ConflictError(f"the package is {package.state}")
                allowed = ({package.sender} if package.release_mode == "sender_only"
                           else set(package.recipients))
                if addr not in allowed:
                    raise InputError("a key can only go to an actual recipient of the message")
                grant_id = conn.execute(
                    sa.insert(grants).values(package_id=package_id, address=addr,
                                             token_hash=token_hash, created_at=now)
                    .returning(grants.c.id)).scalar_one()
                return _lock_grant(conn, int(grant_id))
        except IntegrityError:
            raise ConflictError("a grant for this address or token already exists") from None

    def get_grant(self, grant_id: int) -> Grant:
        with self._read() as conn:
            row = conn.execute(sa.select(grants).where(grants.c.id == grant_id)).one_or_none()
        if row is None:
            raise NotFoundError("grant not found")
        return to_grant(row)

    def list_grants(self, package_id: str) -> list[Grant]:
        with self._read() as conn:
            return [to_grant(r) for r in conn.execute(
                sa.select(grants).where(grants.c.package_id == package_id)
                .order_by(grants.c.id))]

    def find_grant_by_token_hash(self, token_hash: bytes) -> Grant | None:
        """The grant whose link token hashes to ``token_hash``, or None."""
        if not isinstance(token_hash, bytes) or len(token_hash) != checks.SHA256_LEN:
            return None
        with self._read() as conn:
            row = conn.execute(sa.select(grants)
                               .where(grants.c.token_hash == token_hash)).one_or_none()
        if row is None:
            return None
        grant = to_grant(row)
        # The index found it; compare again in constant time all the same.
        return grant if hmac.compare_digest(grant.token_hash, token_hash) else None

    def mark_notice_sent(self, grant_id: int, now: datetime) -> bool:
        """Record that the notice went out; False if it was already recorded."""
        with self._write() as conn:
            result = conn.execute(
                sa.update(grants).where(grants.c.id == grant_id,
                                        grants.c.notice_sent_at.is_(None))
                .values(notice_sent_at=checks.aware(now, "now")))
        return result.rowcount == 1

    def unsent_notices(self, released_before: datetime, limit: int = 100) -> list[Grant]:
        """Grants of packages released before ``released_before`` whose notice was never
        recorded as sent: what a worker that died mid-way left behind. Packages whose
        message is not yet recorded as sent (no message id) are left out: they wait for
        that, and must not fill ``limit`` ahead of notices that can go now."""
        cutoff = checks.aware(released_before, "released_before")
        p = packages.c
        query = (sa.select(grants).join(packages, p.id == grants.c.package_id)
                 .where(p.state == "released", p.released_at < cutoff,
                        sa.or_(p.message_id.is_not(None), p.gmail_message_id.is_not(None)),
                        grants.c.notice_sent_at.is_(None))
                 .order_by(grants.c.id).limit(checks.positive(limit, "limit", at_most=1000)))
        with self._read() as conn:
            return [to_grant(r) for r in conn.execute(query)]

    def set_code(self, grant_id: int, code_hash: bytes, expires_at: datetime,
                 now: datetime) -> Grant:
        """Store a new code's hash; the old code dies and the attempt count restarts."""
        now = checks.aware(now, "now")
        expires = checks.aware(expires_at, "expires_at")
        if expires <= now:
            raise InputError("a code must expire in the future")
        checks.digest(code_hash, "code_hash", exact=False)
        with self._write() as conn:
            _lock_grant(conn, grant_id)
            conn.execute(sa.update(grants).where(grants.c.id == grant_id).values(
                code_hash=code_hash, code_expires_at=expires, code_attempts=0,
                code_sent_count=grants.c.code_sent_count + 1, code_last_sent_at=now))
            return _lock_grant(conn, grant_id)

    def record_code_attempt(self, grant_id: int) -> int:
        """Count one code guess atomically; returns the attempts so far, this one included.
        Call before comparing the code and refuse when it exceeds the limit."""
        with self._write() as conn:
            attempts = conn.execute(
                sa.update(grants).where(grants.c.id == grant_id)
                .values(code_attempts=grants.c.code_attempts + 1)
                .returning(grants.c.code_attempts)).scalar_one_or_none()
        if attempts is None:
            raise NotFoundError("grant not found")
        return int(attempts)

    def mark_revealed(self, grant_id: int, now: datetime) -> Reveal:
        """Consume the grant's code and count one reveal, or raise ``ConflictError`` when
        the package is not released, expired, at its reveal limit, or the code is gone
        (used, expired or never sent). Call only after the code has been verified."""
        now = checks.aware(now, "now")
        with self._write() as conn:
            grant = _lock_grant(conn, grant_id)
            package = lock_package(conn, grant.package_id)
            if package.state != "released":
                raise ConflictError(f"the package is {package.state}")
            if package.expires_at <= now:
                raise ConflictError("the package has expired")
            if package.reveal_count >= package.reveal_limit:
                raise ConflictError("the reveal limit is reached")
            if (grant.code_hash is None or grant.code_expires_at is None
                    or grant.code_expires_at <= now):
                raise ConflictError("no valid code")
            first = package.first_retrieved_at is None
            conn.execute(sa.update(grants).where(grants.c.id == grant_id).values(
                revealed_count=grants.c.revealed_count + 1, last_revealed_at=now,
                code_hash=None, code_expires_at=None))
            conn.execute(sa.update(packages).where(packages.c.id == package.id).values(
                reveal_count=packages.c.reveal_count + 1,
                first_retrieved_at=package.first_retrieved_at or now))
            insert_audit(conn, at=now, actor=recipient_actor(grant.address),
                         action="key.revealed", package_id=package.id,
                         message_id=package.message_id,
                         data={"address": grant.address,
                               "reveal_count": package.reveal_count + 1, "first": first})
            grant = _lock_grant(conn, grant_id)
            row = conn.execute(sa.select(packages).where(packages.c.id == package.id)).one()
            return Reveal(package=to_package(row), grant=grant, first=first)
