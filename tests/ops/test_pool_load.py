"""Connection pooling sized for Cloud Run: one server worker with 20 threads (more than
the 8 deploy.sh gives it) over a pool of 5 PostgreSQL connections takes 40 key-page
requests at once, three times over. Every request is answered properly (no pool
timeout, no deadlock), and PostgreSQL never sees more than the pool's 5 connections."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from tests.support.postgres import PostgresCluster
from tests.support.smtp import SmtpServer

from .logscan import entry, leaks
from .support import (
    Deployment,
    Instance,
    Visitor,
    address,
    links_to,
    server_env,
    start_instances,
    stop_all,
)

THREADS, POOL, BURST, ROUNDS = 20, 5, 40, 3


@pytest.fixture(scope="module")
def sized(ops_database: str, master_key: str, smtp_server: SmtpServer, certs_url: str,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("sized")
    env = server_env(name="sized", database_url=ops_database, master_key=master_key,
                     mailer=smtp_server.url, certs_url=certs_url, home=home, pool_size=POOL)
    [instance] = start_instances([("sized", env, THREADS)], home)
    yield instance
    stop_all([instance])


def _connections(cluster: PostgresCluster, database: str) -> tuple[int, int]:
    """(open, busy) connections of the sized instance, as PostgreSQL sees them."""
    with psycopg.connect(cluster.url(database).replace("+psycopg", ""),
                         autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
            "WHERE application_name = 'sendguard-sized'").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_forty_requests_at_once_on_twenty_threads_and_five_connections(
        sized: Instance, deployment: Deployment, smtp: SmtpServer,
        postgres_cluster: PostgresCluster, secret_book: set[str]) -> None:
    to = [address(f"pool{i}") for i in range(BURST // 4)]
    with deployment.store() as store:
        for a in to:
            _, password = deployment.released(store, [a])
            secret_book.add(password)
    visitors = [Visitor(links_to(smtp, a)[0]) for a in to]
    for v in visitors:                  # each browser has its CSRF cookie before the burst
        assert v.open(sized).status_code == 200
    secret_book.update(v.token for v in visitors)
    database = deployment.database_url.rsplit("/", 1)[1].split("?", 1)[0]
    peak_open = peak_busy = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak_open, peak_busy
        while not done.is_set():
            opened, busy = _connections(postgres_cluster, database)
            peak_open, peak_busy = max(peak_open, opened), max(peak_busy, busy)
            time.sleep(0.005)

    def one(i: int, r: int) -> tuple[int, float]:
        v = visitors[i % len(visitors)]
        started = time.monotonic()
        # a code request (a mail goes out too), else the page (a look-up, an audit line)
        resp = v.request_code(sized) if i < len(visitors) and r == 0 else v.open(sized)
        return resp.status_code, time.monotonic() - started

    watcher = threading.Thread(target=watch)
    watcher.start()
    timings: list[float] = []
    statuses: Counter[int] = Counter()
    walls = []
    try:
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            for r in range(ROUNDS):
                started = time.monotonic()
                results = list(pool.map(lambda i, r=r: one(i, r), range(BURST)))
                walls.append(time.monotonic() - started)
                statuses.update(status for status, _ in results)
                timings += [t for _, t in results]
    except requests.RequestException as exc:
        pytest.fail(f"a request failed outright: {exc!r}")
    finally:
        done.set()
        watcher.join()
    assert statuses == {200: BURST * ROUNDS}
    assert 1 <= peak_open <= POOL and peak_busy <= POOL
    lines = sized.stdout_lines()
    assert [entry(line) for line in lines if '"ERROR"' in line] == []
    assert not any("Traceback" in line for line in sized.stderr_lines())
    assert leaks(lines + sized.stderr_lines(), secret_book) == []
    timings.sort()
    print(f"pool: {BURST} at once x {ROUNDS} on {THREADS} threads / {POOL} connections: "
          f"rounds {', '.join(f'{w:.2f}' for w in walls)} s, p50 "
          f"{timings[len(timings) // 2] * 1000:.0f} ms, max {timings[-1] * 1000:.0f} ms, "
          f"peak {peak_open} open / {peak_busy} busy connections")
