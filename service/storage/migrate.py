"""Alembic, configured in code: no ``alembic.ini``; the scripts live in ``migrations/``.

``upgrade`` runs every pending migration in one transaction. On PostgreSQL it first takes
an advisory lock, so two deploy steps (or dev instances) starting together migrate once;
on SQLite ``BEGIN IMMEDIATE`` serialises them.

A new revision after changing ``schema.py``: migrate a scratch database to head, then
``alembic.command.revision(alembic_config(url=URL), autogenerate=True, message=...)`` and
edit the generated script (``tests/storage`` fails while the two disagree).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from service.storage.engine import IMMEDIATE

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_LOCK_KEY = 0x53454E44  # "SEND": any constant shared by every SendGuard instance


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """A Config for ``alembic.command`` calls (``revision --autogenerate`` included)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            command.downgrade(alembic_config(conn), revision)
