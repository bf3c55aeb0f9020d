"""The connection pool under more than Cloud Run's concurrency: 20 request threads (a server
worker runs 8) over a pool of 5 connections, on SQLite and a real PostgreSQL server. Threads wait
for a connection instead of failing, never hold more than the pool, and a database that
stops answering gives an error after ``pool_timeout`` instead of a hang."""

from __future__ import annotations

import os
import threading
import time
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import QueuePool

from service.errors import ConfigError
from service.storage import Store, hash_token
from tests.storage.helpers import NOW, make_package

THREADS, POOL, ROUNDS = 20, 5, 10


def _key_page_round(store: Store, token: str, n: int) -> None:
    """What one key-page request does to the store: look up, count, audit."""
    grant = store.find_grant_by_token_hash(hash_token(token))
    assert grant is not None
    package = store.get_package(grant.package_id)
    store.hit_rate_limit(f"pool-test:{n}", 1000, 600, NOW)
    store.record_code_attempt(grant.id)
    store.append_audit(f"recipient:{grant.address}", "key_page.viewed", now=NOW,
                       package_id=package.id, data={"address": grant.address})


def test_twenty_threads_share_five_connections_without_error(db_url: str) -> None:
    tokens = [f"pool-{i}" for i in range(3)]
    with Store.from_url(db_url) as setup:
        make_package(setup, tokens=tuple(tokens))
    store = Store.from_url(db_url, pool_size=POOL)
    errors: list[BaseException] = []
    peak = 0
    done = threading.Event()
    barrier = threading.Barrier(THREADS)

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, cast(QueuePool, store._engine.pool).checkedout())
            time.sleep(0.0005)

    def work(i: int) -> None:
        barrier.wait()
        try:
            for r in range(ROUNDS):
                _key_page_round(store, tokens[(i + r) % len(tokens)], i)
        except BaseException as exc:
            errors.append(exc)

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    started = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    elapsed = time.monotonic() - started
    done.set()
    watcher.join()
    try:
        assert errors == []
        assert not any(th.is_alive() for th in threads)
        limit = POOL if store.backend == "postgresql" else 2 * POOL   # SQLite may overflow
        assert 1 <= peak <= limit
        assert cast(QueuePool, store._engine.pool).checkedout() == 0
        events = store.search_audit(action="key_page.viewed", limit=10_000)
        assert len(events) == THREADS * ROUNDS
        print(f"{store.backend}: {THREADS * ROUNDS} key-page rounds on {THREADS} threads, "
              f"pool {POOL}: {elapsed:.2f} s, peak {peak} connections")
    finally:
        store.close()


def test_a_stuck_database_is_an_error_after_the_pool_timeout(db_url: str) -> None:
    store = Store.from_url(db_url, pool_size=2, pool_timeout=0.3)
    engine: sa.Engine = store._engine
    try:
        held = [engine.connect() for _ in range(2 if store.backend == "postgresql" else 4)]
        started = time.monotonic()
        with pytest.raises(PoolTimeout):
            store.get_package("any-package-id")
        assert 0.25 <= time.monotonic() - started < 3
        for conn in held:
            conn.close()
        assert store.list_recent_packages() == []     # connections came back: works again
    finally:
        store.close()


@pytest.mark.parametrize("timeout", [pytest.param(0, id="zero"), pytest.param(-1, id="negative")])
def test_pool_timeout_must_be_positive(db_url: str, timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout"):
        Store.from_url(db_url, pool_timeout=timeout)


@pytest.mark.postgres
def test_a_forked_child_never_reuses_the_parents_connection(
        migrated_postgres: tuple[str, sa.Engine]) -> None:
    """The server forks workers: if a pool were made before the fork, parent and child
    must not talk over one socket (each has its own PostgreSQL session)."""
    store = Store.from_url(migrated_postgres[0], pool_size=1)
    pid_sql = sa.text("SELECT pg_backend_pid()")
    try:
        with store._engine.connect() as conn:
            parent_backend = conn.execute(pid_sql).scalar_one()
        read, write = os.pipe()
        child = os.fork()
        if child == 0:   # pragma: no cover - runs in the child
            code = 1
            try:
                with store._engine.connect() as conn:
                    os.write(write, str(conn.execute(pid_sql).scalar_one()).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        _, status = os.waitpid(child, 0)
        child_backend = int(os.read(read, 64) or b"0")
        os.close(read)
        assert os.waitstatus_to_exitcode(status) == 0
        assert child_backend and child_backend != parent_backend
        with store._engine.connect() as conn:     # the parent's connection still works
            assert conn.execute(pid_sql).scalar_one() == parent_backend
    finally:
        store.close()
