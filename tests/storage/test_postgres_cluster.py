"""The throw-away PostgreSQL helper other suites rely on (tests/support/postgres.py)."""

from __future__ import annotations

import os
import subprocess
import sys
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


PROBE = """
from tests.support.postgres import postgres_url

def test_probe(postgres_url):
    assert postgres_url
"""


@pytest.mark.parametrize(("ci", "outcome"), [
    pytest.param("false", "1 skipped", id="skip-outside-ci"),
    pytest.param("true", "1 error", id="fail-in-ci"),
])
def test_missing_postgresql_skips_outside_ci_and_fails_in_ci(
        tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {**os.environ, "CI": ci, "SENDGUARD_TEST_PG_BINDIR": str(tmp_path / "none"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert outcome in proc.stdout, proc.stdout + proc.stderr
    assert ("PostgreSQL is required in CI" in proc.stdout) == (ci == "true")


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
