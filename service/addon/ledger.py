"""A short-lived, in-process record of drafts being sent or just sent: the double-click guard.

Gmail itself sends a draft at most once (``drafts.send`` consumes it; a second call gets
404), and the audit log remembers every send across instances. This ledger adds the
part those cannot: two clicks racing in one process are serialised on a per-draft lock, and
the second one learns the draft was just sent instead of seeing "draft not found".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from service.errors import ConflictError

DEFAULT_TTL = 600.0
LOCK_WAIT = 30.0


class SendLedger:
    def __init__(self, *, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}
        self._sent: dict[str, tuple[float, int, str | None]] = {}

    @contextmanager
    def hold(self, key: str, *, wait: float = LOCK_WAIT) -> Iterator[None]:
        """Exclusive use of ``key`` in this process; ``ConflictError`` if it stays busy."""
        with self._lock:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=wait):
                raise ConflictError("this draft is being sent right now")
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._lock:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def sent(self, key: str) -> int | None:
        """How many recipients ``key`` was sent to, if it was sent within the TTL."""
        now = self._clock()
        with self._lock:
            for k in [k for k, (at, _, _) in self._sent.items() if now - at > self._ttl]:
                del self._sent[k]
            entry = self._sent.get(key)
        return entry[1] if entry else None

    def package(self, key: str) -> str | None:
        """The key package of an encrypted send of ``key`` (after ``sent`` said it was)."""
        with self._lock:
            entry = self._sent.get(key)
        return entry[2] if entry else None

    def mark_sent(self, key: str, recipients: int, package_id: str | None = None) -> None:
        with self._lock:
            self._sent[key] = (self._clock(), recipients, package_id)
