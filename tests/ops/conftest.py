"""Real parts for the operations tests (issue 5): one throw-away PostgreSQL cluster, two
``sendguard serve`` processes in production mode on it, an aiosmtpd server receiving
every notice and code, and a local Google token issuer whose certificates the servers
fetch over HTTP (Cloud Scheduler's OIDC token for ``/tasks/release-due``)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tokens import certs_url, issuer

try:
    from tests.support.postgres import PostgresCluster, postgres_cluster
    from tests.support.smtp import SmtpServer, smtp, smtp_server
except ModuleNotFoundError:  # the repository root is not on sys.path under plain `pytest`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.postgres import PostgresCluster, postgres_cluster
    from tests.support.smtp import SmtpServer, smtp, smtp_server

from service.devtools.tokens import GOOGLE_ISSUER, LocalIssuer
from service.storage import Store

from .support import (
    SCHEDULER,
    TASK_AUDIENCE,
    Deployment,
    server_env,
    start_instances,
    stop_all,
)

__all__ = ["certs_url", "issuer", "postgres_cluster", "smtp", "smtp_server"]


@pytest.fixture(scope="session")
def scheduler_token(issuer: LocalIssuer) -> str:
    """What Cloud Scheduler sends: a Google-signed OIDC token for the task's URL."""
    return issuer.mint({"iss": GOOGLE_ISSUER, "aud": TASK_AUDIENCE, "email": SCHEDULER,
                        "email_verified": True, "sub": "104857600000000000001"},
                       lifetime=3600)


@pytest.fixture(scope="session")
def ops_database(postgres_cluster: PostgresCluster) -> str:
    """One database, migrated once as the deploy's migration job does (production
    instances never migrate at start)."""
    url = postgres_cluster.create_database()
    with Store.from_url(url) as store:
        store.upgrade()
    return url


@pytest.fixture(scope="session")
def master_key() -> str:
    return secrets.token_hex(32)


@pytest.fixture(scope="session")
def secret_book() -> set[str]:
    """Every secret the operations tests handle, for the log scans."""
    return set()


@pytest.fixture(scope="session")
def deployment(ops_database: str, master_key: str, smtp_server: SmtpServer, certs_url: str,
               scheduler_token: str, tmp_path_factory: pytest.TempPathFactory,
               postgres_cluster: PostgresCluster,
               secret_book: set[str]) -> Iterator[Deployment]:
    """Instances ``a`` and ``b``: one server worker with 4 threads each."""
    root = tmp_path_factory.mktemp("instances")
    specs = []
    for name in ("a", "b"):
        home = root / name
        home.mkdir()
        env = server_env(name=name, database_url=ops_database, master_key=master_key,
                         mailer=smtp_server.url, certs_url=certs_url, home=home)
        specs.append((name, env, 4))
    instances = start_instances(specs, root)
    secret_book.update({master_key, scheduler_token, postgres_cluster.password})
    try:
        yield Deployment(ops_database, master_key, instances, smtp_server, scheduler_token)
    finally:
        stop_all(instances)
