"""Alembic, configured in code: no ``alembic.ini``; the scripts live in ``migrations/``.

``upgrade`` runs every pending migration in one transaction. On PostgreSQL it first takes
an advisory lock, so two deploy steps (or dev instances) starting together migrate once;
on SQLite ``BEGIN IMMEDIATE`` serialises them.

A new revision after changing ``schema.py``: migrate a scratch database to head, then
``alembic.command.revision(alembic_config(url=URL), autogenerate=True, message=...)`` and
edit the generated script (``tests/storage`` fails while the two disagree).

Alembic (and Mako, Pygments behind it) costs ~0.15 s CPU to import, more than protecting a
5 MB draft: a database already at head is recognised without it (the head read from the
scripts' ``revision``/``down_revision`` lines, the current one from ``alembic_version``),
so commands on a migrated database never import Alembic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from service.storage import revisions
from service.storage.engine import IMMEDIATE
from service.storage.revisions import MIGRATIONS_DIR

if TYPE_CHECKING:
    from alembic.config import Config

_LOCK_KEY = 0x53454E44  # "SEND": any constant shared by every SendGuard instance




def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """A Config for ``alembic.command`` calls (``revision --autogenerate`` included)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def script_head() -> str | None:
    """The head revision read from the scripts' text (``revisions.script_head``)."""
    return revisions.script_head(MIGRATIONS_DIR)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def at_script_head(engine: Engine) -> bool:
    """True when the database's one ``alembic_version`` row is the scripts' head."""
    head = script_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:   # no table yet: a new database
        return False
    return [tuple(r) for r in rows] == [(head,)]


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and at_script_head(engine):
        return
    from alembic import command

    with engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.connect() as conn:
        conn.execution_options(**{IMMEDIATE: True})
        with conn.begin():
            command.downgrade(alembic_config(conn), revision)
