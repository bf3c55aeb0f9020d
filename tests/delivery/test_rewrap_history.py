"""``sendguard keys rewrap`` re-wraps the recipient history's key too: after a rotation
that drops the old master key the history stays readable (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from service.errors import SecretError
from service.protect.keywrap import LocalKeyWrapper
from service.storage import Store
from service.storage.history import SentMessage
from tests.support.cli import Run, run

from .test_cli_maintenance import LOST, NEW, OLD, env, packages  # noqa: F401 (fixture)

__all__ = ["Run", "run"]
ME, FRIEND = "suzuki@a-sys.co.jp", "joho-jiro@b-corp.co.jp"


def _history(url: str, key: str) -> None:
    now = datetime.now(UTC)
    with Store.from_url(url) as store:
        crypto = store.history_crypto(LocalKeyWrapper(key), now)
        store.record_history(crypto, ME, SentMessage(((FRIEND, "情報 二郎"),), "<m1@a>"), now)


def _count(url: str, key: str) -> int | None:
    with Store.from_url(url) as store:
        crypto = store.existing_history_crypto(LocalKeyWrapper(key))
        return None if crypto is None else store.history_view(crypto, ME).count(FRIEND)


@pytest.mark.parametrize("lang, line", [
    ("en_US.UTF-8", "Recipient history key: re-wrapped under the current key."),
    ("ja_JP.UTF-8", "送信履歴の鍵: 現行の鍵で再ラップしました。"),
])
def test_history_survives_dropping_the_old_master_key(
        env: str, run: Run, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        lang: str, line: str) -> None:
    packages(env, 1, days_ago=1, revoke=False)
    _history(env, OLD)
    monkeypatch.setenv("LANG", lang)
    monkeypatch.setenv("SENDGUARD_MASTER_KEY", f"{NEW},{OLD}")
    code, out, err = run("keys", "rewrap", "--dry-run", "--json")
    assert code == 0, err
    assert json.loads(out)["history"] == "rewrapped"
    assert _count(env, OLD) == 1                 # dry run: unchanged, not under NEW yet
    with pytest.raises(SecretError):
        _count(env, NEW)
    code, out, err = run("keys", "rewrap")
    assert code == 0, err
    assert line in out
    assert _count(env, NEW) == 1                 # the old key can go: history still there
    with pytest.raises(SecretError):             # the old key alone opens nothing now
        _count(env, OLD)
    code, out, _ = run("keys", "rewrap", "--json")
    assert code == 0 and json.loads(out)["history"] == "current"


def test_no_history_is_absent(env: str, run: Run,  # noqa: F811
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDGUARD_MASTER_KEY", f"{NEW},{OLD}")
    code, out, err = run("keys", "rewrap", "--json")
    assert code == 0, err
    assert json.loads(out)["history"] == "absent"


def test_a_history_key_that_does_not_open_fails_loudly(
        env: str, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _history(env, LOST)
    monkeypatch.setenv("SENDGUARD_MASTER_KEY", f"{NEW},{OLD}")
    code, out, err = run("keys", "rewrap", "--json")
    assert code == 1
    assert json.loads(out)["history"] == "failed"
    assert "keep the old master key" in err
    assert _count(env, LOST) == 1                # left exactly as it was
