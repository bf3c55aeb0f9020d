"""Migrations, URLs, health: the store comes up from an empty database on both backends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.errors import ConfigError
from service.storage import Store
from service.storage.engine import normalize_url
from service.storage.migrate import downgrade, head_revision
from service.storage.schema import metadata

TABLES = {"packages", "grants", "audit_events", "rate_counters", "alembic_version",
          "history_keys", "history_recipients", "history_names", "history_threads",
          "history_messages", "history_imports", "history_orgs", "history_together"}


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """Here every test starts from a database that has never been migrated."""
    return empty_db_url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.from_url(db_url) as s:
        s.upgrade()
        yield s


def test_upgrade_from_empty_creates_every_table(db_url: str, raw: sa.Engine) -> None:
    with Store.from_url(db_url) as s:
        assert not s.schema_is_current()
        assert set(sa.inspect(raw).get_table_names()) == set()
        s.upgrade()
        assert s.schema_is_current()
        s.upgrade()  # a second run is a no-op, not an error
    assert set(sa.inspect(raw).get_table_names()) == TABLES
    with raw.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() \
            == head_revision()


def test_migrations_match_the_schema_module(store: Store, raw: sa.Engine) -> None:
    """The migration scripts and ``schema.py`` describe the same tables and indexes."""
    with raw.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []


def test_no_column_can_hold_a_subject_or_body(store: Store, raw: sa.Engine) -> None:
    columns = {c["name"] for t in ("packages", "grants", "audit_events")
               for c in sa.inspect(raw).get_columns(t)}
    assert not {"subject", "body", "token", "code", "password"} & columns
    assert {"subject_hash", "token_hash", "code_hash", "wrapped_password"} <= columns


def test_downgrade_to_base_and_up_again(store: Store, raw: sa.Engine, db_url: str) -> None:
    from service.storage.engine import create_engine

    engine = create_engine(db_url)
    try:
        downgrade(engine, "base")
        assert set(sa.inspect(raw).get_table_names()) <= {"alembic_version"}
        store.upgrade()
        assert store.schema_is_current()
    finally:
        engine.dispose()


def test_concurrent_upgrades_migrate_once(db_url: str, raw: sa.Engine) -> None:
    stores = [Store.from_url(db_url) for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def run(s: Store) -> None:
        try:
            barrier.wait()
            s.upgrade()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert errors == []
    assert set(sa.inspect(raw).get_table_names()) == TABLES


def test_ping_answers(store: Store) -> None:
    assert store.ping() is True


def test_ping_is_false_when_postgresql_does_not_answer() -> None:
    with Store.from_url("postgresql://u:p@127.0.0.1:1/db?connect_timeout=2") as s:
        assert s.ping() is False


def test_ping_is_false_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()  # a directory where the database file should be
    with Store.from_url(f"sqlite:///{tmp_path}/dir.db") as s:
        assert s.ping() is False


def test_unusable_sqlite_directory_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ConfigError, match="directory"):
        Store.from_url(f"sqlite:///{tmp_path}/file/sendguard.db")


@pytest.mark.parametrize(("url", "driver"), [
    pytest.param("postgresql://u:p@db/sg", "postgresql+psycopg", id="postgresql"),
    pytest.param("postgres://u:p@db/sg", "postgresql+psycopg", id="postgres-alias"),
    pytest.param("postgresql+psycopg://u:p@/sg?host=/cloudsql/p:r:i", "postgresql+psycopg",
                 id="cloud-sql-socket"),
    pytest.param("sqlite:///var/sendguard.db", "sqlite+pysqlite", id="sqlite-file"),
    pytest.param("sqlite://", "sqlite+pysqlite", id="sqlite-memory"),
])
def test_urls_are_normalised(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.parametrize("url", [
    pytest.param("mysql://u:p@db/sg", id="mysql"),
    pytest.param("postgresql+psycopg2://u:p@db/sg", id="psycopg2"),
    pytest.param("not a url", id="garbage"),
    pytest.param("", id="empty"),
])
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        Store.from_url(url)


def test_pool_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pool size"):
        Store.from_url(f"sqlite:///{tmp_path}/x.db", pool_size=0)


def test_sqlite_file_store_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "sendguard.db"
    with Store.from_url(f"sqlite:///{path}") as s:
        s.upgrade()
        assert path.exists()
        with s._read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000


def test_memory_store_is_one_database_shared_by_threads() -> None:
    from tests.storage.helpers import make_package

    with Store.from_url("sqlite://") as s:
        s.upgrade()
        made: list[str] = []
        threads = [threading.Thread(target=lambda: made.append(make_package(s, tokens=()).id))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(p.id for p in s.list_packages("sato@corp.example")) == sorted(made)
        assert len(made) == 4
