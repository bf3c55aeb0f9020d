"""Releasing held keys: each verified address gets its own notice holding only a link.

``release_tick`` is what ``POST /tasks/release-due`` (Cloud Scheduler) and ``sendguard
worker`` run: expire what is due, claim due held packages (``Store.claim_due_releases``
hands each to exactly one caller, across workers and instances), send their notices, and
retry notices an earlier run could not send; once an hour it also erases the keys of
packages that ended past the retention (``retention.purge_if_due``). A package is
released automatically only once its message is recorded as sent (it has a message id);
``release_package`` is the sender's explicit release and sends regardless.

A notice is sent, then marked sent: a crash in between sends it again later (same link),
never not at all. Two workers retrying the same notice are kept apart by a short lease
taken with ``Store.hit_rate_limit`` (atomic across instances).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.delivery.material import open_package
from service.delivery.notices import key_notice
from service.delivery.retention import DEFAULT_RETENTION, purge_if_due
from service.errors import ConfigError, ConflictError, SendGuardError
from service.mailer import Mailer, MailerError
from service.protect.keywrap import KeyWrapper
from service.settings import Config
from service.storage import SYSTEM_ACTOR, Grant, Package, Store, hash_token

log = logging.getLogger(__name__)

LEASE_S = 120               # one worker per notice per window
RETRY_AFTER = timedelta(seconds=60)
BATCH = 100


@dataclass
class ReleaseReport:
    released: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    waiting: int = 0          # released, but the message is not recorded as sent yet
    purged: int = 0           # keys erased after the retention

    def to_json(self) -> dict[str, int]:
        return {"released": len(self.released), "expired": len(self.expired),
                "notices_sent": self.sent, "notices_failed": self.failed,
                "waiting": self.waiting, "purged": self.purged}


def base_url(config: Config) -> str:
    """``SENDGUARD_BASE_URL``; development without it uses localhost (never the Host
    header of a request)."""
    if config.base_url:
        return config.base_url.rstrip("/")
    if config.production:
        raise ConfigError("SENDGUARD_BASE_URL is required in production")
    return f"http://localhost:{config.port}"


def key_link(config: Config, token: str) -> str:
    return f"{base_url(config)}/k/{token}"


def message_sent(package: Package) -> bool:
    return bool(package.gmail_message_id or package.message_id)


def notify(store: Store, mailer: Mailer, config: Config, keywrapper: KeyWrapper,
           package: Package, now: datetime,
           grants: Sequence[Grant] | None = None) -> tuple[int, int]:
    """Send the notices of ``package`` not yet sent; returns (sent, failed)."""
    pending = [g for g in (store.list_grants(package.id) if grants is None else grants)
               if g.notice_sent_at is None]
    if not pending:
        return 0, 0
    material = open_package(keywrapper, package)
    sent = failed = 0
    for grant in pending:
        if store.hit_rate_limit(f"notice-lease:{grant.id}", 1, LEASE_S, now):
            continue  # another worker holds this notice right now
        token = material.link_token(grant.address)
        if not hmac.compare_digest(hash_token(token), grant.token_hash):
            log.error("package %s: a grant does not match its key record; not notified",
                      package.id)
            store.append_audit(SYSTEM_ACTOR, "notice.refused", now=now, package_id=package.id,
                               data={"address": grant.address, "reason": "mismatch"})
            failed += 1
            continue
        msg = key_notice(config, package, grant.address, key_link(config, token), now)
        try:
            mailer.send(msg)
        except MailerError as exc:
            failed += 1
            log.warning("package %s: notice not sent (%s)", package.id, exc.detail or exc)
            store.append_audit(SYSTEM_ACTOR, "notice.failed", now=now, package_id=package.id,
                               message_id=package.message_id,
                               data={"address": grant.address})
            continue
        store.mark_notice_sent(grant.id, now)
        store.append_audit(SYSTEM_ACTOR, "notice.sent", now=now, package_id=package.id,
                           message_id=package.message_id, data={"address": grant.address})
        sent += 1
    return sent, failed


def _notify_safely(store: Store, mailer: Mailer, config: Config, keywrapper: KeyWrapper,
                   package: Package, now: datetime, report: ReleaseReport,
                   grants: Sequence[Grant] | None = None) -> None:
    try:
        sent, failed = notify(store, mailer, config, keywrapper, package, now, grants)
    except SendGuardError as exc:   # e.g. a blob that does not open: the others still go
        log.error("package %s: notices failed: %s", package.id, type(exc).__name__)
        report.failed += 1
        return
    report.sent += sent
    report.failed += failed


def erase_expired_files(store: Store, config: Config, keywrapper: KeyWrapper,
                        package_ids: list[str], now: datetime) -> None:
    """Link mode: an expired package's stored files go with it (SPEC 10.3)."""
    from service.delivery.linkpackages import erase_package_files, is_link
    from service.files.store import parse_files_url

    files = None
    for package_id in package_ids:
        package = store.get_package(package_id)
        if not is_link(package):
            continue
        files = files or parse_files_url(config.files, config.var_dir)
        try:
            erase_package_files(store, keywrapper, files, package, SYSTEM_ACTOR, now,
                                "expired")
        except Exception:
            log.exception("package %s: could not erase expired files", package_id)


def release_tick(store: Store, mailer: Mailer, config: Config, keywrapper: KeyWrapper,
                 now: datetime, limit: int = BATCH,
                 retention: timedelta | None = DEFAULT_RETENTION) -> ReleaseReport:
    """One round of expiry, due releases and notice retries (and, hourly, the retention
    purge; ``retention=None`` leaves it out)."""
    report = ReleaseReport()
    report.expired = store.expire_due(now)
    if report.expired:
        erase_expired_files(store, config, keywrapper, report.expired, now)
    for package in store.claim_due_releases(now, limit):
        report.released.append(package.id)
        if message_sent(package):
            _notify_safely(store, mailer, config, keywrapper, package, now, report)
        else:
            report.waiting += 1
    by_package: dict[str, list[Grant]] = {}
    for grant in store.unsent_notices(now - RETRY_AFTER, limit):
        by_package.setdefault(grant.package_id, []).append(grant)
    for package_id, grants in by_package.items():
        package = store.get_package(package_id)
        if package.state != "released" or package.expires_at <= now:
            continue
        if message_sent(package):
            _notify_safely(store, mailer, config, keywrapper, package, now, report, grants)
    report.purged = purge_if_due(store, now, retention)
    store.prune_rate_counters(now)
    if report.released or report.sent or report.failed or report.expired or report.purged:
        log.info("release: %s", report.to_json())
    return report


def release_due(store: Store, mailer: Mailer, config: Config, now: datetime,
                keywrapper: KeyWrapper) -> int:
    """``release_tick`` reduced to the number of notices sent."""
    return release_tick(store, mailer, config, keywrapper, now).sent


def release_package(store: Store, mailer: Mailer, config: Config, keywrapper: KeyWrapper,
                    package_id: str, actor: str, now: datetime) -> tuple[Package, int]:
    """The sender's explicit release (manual mode, or before the delay ends): release
    now and send the notices at once; a released package gets its missing notices."""
    package = store.get_package(package_id)
    if package.state in ("held", "awaiting_release"):
        package = store.release_now(package_id, actor, now)
    elif package.state != "released":
        raise ConflictError(f"the package is already {package.state}")
    sent, failed = notify(store, mailer, config, keywrapper, package, now)
    if failed and not sent:
        raise MailerError("the key notices could not be sent; the worker retries them")
    return package, sent
