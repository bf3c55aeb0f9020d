"""Races that must have exactly one winner, with several Stores (own pools, like separate
instances) on one database: threads, and separate processes for the release worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

from service.errors import ConflictError
from service.storage import Store, hash_token
from tests.storage.helpers import NOW, RECIPIENTS, SENDER, make_package

MIN = timedelta(minutes=1)
ROUNDS = 12
T = TypeVar("T")


def race(workers: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run the callables in threads released together; results or exceptions in order."""
    barrier = threading.Barrier(len(workers))
    out: list[T | BaseException] = [RuntimeError("not run")] * len(workers)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = workers[i]()
        except BaseException as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def values(results: list[T | BaseException]) -> list[T]:
    """The results, failing the test on the first exception any worker raised."""
    for r in results:
        if isinstance(r, BaseException):
            raise AssertionError(f"a worker failed: {r!r}") from r
    return results  # type: ignore[return-value]


def drain(s: Store, when: Any) -> Callable[[], list[str]]:
    def work() -> list[str]:
        got: list[str] = []
        while batch := s.claim_due_releases(when, limit=3):
            got += [p.id for p in batch]
        return got
    return work


def test_due_releases_are_claimed_exactly_once_by_racing_workers(
        store: Store, open_store: Callable[[], Store]) -> None:
    workers = [open_store() for _ in range(4)]
    for r in range(ROUNDS):
        when = NOW + r * MIN
        made = {make_package(store, tokens=(), now=when - 10 * MIN,
                             release_at=when - 5 * MIN).id for _ in range(10)}
        results = race([drain(w, when) for w in workers])
        claimed = [pid for res in values(results) for pid in res]
        assert Counter(claimed) == Counter(made), f"round {r}: {results}"
    released = store.search_audit(action="package.released", limit=10_000)
    assert len(released) == 10 * ROUNDS == len({e.package_id for e in released})


WORKER = """
import json, sys
from datetime import datetime
from service.storage import Store
store = Store.from_url(sys.argv[1])
print("ready", flush=True)
for line in sys.stdin:
    when = datetime.fromisoformat(line.strip())
    got = []
    while batch := store.claim_due_releases(when, limit=2):
        got += [p.id for p in batch]
    print(json.dumps(got), flush=True)
store.close()
"""


def test_due_releases_are_claimed_exactly_once_by_two_processes(
        store: Store, db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for r in range(ROUNDS):
            when = NOW + r * MIN
            made = {make_package(store, tokens=(), now=when - 10 * MIN,
                                 release_at=when - 5 * MIN).id for _ in range(8)}
            for p in procs:
                assert p.stdin is not None
                p.stdin.write(when.isoformat() + "\n")
                p.stdin.flush()
            claimed = [pid for p in procs if p.stdout
                       for pid in json.loads(p.stdout.readline())]
            assert Counter(claimed) == Counter(made), f"round {r}"
    finally:
        for p in procs:
            if p.stdin:
                p.stdin.close()
        for p in procs:
            p.wait(timeout=30)
            if p.stdout:
                p.stdout.close()
    assert [p.returncode for p in procs] == [0, 0]


def test_manual_release_and_revoke_each_happen_at_most_once(
        store: Store, open_store: Callable[[], Store]) -> None:
    """Two releases and two revokes race: one revoke wins; a release wins only if it came
    first (then the revoke follows it); the losers get ConflictError."""
    a, b = open_store(), open_store()
    for r in range(ROUNDS):
        p = make_package(store, tokens=(), release_mode="manual", release_at=None)
        pid, when = p.id, NOW + MIN
        results = race([partial(a.release_now, pid, SENDER, when),
                        partial(b.release_now, pid, SENDER, when),
                        partial(a.revoke, pid, SENDER, when),
                        partial(b.revoke, pid, SENDER, when)])
        ok = [not isinstance(x, BaseException) for x in results]
        assert all(isinstance(x, ConflictError) for x, won in zip(results, ok, strict=True)
                   if not won), f"round {r}: {results}"
        releases, revokes = sum(ok[:2]), sum(ok[2:])
        assert (releases <= 1, revokes) == (True, 1), f"round {r}: {results}"
        assert store.get_package(p.id).state == "revoked"
        assert [e.action for e in store.search_audit(package_id=p.id)] == (
            ["package.created"] + ["package.released"] * releases + ["package.revoked"])


def test_rate_limit_admits_exactly_the_limit_across_stores(
        store: Store, open_store: Callable[[], Store]) -> None:
    stores = [open_store(), open_store()]

    def hammer(s: Store) -> Callable[[], list[bool]]:
        return lambda: [s.hit_rate_limit("code:addr:x", 50, 600, NOW) for _ in range(25)]

    results = race([hammer(stores[i % 2]) for i in range(8)])
    over = [hit for res in values(results) for hit in res]
    assert len(over) == 200 and over.count(False) == 50


def test_code_attempts_are_counted_exactly_across_stores(
        store: Store, open_store: Callable[[], Store]) -> None:
    p = make_package(store, tokens=("t",))
    grant = store.list_grants(p.id)[0]
    stores = [open_store(), open_store()]
    def guess(s: Store) -> list[int]:
        return [s.record_code_attempt(grant.id) for _ in range(20)]

    results = race([partial(guess, stores[i % 2]) for i in range(6)])
    seen = sorted(n for res in values(results) for n in res)
    assert seen == list(range(1, 121))
    assert store.get_grant(grant.id).code_attempts == 120


def test_reveal_limit_holds_under_concurrent_reveals(
        store: Store, open_store: Callable[[], Store]) -> None:
    a, b = open_store(), open_store()
    for r in range(ROUNDS):
        tokens = (f"ta{r}", f"tb{r}", f"tc{r}")
        p = make_package(store, tokens=tokens, reveal_limit=2)
        store.release_now(p.id, SENDER, NOW)
        grants = store.list_grants(p.id)
        for g in grants:
            store.set_code(g.id, hash_token(f"code{g.id}"), NOW + 10 * MIN, NOW)
        results = race([partial(s.mark_revealed, g.id, NOW + MIN)
                        for g, s in zip(grants, (a, b, a), strict=True)])
        wins = [x for x in results if not isinstance(x, BaseException)]
        assert len(wins) == 2, f"round {r}: {results}"
        assert all(isinstance(x, ConflictError) for x in results if x not in wins)
        assert sum(1 for w in wins if w.first) == 1
        assert store.get_package(p.id).reveal_count == 2
        assert [g.address for g in grants] == [x.lower() for x in RECIPIENTS]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_writers_wait_instead_of_failing(
        store: Store, open_store: Callable[[], Store]) -> None:
    """BEGIN IMMEDIATE + busy timeout: 8 writers on one file, no 'database is locked'."""
    stores = [open_store() for _ in range(8)]
    def create(s: Store) -> list[str]:
        return [make_package(s, tokens=()).id for _ in range(5)]

    assert len(values(race([partial(create, s) for s in stores]))) == 8
    assert len(store.list_packages(SENDER, limit=100)) == 40
