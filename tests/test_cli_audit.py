"""``sendguard audit search``: filters and CSV export over a real database file, in
process (``tests/support/cli.py``; the real process meets ``audit search`` in
tests/test_cli_failures.py)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.storage import Store
from tests.support.cli import Cli, Result, cli

__all__ = ["cli"]

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated database with three events, made once (migrating is ~0.2 s)."""
    path = tmp_path_factory.mktemp("audit") / "audit.db"
    url = f"sqlite:///{path}"
    store = Store.from_url(url)
    store.upgrade()
    store.append_audit("taro@example.co.jp", "send.confirmed", now=T0,
                       message_id="<m1@example.co.jp>",
                       data={"shown": ["many_visible_recipients", "external_recipients"],
                             "recipients": ["a@gmail.com", "b@b-corp.co.jp"]})
    store.append_audit("taro@example.co.jp", "finding.overridden",
                       now=T0.replace(day=21), message_id="<m1@example.co.jp>",
                       data={"overridden": ["many_visible_recipients"],
                             "reason": "会員本人の同意あり"})
    store.append_audit("hanako@example.co.jp", "send.confirmed", now=T0.replace(day=22),
                       data={"shown": ["confidential_keyword"]})
    store.close()        # the last connection folds the WAL into the file
    return path


@pytest.fixture
def db(seeded: Path, tmp_path: Path) -> str:
    """A copy of it for each test."""
    target = tmp_path / "audit.db"
    shutil.copyfile(seeded, target)
    return f"sqlite:///{target}"


Search = Callable[..., Result]


@pytest.fixture
def run(cli: Cli) -> Search:
    def search(url: str, *args: str) -> Result:
        return cli("audit", "search", *args, cwd=ROOT, env={"DATABASE_URL": url})
    return search


def lines(r: Result) -> list[dict[str, object]]:
    assert r.returncode == 0, r.stderr
    return [json.loads(x) for x in r.stdout.splitlines()]


CASES = [
    ("all", (), 3),
    ("by-user", ("--user", "taro@example.co.jp"), 2),
    ("by-code", ("--code", "many_visible_recipients"), 2),
    ("by-code-other", ("--code", "confidential_keyword"), 1),
    ("by-action", ("--action", "finding.overridden"), 1),
    ("since-date", ("--since", "2026-11-21"), 2),
    ("until-date-inclusive", ("--until", "2026-11-21"), 2),
    ("range", ("--since", "2026-11-21", "--until", "2026-11-21"), 1),
    ("message-id", ("--message-id", "<m1@example.co.jp>"), 2),
    ("limit", ("--limit", "1"), 1),
    ("nothing", ("--user", "nobody@example.co.jp"), 0),
]


@pytest.mark.parametrize("args,count", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filters(run: Search, db: str, args: tuple[str, ...], count: int) -> None:
    assert len(lines(run(db, "--json", *args))) == count


def test_csv_export_keeps_japanese_and_decisions(run: Search, db: str, tmp_path: Path) -> None:
    out = tmp_path / "evidence.csv"
    r = run(db, "--csv", str(out), "--user", "taro@example.co.jp")
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == ["send.confirmed", "finding.overridden"]
    assert json.loads(rows[1]["data"])["reason"] == "会員本人の同意あり"
    assert "b@b-corp.co.jp" in rows[0]["data"]


@pytest.mark.parametrize("args,needle", [
    (("--since", "yesterday"), "ISO 8601"),
    (("--limit", "0"), "--limit"),
    (("--since", "2026-11-22", "--until", "2026-11-20"), "--since"),
    (("--code", "bad code!"), "code"),
], ids=["bad-date", "bad-limit", "inverted-range", "bad-code"])
def test_bad_arguments_exit_2(run: Search, db: str, args: tuple[str, ...], needle: str) -> None:
    r = run(db, *args)
    assert r.returncode == 2 and needle in r.stderr and "Traceback" not in r.stderr


def test_empty_database_says_to_upgrade(run: Search, tmp_path: Path) -> None:
    r = run(f"sqlite:///{tmp_path}/empty.db")
    assert r.returncode == 2 and "db upgrade" in r.stderr
