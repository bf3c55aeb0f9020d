"""``sendguard keys purge``, ``keys rewrap`` and ``keys list --state`` through the real CLI
entry point, on SQLite and on a real PostgreSQL server (``DATABASE_URL``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.commands import keys as commands
from service.delivery.material import open_package
from service.delivery.packages import create_package_for
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper, key_id
from service.storage import Package, Store
from tests.support.cli import Run, run
from tests.support.smtp import SmtpServer

from .helpers import BASE_URL, OTHER, PARTNER, SENDER

OLD, NEW, LOST = "11" * 32, "22" * 32, "33" * 32
__all__ = ["Run", "run"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_url: str,
        smtp: SmtpServer) -> str:
    """The CLI's environment on each backend in turn."""
    return _environment(tmp_path, monkeypatch, backend_url, smtp)


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str,
               smtp: SmtpServer) -> str:
    """For checks that never reach the database's own behaviour."""
    return _environment(tmp_path, monkeypatch, db_url, smtp)


def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_url: str,
                 smtp: SmtpServer) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("SENDGUARD_POLICY", "SENDGUARD_KMS_KEY", "SENDGUARD_ENV", "LC_ALL",
                 "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("DATABASE_URL", backend_url)
    monkeypatch.setenv("SENDGUARD_MASTER_KEY", OLD)
    monkeypatch.setenv("SENDGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SENDGUARD_BASE_URL", BASE_URL)
    monkeypatch.setenv("SENDGUARD_MAILER", smtp.url)
    return backend_url


def packages(url: str, n: int, *, days_ago: int, revoke: bool, key: str = OLD) -> list[Package]:
    """``n`` packages made ``days_ago`` days ago (7-day expiry), revoked a minute later."""
    made = datetime.now(UTC) - timedelta(days=days_ago)
    with Store.from_url(url) as store:
        out = []
        for i in range(n):
            p = create_package_for(store, LocalKeyWrapper(key), sender=SENDER,
                                   recipients=[PARTNER, OTHER], key_recipients=[PARTNER],
                                   zip_filename="attachments.zip", file_names=[f"{i}.pdf"],
                                   password=f"pw-{i:04d}-" + "q" * 24, policy=Policy(),
                                   now=made, message_id=f"<c{i}@corp>")
            if revoke:
                p = store.revoke(p.id, SENDER, made + timedelta(minutes=1))
            out.append(p)
        return out


def test_keys_purge_dry_run_then_purge(env: str, run: Run) -> None:
    old = packages(env, 3, days_ago=40, revoke=True)
    recent = packages(env, 1, days_ago=10, revoke=True)
    live = packages(env, 1, days_ago=0, revoke=False)

    code, out, _ = run("keys", "purge", "--dry-run")
    assert code == 0
    assert out.strip() == ("3 packages ended more than 30d ago; their keys would be "
                           "erased (dry run: nothing changed).")
    assert json.loads(run("keys", "purge", "--dry-run", "--older-than", "5d", "--json")[1]) \
        == {"would_purge": 4, "older_than_days": 5.0, "dry_run": True}
    assert all(json.loads(run("keys", "show", p.id, "--json")[1])["purged_at"] is None
               for p in old)

    code, out, _ = run("keys", "purge")
    assert code == 0 and out.startswith("Erased the keys of 3 packages that ended more "
                                        "than 30d ago")
    code, out, _ = run("keys", "show", old[0].id)
    assert "key erased:" in out and "state:        revoked" in out
    shown = json.loads(run("keys", "show", old[0].id, "--json")[1])
    assert shown["purged_at"] is not None and shown["state"] == "revoked"
    assert json.loads(run("keys", "purge", "--json")[1])["purged"] == 0     # idempotent
    with Store.from_url(env) as store:
        assert store.get_package(recent[0].id).purged_at is None
        assert open_package(LocalKeyWrapper(OLD), store.get_package(live[0].id))
        events = store.search_audit(action="package.purged")
    assert sorted(e.package_id or "" for e in events) == sorted(p.id for p in old)
    assert {e.actor for e in events} == {commands._actor()}

    listed = json.loads(run("keys", "list", "--state", "revoked", "--json")[1])["packages"]
    assert {p["package_id"] for p in listed} == {p.id for p in old + recent}
    listed = json.loads(run("keys", "list", "--state", "held", "--json")[1])["packages"]
    assert [p["package_id"] for p in listed] == [live[0].id]


@pytest.mark.parametrize("argv", [
    pytest.param(["keys", "purge", "--older-than", "30x"], id="bad-duration"),
    pytest.param(["keys", "purge", "--older-than=-3d"], id="negative-duration"),
    pytest.param(["worker", "--once", "--purge-older-than", "soon"], id="bad-worker-duration"),
])
def test_bad_maintenance_options_exit_2_with_one_line(sqlite_env: str, run: Run,
                                                      argv: list[str]) -> None:
    code, out, err = run(*argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err


def test_keys_list_refuses_an_unknown_state(sqlite_env: str, run: Run) -> None:
    code, out, err = run("keys", "list", "--state", "lost")     # one line, exit 2
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "'lost' is not one of" in err and "sendguard keys list --help" in err


def test_keys_purge_speaks_japanese(sqlite_env: str, run: Run,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    packages(sqlite_env, 1, days_ago=40, revoke=True)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    code, out, _ = run("keys", "purge")
    assert code == 0 and "1件の鍵を消去しました" in out


def test_keys_rewrap_after_rotation(env: str, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    made = packages(env, 4, days_ago=1, revoke=False)
    monkeypatch.setenv("SENDGUARD_MASTER_KEY", f"{NEW},{OLD}")
    monkeypatch.setattr(commands, "PROGRESS_EVERY_S", 0.0)
    target = f"master-key:{key_id(bytes.fromhex(NEW)).hex()}"

    code, out, err = run("keys", "rewrap", "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out) == {"total": 4, "seen": 4, "rewrapped": 4, "current": 0,
                               "changed": 0, "failed": 0, "history": "absent",
                               "target": target, "dry_run": True, "failed_packages": []}
    code, out, err = run("keys", "rewrap")
    assert code == 0, err
    assert out.strip() == (f"Keys re-wrapped under {target}: 4 of 4; already current: 0, "
                           "changed meanwhile: 0, failed: 0.")
    assert "rewrap: 4/4 checked, 4 re-wrapped" in err          # progress on stderr
    code, out, _ = run("keys", "rewrap")
    assert code == 0 and ": 0 of 4;" in out and "already current: 4" in out

    with Store.from_url(env) as store:
        [first, second] = store.search_audit(action="keys.rewrapped")
        for p in made:   # the old key can go now
            assert open_package(LocalKeyWrapper(NEW), store.get_package(p.id)) \
                == open_package(LocalKeyWrapper(OLD), p)
    assert first.actor == commands._actor()
    assert first.data == {"total": 4, "seen": 4, "rewrapped": 4, "current": 0, "changed": 0,
                          "failed": 0, "history": "absent", "target": target,
                          "failed_packages": []}
    assert (second.data["rewrapped"], second.data["current"]) == (0, 4)


def test_keys_rewrap_names_keys_that_do_not_open(env: str, run: Run,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    packages(env, 2, days_ago=1, revoke=False)
    [lost] = packages(env, 1, days_ago=1, revoke=False, key=LOST)
    monkeypatch.setenv("SENDGUARD_MASTER_KEY", f"{NEW},{OLD}")
    code, out, err = run("keys", "rewrap")
    assert code == 1
    assert ": 2 of 3;" in out and "failed: 1." in out
    assert lost.id in err and "keep the old master key" in err
    with Store.from_url(env) as store:
        [event] = store.search_audit(action="keys.rewrapped")
    assert event.data["failed"] == 1 and event.data["failed_packages"] == [lost.id]
