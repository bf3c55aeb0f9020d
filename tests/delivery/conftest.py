"""Real parts for the delivery tests: SQLite (and PostgreSQL where it matters), an aiosmtpd
server on loopback receiving every notice and code, AES-GCM key wrapping, the Flask app
through its test client (and a real HTTP server for the browser test)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

try:
    from tests.support.postgres import PostgresCluster, postgres_cluster
    from tests.support.smtp import SmtpServer, smtp, smtp_server
except ModuleNotFoundError:  # the repository root is not on sys.path under plain `pytest`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.postgres import PostgresCluster, postgres_cluster
    from tests.support.smtp import SmtpServer, smtp, smtp_server

from service.app import create_app
from service.devtools.gmail_emulator.memory import InMemoryGmailClient
from service.mailer import SmtpMailer
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.services import Services
from service.settings import Config
from service.storage import Package, Store

from .helpers import BASE_URL, PARTNER, SENDER, Clock, draft_bytes

__all__ = ["postgres_cluster", "smtp", "smtp_server"]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "sendguard.db"
    with Store.from_url(f"sqlite:///{path}") as s:
        s.upgrade()
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    target = tmp_path / "sendguard.db"
    target.write_bytes(migrated_sqlite.read_bytes())
    return f"sqlite:///{target}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.from_url(db_url)
    yield s
    s.close()


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> str:
    url = postgres_cluster.create_schema("delivery")
    with Store.from_url(url) as s:
        s.upgrade()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """A migrated database on each backend in turn: SQLite, then real PostgreSQL."""
    return db_url if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def master_key() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def keywrapper(master_key: str) -> LocalKeyWrapper:
    return LocalKeyWrapper(master_key)


@pytest.fixture
def config(tmp_path: Path, db_url: str, master_key: str, smtp: SmtpServer) -> Config:
    return Config(env="test", var_dir=tmp_path / "var", database_url=db_url,
                  base_url=BASE_URL, master_key=master_key, mailer=smtp.url,
                  mail_from="SendGuard 鍵配送 <no-reply@sendguard.example.jp>")


@pytest.fixture
def mailer(smtp: SmtpServer) -> SmtpMailer:
    return SmtpMailer(smtp.url)


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture
def gmail() -> InMemoryGmailClient:
    return InMemoryGmailClient(SENDER)


@pytest.fixture
def services_for(config: Config, store: Store, keywrapper: LocalKeyWrapper,
                 mailer: SmtpMailer, clock: Clock) -> Callable[..., Services]:
    def make(**changes: object) -> Services:
        cfg = config.with_(**changes) if changes else config
        return Services(cfg, clock=clock, _store=store, _keywrapper=keywrapper,
                        _mailer=mailer)
    return make


@pytest.fixture
def app(services_for: Callable[..., Services], config: Config) -> Flask:
    return create_app(config, services=services_for())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


SendDraft = Callable[..., Package]


@pytest.fixture
def send_draft(gmail: InMemoryGmailClient, store: Store, keywrapper: LocalKeyWrapper,
               policy: Policy, clock: Clock) -> SendDraft:
    """Encrypt & send a fresh draft through the in-memory Gmail client."""
    from service.delivery.packages import encrypt_and_send

    def send(key_recipients: tuple[str, ...] = (PARTNER,), *, raw: bytes | None = None,
             pol: Policy | None = None) -> Package:
        ref = gmail.add_draft(raw if raw is not None else draft_bytes())
        return encrypt_and_send(gmail, draft_id=ref.draft_id, sender=SENDER,
                                key_recipients=list(key_recipients), policy=pol or policy,
                                store=store, keywrapper=keywrapper, now=clock())
    return send
