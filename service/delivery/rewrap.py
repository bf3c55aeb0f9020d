"""Re-wrap every stored key under the current wrapping key (``sendguard keys rewrap``).

After a master-key rotation (``SENDGUARD_MASTER_KEY="new,old"``) or a switch to Cloud
KMS, records made earlier still name the old key; the old key can only be dropped once
none does. This opens each such blob with the keys configured now and seals the same
material, bound to the same record, under the first key (or KMS), then swaps it in only
if the record still holds the blob that was read (a purge or another run may have
changed it meanwhile). Records already under the current key are left alone, so a second
run does nothing, and an interrupted run just goes on.

"Current" is what the wrapper writes now: the version byte and master-key id of a fresh
blob for master keys, the version byte alone for KMS (whose own key versions are its
business).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from service.delivery.material import open_package, package_binding, seal
from service.errors import SecretError
from service.protect.keywrap import LOCAL_VERSION, KeyWrapper, key_id
from service.storage import Package, Store

log = logging.getLogger(__name__)

BATCH = 200
_ID_LEN = len(key_id(bytes(32)))


@dataclass
class RewrapReport:
    total: int = 0          # records holding a key when the run started
    seen: int = 0
    rewrapped: int = 0      # (with --dry-run: would be)
    current: int = 0        # already under the current key
    changed: int = 0        # changed by someone else meanwhile: left as it is
    failed: list[str] = field(default_factory=list)   # ids whose key does not open
    # the recipient history's key (one per database): absent, current, rewrapped,
    # changed or failed (see service.storage.history_rewrap)
    history_key: str = "absent"

    def to_json(self) -> dict[str, int | str]:
        return {"total": self.total, "seen": self.seen, "rewrapped": self.rewrapped,
                "current": self.current, "changed": self.changed, "failed": len(self.failed),
                "history": self.history_key}


def current_header(wrapper: KeyWrapper) -> bytes:
    """The prefix every blob the wrapper writes now starts with."""
    probe = wrapper.wrap(b"sendguard-rewrap-probe", b"sendguard-rewrap-probe")
    return probe[:1 + _ID_LEN] if probe[:1] == bytes([LOCAL_VERSION]) else probe[:1]


def target_name(header: bytes) -> str:
    """What the keys are wrapped under, for the audit log: a master key's public id."""
    return f"master-key:{header[1:].hex()}" if len(header) > 1 else "kms"


def rewrap_one(store: Store, wrapper: KeyWrapper, package: Package, report: RewrapReport,
               *, dry_run: bool) -> None:
    try:
        material = open_package(wrapper, package)
        blob = seal(wrapper, material, package_binding(package))
        if open_package(wrapper, dataclasses.replace(package, wrapped_password=blob)) \
                != material:
            raise SecretError()
    except SecretError:
        report.failed.append(package.id)
        log.error("rewrap: package %s does not open with the configured keys", package.id)
        return
    if dry_run or store.replace_wrapped_password(package.id, package.wrapped_password, blob):
        report.rewrapped += 1
    else:
        report.changed += 1


def rewrap_all(store: Store, wrapper: KeyWrapper, *, dry_run: bool = False,
               progress: Callable[[RewrapReport], None] | None = None,
               batch: int = BATCH) -> RewrapReport:
    """Re-wrap every record not under the current key, and the history key;
    ``progress`` after each batch."""
    from service.storage.history_rewrap import rewrap_history_key

    header = current_header(wrapper)
    report = RewrapReport(total=store.count_packages_with_key())
    report.history_key = rewrap_history_key(store, wrapper, header, dry_run=dry_run)
    after: str | None = None
    while page := store.packages_with_key(after_id=after, limit=batch):
        for package in page:
            report.seen += 1
            if package.wrapped_password.startswith(header):
                report.current += 1
            else:
                rewrap_one(store, wrapper, package, report, dry_run=dry_run)
        after = page[-1].id
        if progress is not None:
            progress(report)
    return report
