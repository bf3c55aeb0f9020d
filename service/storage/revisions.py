"""The migrations' head revision read from the scripts' text, without Alembic or
SQLAlchemy: a database already at head is recognised by commands that never import
either (``migrate.upgrade``, the ``protect`` key record writer ``storage.sqlite_keys``)."""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def script_head(directory: Path = MIGRATIONS_DIR) -> str | None:
    """The head revision read from the scripts' text (no Alembic import); ``None`` when
    the history is not one simple chain (then ask Alembic)."""
    revisions: dict[str, str | None] = {}
    for path in (directory / "versions").glob("[0-9]*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        rev, down = found.get("revision", ""), found.get("down_revision", "None")
        if not re.fullmatch(r"['\"][\w-]+['\"]", rev) or not re.fullmatch(
                r"None|['\"][\w-]+['\"]", down):
            return None
        revisions[rev.strip("'\"")] = None if down == "None" else down.strip("'\"")
    heads = set(revisions) - set(revisions.values())
    return heads.pop() if len(heads) == 1 else None
