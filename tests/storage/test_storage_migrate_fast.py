"""A database already at head is recognised without importing Alembic (CLI start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.storage import Store, migrate


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    return empty_db_url


def test_script_head_is_alembics_head() -> None:
    assert migrate.script_head() == migrate.head_revision() is not None


def test_at_head_only_after_upgrade(db_url: str) -> None:
    with Store.from_url(db_url) as s:
        assert not migrate.at_script_head(s._engine)
        s.upgrade()
        assert migrate.at_script_head(s._engine)
        assert s.schema_is_current()


@pytest.mark.parametrize(("files", "expected"), [
    ({"0001_a.py": 'revision = "0001"\ndown_revision = None\n',
      "0002_b.py": 'revision: str = "0002"\ndown_revision: str | None = "0001"\n'}, "0002"),
    ({"0001_a.py": 'revision = "0001"\ndown_revision = None\n',
      "0002_b.py": 'revision = "0002"\ndown_revision = ("0001", "x")\n'}, None),
    ({"0001_a.py": 'revision = "0001"\ndown_revision = None\n',
      "0002_b.py": 'revision = "0002"\ndown_revision = "0001"\n',
      "0003_c.py": 'revision = "0003"\ndown_revision = "0001"\n'}, None),
], ids=["chain", "merge-revision", "two-heads"])
def test_anything_but_a_simple_chain_asks_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  files: dict[str, str],
                                                  expected: str | None) -> None:
    (tmp_path / "versions").mkdir()
    for name, text in files.items():
        (tmp_path / "versions" / name).write_text(text)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    assert migrate.script_head() == expected


def test_upgrade_of_a_current_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    with Store.from_url(url) as s:
        s.upgrade()
    code = ("import sys\nfrom service.storage import Store\n"
            f"s = Store.from_url({url!r}); s.upgrade(); s.close()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
