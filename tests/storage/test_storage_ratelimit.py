"""Fixed-window rate limits kept in the shared database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from service.errors import InputError
from service.storage import Store
from service.storage.ratelimit import window_bounds
from tests.storage.helpers import NOW

SEC = timedelta(seconds=1)


def test_limit_is_reached_then_refused_within_the_window(store: Store) -> None:
    hits = [store.hit_rate_limit("code:grant:1", 3, 60, NOW + i * SEC) for i in range(5)]
    assert hits == [False, False, False, True, True]


def test_a_new_window_starts_afresh(store: Store) -> None:
    start, end = window_bounds(NOW + 30 * SEC, 60)
    assert (start, end) == (NOW, NOW + 60 * SEC)
    for _ in range(2):
        store.hit_rate_limit("k", 2, 60, start)
    assert store.hit_rate_limit("k", 2, 60, end - SEC) is True
    assert store.hit_rate_limit("k", 2, 60, end) is False


def test_keys_and_window_lengths_are_counted_apart(store: Store) -> None:
    assert store.hit_rate_limit("addr:a@x.example", 1, 60, NOW) is False
    assert store.hit_rate_limit("addr:b@x.example", 1, 60, NOW) is False
    assert store.hit_rate_limit("addr:a@x.example", 1, 3600, NOW) is False
    assert store.hit_rate_limit("addr:a@x.example", 1, 60, NOW) is True


def test_keys_are_stored_hashed_and_old_windows_pruned(store: Store, raw: sa.Engine) -> None:
    store.hit_rate_limit("addr:tanaka@partner.example", 5, 60, NOW)
    store.hit_rate_limit("addr:tanaka@partner.example", 5, 3600, NOW)
    with raw.connect() as conn:
        keys = list(conn.execute(sa.text("SELECT key FROM rate_counters")).scalars())
    assert len(keys) == 2 and all(len(k) == 64 and "tanaka" not in k for k in keys)
    assert store.prune_rate_counters(NOW + 59 * SEC) == 0
    assert store.prune_rate_counters(NOW + 60 * SEC) == 1
    assert store.prune_rate_counters(NOW + 3600 * SEC) == 1


@pytest.mark.parametrize(("args", "error"), [
    pytest.param({"key": ""}, InputError, id="empty-key"),
    pytest.param({"limit": 0}, InputError, id="zero-limit"),
    pytest.param({"window_seconds": 0}, InputError, id="zero-window"),
    pytest.param({"window_seconds": 10**9}, InputError, id="huge-window"),
    pytest.param({"now": datetime(2025, 4, 1)}, ValueError, id="naive-now"),
])
def test_bad_arguments(store: Store, args: dict[str, Any], error: type[Exception]) -> None:
    call: dict[str, Any] = {"key": "k", "limit": 1, "window_seconds": 60, "now": NOW, **args}
    with pytest.raises(error):
        store.hit_rate_limit(**call)
