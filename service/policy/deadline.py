"""The deadline every bounded piece of analysis checks between steps (SPEC 9: every
bounded operation has a deadline)."""

from __future__ import annotations

import time


class Deadline:
    """A point in time (monotonic) that bounded work checks between steps; ``None``
    seconds means no deadline (the unit tests of single readers)."""

    def __init__(self, seconds: float | None = None, *, at: float | None = None) -> None:
        self.at = at if at is not None else (
            time.monotonic() + seconds if seconds is not None else None)

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def share(self, fraction: float) -> Deadline:
        """An earlier deadline at ``fraction`` of the time left (for a first phase)."""
        left = self.remaining()
        return self if left is None else Deadline(at=time.monotonic() + left * fraction)
