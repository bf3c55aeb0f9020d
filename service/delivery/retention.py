"""Key retention: erase the wrapped passwords of packages that ended long ago.

A revoked or expired package can never give its password out again, yet its wrapped
blob would still open with the master key; a stolen database plus a stolen key would
unwrap it. So ``purge_ended`` erases the blob (password and link seed) once the package
ended ``older_than`` ago (30 days by default), keeping the record and the audit log as
evidence (``package.purged``).

``release_tick`` (the worker loop and ``POST /tasks/release-due``) calls ``purge_if_due``:
a lease taken with ``Store.hit_rate_limit`` lets one caller per hour, across every
instance, run one bounded purge, so a tick stays cheap.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from service.storage import SYSTEM_ACTOR, Store

log = logging.getLogger(__name__)

DEFAULT_RETENTION = timedelta(days=30)
LEASE_S = 3600              # at most one automatic purge per hour, across instances
TICK_BATCHES = 5            # an automatic purge erases at most this many batches
BATCH = 200
def purge_ended(store: Store, now: datetime, older_than: timedelta = DEFAULT_RETENTION, *,
                actor: str = SYSTEM_ACTOR, max_batches: int | None = None) -> list[str]:
    """Erase the keys of every package that ended ``older_than`` before ``now`` (or of
    ``max_batches`` batches of them); returns the purged package ids."""
    purged: list[str] = []
    batches = 0
    while max_batches is None or batches < max_batches:
        ids = store.purge_key_material(now, older_than, actor=actor, limit=BATCH)
        purged += ids
        batches += 1
        if len(ids) < BATCH:
            break
    if purged:
        log.info("retention: erased the keys of %d ended package(s)", len(purged))
    return purged


def purge_if_due(store: Store, now: datetime,
                 older_than: timedelta | None = DEFAULT_RETENTION) -> int:
    """The automatic purge of a release round: once an hour across instances, bounded.
    ``None`` turns it off. A failure is logged and left for the next hour."""
    if older_than is None:
        return 0
    if store.hit_rate_limit("purge-lease", 1, LEASE_S, now):
        return 0
    try:
        from service.storage.history import HISTORY_RETENTION

        gone = store.purge_history(now - HISTORY_RETENTION)   # recipient history (10.2)
        if gone:
            log.info("retention: erased %d recipient-history row(s)", gone)
        return len(purge_ended(store, now, older_than, max_batches=TICK_BATCHES))
    except SQLAlchemyError as exc:
        log.error("retention: purge failed (%s); retried next hour", type(exc).__name__)
        return 0
