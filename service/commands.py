"""Sub-commands beyond ``check``: each imports its machinery only when run."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Later issues add protect, serve, keys, db, worker and audit here."""
    del sub
