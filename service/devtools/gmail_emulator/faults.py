"""Scripted failures for the emulator: the next N answers as 429/5xx, slow, or dropped.

``after_commit`` does the work first and fails afterwards: the request really took effect
but the caller cannot tell, which is how a send gets duplicated by naive retries.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from service.gmail import discovery

MAX_DELAY = 120.0


@dataclass(eq=False)
class Fault:
    status: int | None = None          # HTTP status to answer instead (429, 500, 503, 400, ...)
    times: int = 1                     # how many matching requests it hits
    method: str | None = None          # "drafts.send" or "gmail.users.drafts.send"; None: any
    delay: float = 0.0                 # seconds to wait, before the work (after it: after_commit)
    after_commit: bool = False         # do the work, then fail
    drop: bool = False                 # close the connection without any answer
    retry_after: float | None = None   # Retry-After header on the error answer
    skip: int = 0                      # matching requests to let through before it arms

    def __post_init__(self) -> None:
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("fault status must be an HTTP error status (400-599)")
        if self.times < 1:
            raise ValueError("fault times must be at least 1")
        if self.skip < 0:
            raise ValueError("fault skip must not be negative")
        if not 0 <= self.delay <= MAX_DELAY:
            raise ValueError(f"fault delay must be between 0 and {MAX_DELAY} seconds")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if self.status is None and not self.delay and not self.drop:
            raise ValueError("a fault needs a status, a delay or drop")
        if self.method is not None:
            full = self.method if self.method.startswith("gmail.") else f"gmail.users.{self.method}"
            if full not in {m.id for m in discovery.methods()}:
                raise ValueError(f"unknown Gmail method {self.method!r}")
            self.method = full

    def hits(self, method_id: str) -> bool:
        return self.method is None or self.method == method_id

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """Thread-safe queue of faults; the first one matching a request is used up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**f.to_json()) for f in self._faults]

    def take(self, method_id: str) -> Fault | None:
        """The fault for this request, if any; every matching fault still skipping counts it."""
        with self._lock:
            chosen = None
            for fault in self._faults:
                if not fault.hits(method_id):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                elif chosen is None:
                    chosen = fault
            if chosen is not None:
                chosen.times -= 1
                if chosen.times == 0:
                    self._faults.remove(chosen)
            return chosen
