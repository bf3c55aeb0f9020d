"""``sendguard protect``'s key record writer without SQLAlchemy (``storage.sqlite_keys``):
the same rows as ``Store.create_package`` (compared column by column, SQLite storage
types included), read back by the normal ``Store``, the same refusals, used only on a
database at the migrations' head, and ``protect`` as a process imports no database
stack when it is."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from service.errors import ConflictError, InputError
from service.storage import Store, engine
from service.storage.package_rows import hash_token, new_package_id
from service.storage.sqlite_keys import BUSY_TIMEOUT_MS, SQLiteKeyRecords, sqlite_path

NOW = datetime(2026, 12, 3, 9, 30, 0, tzinfo=UTC)          # microsecond 0 on purpose
JST = timezone(timedelta(hours=9))
SENDER = "sato@corp.example.jp"
PARTNER = "tanaka@partner.example.com"
TABLES = ("packages", "grants", "audit_events")


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lean") / "sendguard.db"
    with Store.from_url(f"sqlite:///{path}") as s:
        s.upgrade()
    return path


def copy_of(migrated: Path, tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    target.write_bytes(migrated.read_bytes())
    return f"sqlite:///{target}"


@pytest.fixture
def pair(migrated: Path, tmp_path: Path) -> Iterator[tuple[Store, SQLiteKeyRecords, Store]]:
    """(Store on database A, the lean writer on database B, Store on database B)."""
    a, b = copy_of(migrated, tmp_path, "a.db"), copy_of(migrated, tmp_path, "b.db")
    lean = SQLiteKeyRecords.at_head(b)
    assert lean is not None
    with Store.from_url(a) as store_a, Store.from_url(b) as store_b:
        yield store_a, lean, store_b


def record(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        sender=SENDER, recipients=[PARTNER, "suzuki@other.example.net"],
        zip_filename="attachments-20261203.zip",
        file_names=["見積書 2026年度.xlsx", "顧客一覧.csv", "a\"quote'.txt"],
        wrapped_password=os.urandom(93), release_mode="delay", now=NOW,
        expires_at=NOW + timedelta(days=7), release_at=NOW + timedelta(minutes=10),
        reveal_limit=5, message_id="<cli-1@corp.example.jp>",
        grants=[(PARTNER, hash_token("link-token-1"))], package_id=new_package_id())
    base.update(over)
    return base


CASES = [
    pytest.param({}, id="delay-one-grant"),
    pytest.param(dict(release_mode="manual", release_at=None, grants=[], message_id=None),
                 id="manual-no-message-id"),
    pytest.param(dict(release_mode="sender_only", grants=[(SENDER, hash_token("t-s"))]),
                 id="sender-only"),
    pytest.param(dict(grants=[(PARTNER, hash_token("t1")),
                              ("suzuki@other.example.net", hash_token("t2"))]),
                 id="two-grants"),
    pytest.param(dict(now=datetime(2026, 12, 3, 18, 30, 0, 123456, tzinfo=JST),
                      expires_at=datetime(2026, 12, 10, 18, 0, tzinfo=JST),
                      release_at=datetime(2026, 12, 3, 18, 40, 0, 1, tzinfo=JST)),
                 id="japan-time-with-microseconds"),
    pytest.param(dict(gmail_message_id="18c2f0a1b2c3d4e5", subject_hash=os.urandom(32),
                      reveal_limit=1000), id="gmail-id-subject-hash"),
]


def rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    """Every row with each value's SQLite storage class, ids (autoincrement) aside."""
    path = sqlite_path(str(store._engine.url))
    assert path is not None
    conn = sqlite3.connect(path)
    try:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                if not (table != "packages" and r[1] == "id")]
        select = ", ".join(f"{c}, typeof({c})" for c in cols)
        return conn.execute(f"SELECT {select} FROM {table} ORDER BY rowid").fetchall()  # noqa: S608
    finally:
        conn.close()


@pytest.mark.parametrize("over", CASES)
def test_the_same_rows_as_the_store_and_read_back_by_it(
        over: dict[str, Any], pair: tuple[Store, SQLiteKeyRecords, Store]) -> None:
    store_a, lean, store_b = pair
    values = record(**over)
    made_by_store = store_a.create_package(**values)
    made_lean = lean.create_package(**values)
    assert made_lean == made_by_store
    for table in TABLES:
        assert rows(store_b, table) == rows(store_a, table), table
    assert store_b.get_package(made_lean.id) == made_lean
    assert store_b.list_grants(made_lean.id) == store_a.list_grants(made_by_store.id)
    [ev_a] = store_a.search_audit(package_id=made_by_store.id)
    [ev_b] = store_b.search_audit(package_id=made_lean.id)
    assert (ev_b.at, ev_b.actor, ev_b.action, ev_b.message_id, ev_b.data) == (
        ev_a.at, ev_a.actor, ev_a.action, ev_a.message_id, ev_a.data)


