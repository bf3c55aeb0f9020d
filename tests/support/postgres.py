"""A throw-away PostgreSQL cluster for tests (SPEC section 8: real parts, no mocks).

``PostgresCluster`` runs Debian's ``initdb`` in a fresh temporary directory, starts the
server on 127.0.0.1 on a free port (unix sockets stay inside that directory) and removes
everything on ``stop()``. PostgreSQL refuses to run as root, so when the tests run as root
the server runs as ``nobody`` through ``runuser``. Password authentication (SCRAM) with a
random password keeps other local users out of the cluster while it lives.

Use from any conftest::

    from tests.support.postgres import postgres_cluster, postgres_url  # noqa: F401

``postgres_cluster`` (session) is the running cluster, one per test process however many
suites import it; ``postgres_url`` (session) the URL of one database made for the run.
``cluster.create_database()`` makes more databases and ``cluster.create_schema()`` a fresh
schema (faster) for one test. Without PostgreSQL installed the fixtures skip, except under
``CI=true`` where they fail (a missing real part must never pass silently in CI).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

SERVER_USER = "nobody"
SUPERUSER = "sendguard"
START_TIMEOUT_S = 30
WATCHDOG = """
import os, shutil, subprocess, sys
sys.stdin.buffer.read()  # returns at EOF: the test process closed the pipe or died
root, pg_ctl, *prefix = sys.argv[1:]
data = os.path.join(root, "data")
if os.path.exists(os.path.join(data, "postmaster.pid")):
    subprocess.run([*prefix, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
                   capture_output=True, check=False)
shutil.rmtree(root, ignore_errors=True)
"""


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None. ``SENDGUARD_TEST_PG_BINDIR``
    names another one (a non-Debian install), or a wrong one to try the missing case."""
    forced = os.environ.get("SENDGUARD_TEST_PG_BINDIR")
    if forced is not None:
        return Path(forced) if (Path(forced) / "initdb").exists() else None
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        best = max(found, key=lambda p: _version_key(Path(p).parent.parent.name))
        return Path(best).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """One initdb-made cluster on loopback; ``start()`` then ``stop()`` (or ``with``)."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise FileNotFoundError("PostgreSQL's initdb was not found "
                                    "(Debian package postgresql)")
        self.bindir = found
        self.password = secrets.token_urlsafe(18)
        self.port = 0
        self.root: Path | None = None
        self._as_root = os.geteuid() == 0
        self._counter = 0
        self._databases: set[str] = set()
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        # A directory of our own under the system temp dir: pytest's tmp_path is private to
        # root, which the server user could not enter.
        root = Path(tempfile.mkdtemp(prefix="sendguard-pg-"))
        self.root = root
        try:
            if self._as_root:
                user = pwd.getpwnam(SERVER_USER)
                os.chown(root, user.pw_uid, user.pw_gid)
            pwfile = root / "pw"
            pwfile.write_text(self.password + "\n")
            if self._as_root:
                os.chown(pwfile, user.pw_uid, user.pw_gid)
            self._run([str(self.bindir / "initdb"), "-D", str(root / "data"),
                       "-U", SUPERUSER, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                       "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"])
            pwfile.unlink()
            self._start_server(root)
            self._start_watchdog(root)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self, root: Path) -> None:
        last = ""
        for _ in range(3):  # the free port may be taken between probe and bind: retry
            self.port = _free_port()
            opts = (f"-h 127.0.0.1 -p {self.port} -k {root} -F "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                    "-c max_connections=200 -c shared_buffers=32MB")
            proc = self._run([str(self.bindir / "pg_ctl"), "-D", str(root / "data"),
                              "-l", str(root / "log"), "-w", "-t", str(START_TIMEOUT_S),
                              "-o", opts, "start"], check=False)
            if proc.returncode == 0:
                return
            last = proc.stdout + proc.stderr + self._log_tail()
        raise RuntimeError(f"PostgreSQL did not start: {last}")

    def _start_watchdog(self, root: Path) -> None:
        """A helper that stops the server and removes its files when our pipe to it
        closes: also when this process is killed and never reaches ``stop()``."""
        prefix = ["runuser", "-u", SERVER_USER, "--"] if self._as_root else []
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(root), str(self.bindir / "pg_ctl"), *prefix],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)

    def stop(self) -> None:
        root, self.root = self.root, None
        if root is not None:
            if (root / "data" / "postmaster.pid").exists():
                self._run([str(self.bindir / "pg_ctl"), "-D", str(root / "data"),
                           "-m", "immediate", "-w", "stop"], check=False)
            shutil.rmtree(root, ignore_errors=True)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            assert watchdog.stdin is not None
            watchdog.stdin.close()
            watchdog.wait(timeout=30)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return (f"postgresql+psycopg://{SUPERUSER}:{self.password}"
                f"@127.0.0.1:{self.port}/{database}")

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        if name is None:
            self._counter += 1
            name = f"t{self._counter}_{secrets.token_hex(4)}"
        if not name or not name.replace("_", "").isalnum() or not name.isascii():
            raise ValueError(f"bad database name {name!r}")
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                             password=self.password, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._databases.add(name)
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        """The URL of database ``name``, made on first request."""
        return self.url(name) if name in self._databases else self.create_database(name)

    def create_schema(self, database: str = "schemas") -> str:
        """A new empty schema, first on the search path of the returned URL: as good as a
        fresh database for code that uses unqualified names, and ~5x faster to make."""
        import psycopg
        from psycopg import sql

        self.ensure_database(database)
        self._counter += 1
        name = f"s{self._counter}_{secrets.token_hex(4)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                             password=self.password, dbname=database,
                             autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        return f"{self.url(database)}?options=-csearch_path%3D{name}"

    # -- helpers -------------------------------------------------------------------------

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        if self._as_root:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              cwd=self.root or "/", check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): "
                               f"{proc.stdout}{proc.stderr}")
        return proc

    def _log_tail(self) -> str:
        if self.root is None:
            return ""
        try:
            return (self.root / "log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""


_shared: PostgresCluster | None = None
_failed: BaseException | None = None


def shared_cluster() -> PostgresCluster:
    """One running cluster per test process, whichever suites ask for it; stopped at exit.
    Raises FileNotFoundError when PostgreSQL is not installed; a failed start is not
    retried by every later test."""
    global _shared, _failed
    if _failed is not None:
        raise _failed
    if _shared is None:
        try:
            cluster = PostgresCluster()
            cluster.start()
        except BaseException as exc:
            _failed = exc
            raise
        atexit.register(cluster.stop)
        _shared = cluster
    return _shared


def _unavailable(reason: str) -> NoReturn:
    """Skip outside CI; in CI a missing real part is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def cluster_or_skip() -> PostgresCluster:
    """The shared cluster; skips the test without PostgreSQL (fails it when CI=true)."""
    try:
        return shared_cluster()
    except FileNotFoundError as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="session")
def postgres_cluster() -> PostgresCluster:
    """The running throw-away cluster (shared by every suite of this test run)."""
    return cluster_or_skip()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """``postgresql+psycopg://`` URL of the database ``session``, made once per run.
    Importing this fixture alone is enough."""
    return cluster_or_skip().ensure_database("session")
