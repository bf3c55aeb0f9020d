"""The throw-away PostgreSQL helper other suites rely on (tests/support/postgres.py)."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.postgres


def test_server_runs_as_a_non_root_user_on_loopback(postgres_cluster: PostgresCluster,
                                                    postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()
        database = conn.execute("SELECT current_database()").fetchone()
    assert data_dir is not None and listen is not None and database is not None
    assert Path(data_dir[0]).stat().st_uid != 0
    assert listen[0] == "127.0.0.1"
    assert database[0] == "session"


def test_a_wrong_password_is_refused(postgres_cluster: PostgresCluster) -> None:
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host="127.0.0.1", port=postgres_cluster.port, user="sendguard",
                        password="wrong", dbname="postgres", connect_timeout=5)


@pytest.mark.parametrize("name", ['x"; DROP DATABASE postgres; --', "a b", ""])
def test_bad_database_names_are_refused(postgres_cluster: PostgresCluster, name: str) -> None:
    with pytest.raises(ValueError, match="bad database name"):
        postgres_cluster.create_database(name)


@pytest.mark.parametrize("ending", ["stop", "test-process-gone"])
def test_the_cluster_is_removed_at_the_end(ending: str) -> None:
    """``stop()``, or the watchdog when the test process dies without calling it."""
    try:
        cluster = PostgresCluster()
    except FileNotFoundError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("PostgreSQL not installed")
    cluster.start()
    root, port = cluster.root, cluster.port
    try:
        assert root is not None and (root / "data" / "PG_VERSION").exists()
        with psycopg.connect(cluster.create_database().replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        if ending == "test-process-gone":
            watchdog = cluster._watchdog
            assert watchdog is not None and watchdog.stdin is not None
            watchdog.stdin.close()  # what the kernel does when this process is killed
            watchdog.wait(timeout=30)
        else:
            cluster.stop()
        assert not root.exists()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host="127.0.0.1", port=port, user="sendguard",
                            password=cluster.password, dbname="postgres", connect_timeout=5)
    finally:
        cluster.stop()  # stopping again is harmless
