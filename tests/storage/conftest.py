"""Fixtures for the storage suite: every ``store`` test runs on SQLite and on a real
PostgreSQL server (a throw-away cluster, see ``tests/support/postgres.py``).

Migrating a database for every test would dominate the suite's time, so each backend is
migrated once per session and each test gets it empty: a copy of the migrated SQLite file,
or the migrated PostgreSQL schema truncated. ``empty_db_url`` gives a never-migrated
database for the migration tests.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

try:
    from tests.support.postgres import PostgresCluster, postgres_cluster, postgres_url
except ModuleNotFoundError:  # the repository root is not on sys.path under plain `pytest`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.postgres import PostgresCluster, postgres_cluster, postgres_url

from service.storage import Store
from service.storage.engine import normalize_url

__all__ = ["postgres_cluster", "postgres_url"]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
TABLES = ("packages", "grants", "audit_events", "rate_counters", "history_keys",
          "history_recipients", "history_names", "history_threads", "history_messages",
          "history_imports", "history_orgs", "history_together")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of the current backend with no tables at all."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/empty.db"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_schema()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "sendguard.db"
    with Store.from_url(f"sqlite:///{path}") as s:
        s.upgrade()
    return path  # closing the last connection folded the WAL into the file


@pytest.fixture(scope="session")
def migrated_postgres(postgres_cluster: PostgresCluster) -> Iterator[tuple[str, sa.Engine]]:
    url = postgres_cluster.create_schema()
    with Store.from_url(url) as s:
        s.upgrade()
    engine = sa.create_engine(normalize_url(url), poolclass=sa.pool.NullPool)
    yield url, engine
    engine.dispose()


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of the current backend, empty for this test."""
    if backend == "sqlite":
        target = tmp_path / "sendguard.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), target)
        return f"sqlite:///{target}"
    url, engine = request.getfixturevalue("migrated_postgres")
    with engine.begin() as conn:
        # Superuser only: replica mode skips the append-only trigger for this cleanup.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
    return str(url)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.from_url(db_url)
    yield s
    s.close()


@pytest.fixture
def open_store(db_url: str) -> Iterator[Callable[[], Store]]:
    """More Stores on the same database: separate pools, like other instances."""
    opened: list[Store] = []

    def make() -> Store:
        s = Store.from_url(db_url)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def raw(db_url: str) -> Iterator[sa.Engine]:
    """A plain SQLAlchemy engine on the same database: another client looking at the rows."""
    engine = sa.create_engine(normalize_url(db_url))
    yield engine
    engine.dispose()