BAD = [
    pytest.param(dict(sender="not an address"), InputError, id="bad-sender"),
    pytest.param(dict(release_mode="manual"), InputError, id="manual-with-release-at"),
    pytest.param(dict(release_mode="someday"), InputError, id="unknown-mode"),
    pytest.param(dict(grants=[("stranger@evil.example", hash_token("x"))]), InputError,
                 id="grant-to-a-non-recipient"),
    pytest.param(dict(expires_at=NOW - timedelta(seconds=1)), InputError, id="expired"),
    pytest.param(dict(now=datetime(2026, 12, 3, 9, 30)), ValueError, id="naive-time"),
    pytest.param(dict(file_names=[]), InputError, id="no-files"),
    pytest.param(dict(file_names=["a\x00b.txt"]), InputError, id="nul-in-a-name"),
    pytest.param(dict(wrapped_password=b""), InputError, id="empty-key"),
    pytest.param(dict(package_id="short"), InputError, id="bad-package-id"),
]


@pytest.mark.parametrize(("over", "error"), BAD)
def test_refused_like_the_store_and_nothing_written(
        over: dict[str, Any], error: type[Exception],
        pair: tuple[Store, SQLiteKeyRecords, Store]) -> None:
    store_a, lean, store_b = pair
    values = record(**over)
    with pytest.raises(error) as by_store:
        store_a.create_package(**values)
    with pytest.raises(error) as by_lean:
        lean.create_package(**values)
    assert str(by_lean.value) == str(by_store.value)
    assert all(rows(store_b, t) == [] for t in TABLES)


def test_a_taken_id_or_token_is_a_conflict(pair: tuple[Store, SQLiteKeyRecords, Store]
                                           ) -> None:
    _, lean, store_b = pair
    first = lean.create_package(**record())
    with pytest.raises(ConflictError):
        lean.create_package(**record(package_id=first.id))
    with pytest.raises(ConflictError):                        # the same link token hash
        lean.create_package(**record())
    assert [p.id for p in store_b.list_recent_packages()] == [first.id]
    assert len(store_b.search_audit(action="package.created")) == 1


def test_revoke_goes_through_the_store(pair: tuple[Store, SQLiteKeyRecords, Store]) -> None:
    _, lean, store_b = pair
    made = lean.create_package(**record())
    assert lean.revoke(made.id, SENDER, NOW + timedelta(minutes=1)).state == "revoked"
    assert store_b.get_package(made.id).state == "revoked"


def test_only_an_sqlite_file_at_head(migrated: Path, tmp_path: Path) -> None:
    url = copy_of(migrated, tmp_path, "c.db")
    assert SQLiteKeyRecords.at_head(url) is not None
    path = sqlite_path(url)
    assert path is not None
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0001'")
    conn.commit()
    conn.close()
    assert SQLiteKeyRecords.at_head(url) is None               # behind: Store migrates it
    (tmp_path / "empty.db").write_bytes(b"")
    for other in (f"sqlite:///{tmp_path}/missing.db", f"sqlite:///{tmp_path}/empty.db",
                  "sqlite://", "sqlite:///:memory:", f"sqlite:///{path}?mode=ro",
                  "postgresql://u@127.0.0.1/db"):
        assert SQLiteKeyRecords.at_head(other) is None, other
    assert not (tmp_path / "missing.db").exists()               # nothing created


def test_busy_timeout_is_the_engines() -> None:
    assert BUSY_TIMEOUT_MS == engine.SQLITE_BUSY_TIMEOUT_MS


def test_protect_as_a_process_imports_no_database_stack(tmp_path: Path) -> None:
    """On a migrated database the command never imports SQLAlchemy or Alembic (issue 12:
    start-up), and what it wrote is the record ``keys show`` reads through ``Store``."""
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = PARTNER
    msg["Message-ID"] = "<lean-1@corp.example.jp>"
    msg.set_content("添付をご確認ください。")
    msg.add_attachment(b"PK\x03\x04" + os.urandom(3000), maintype="application",
                       subtype="octet-stream", filename="見積書.xlsx")
    (tmp_path / "in.eml").write_bytes(msg.as_bytes())
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SENDGUARD_") and k not in ("DATABASE_URL", "LC_ALL")}
    env.update(LANG="en_US.UTF-8", SENDGUARD_VAR_DIR=str(tmp_path / "var"))

    def protect() -> set[str]:
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "service", "protect",
                            "in.eml", "-o", "out.eml", "--json", "--key-to", PARTNER],
                           capture_output=True, text=True, cwd=tmp_path, env=env,
                           check=False, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        return {line.split("|")[-1].strip() for line in r.stderr.splitlines()
                if line.startswith("import time:")}

    first = protect()                         # a new database: Store creates and migrates it
    assert "sqlalchemy" in first and "service.storage.sqlite_keys" in first
    again = protect()
    assert "service.storage.sqlite_keys" in again and "service.protect.archive" in again
    for heavy in ("sqlalchemy", "alembic", "mako", "flask", "psycopg", "gunicorn", "granian",
                  "service.storage.store", "service.gmail.client", "service.gmail.model",
                  "service.commands.history", "tomllib", "babel",  # no policy file, usual LANG
                  # nor what only other commands or rare paths use (issue 12: start-up)
                  "service.commands.check", "service.policy.catalogue", "logging",
                  "threading", "signal", "mimetypes"):
        assert heavy not in again, heavy
    shown = subprocess.run([sys.executable, "-m", "service", "keys", "list", "--json"],
                           capture_output=True, text=True, cwd=tmp_path, env=env,
                           check=True, timeout=120).stdout
    assert shown.count(PARTNER) == 2 and shown.count('"held"') == 2
