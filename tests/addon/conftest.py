"""Real parts for the add-on tests: a local token issuer whose certificates are served over
HTTP on loopback (verified by google-auth), the Gmail emulator driven by the real
google-api-python-client, SQLite for the audit log, and the app either through Flask's test
client or served by a real threaded HTTP server on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.addon.scopes import ALL_SCOPES
from service.app import create_app
from service.devtools.gmail_emulator.emulator import GmailEmulator, emulator_url, serve_emulator
from service.devtools.tokens import LocalIssuer
from service.gmail.client import ApiGmailClient
from service.services import Services
from service.settings import Config
from tests.support.smtp import smtp, smtp_server
from tests.support.tokens import certs_url, issuer

from .apis import Api, ClientApi, HttpApi
from .support import (
    AUDIENCE,
    CLIENT_ID,
    OAUTH,
    POLICY,
    SENDER,
    SERVICE_ACCOUNT,
    Events,
)

__all__ = ["certs_url", "issuer", "smtp", "smtp_server"]


@pytest.fixture(scope="session")
def gmail_server() -> Iterator[tuple[GmailEmulator, str]]:
    emulator = GmailEmulator(default_user=None)
    server, _ = serve_emulator(emulator=emulator)
    yield emulator, emulator_url(server)
    server.shutdown()
    server.server_close()


@pytest.fixture
def emulator(gmail_server: tuple[GmailEmulator, str]) -> Iterator[GmailEmulator]:
    emu, _ = gmail_server
    emu.reset()
    emu.clear_faults()
    emu.add_user(SENDER, OAUTH, ALL_SCOPES)     # what a user of the add-on granted
    yield emu
    emu.clear_faults()
    # Every add-on test is a run against Gmail's per-method scopes: no call SendGuard made
    # may have been outside what its users grant (a 403 that no test injected).
    refused = [r.method for r in emu.requests() if r.status == 403 and not r.fault]
    assert refused == [], f"Gmail calls outside the granted scopes: {refused}"


@pytest.fixture
def events(issuer: LocalIssuer) -> Events:
    return Events(issuer)


MakeApp = Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path: Path, certs_url: str,
             gmail_server: tuple[GmailEmulator, str]) -> Iterator[MakeApp]:
    counter = itertools.count()
    made: list[Services] = []
    endpoint = gmail_server[1]

    def make(policy: str = POLICY, **overrides: Any) -> Flask:
        n = next(counter)
        policy_path = tmp_path / f"policy-{n}.toml"
        policy_path.write_text(policy, encoding="utf-8")
        config = Config(env="test", var_dir=tmp_path / "var",
                        database_url=f"sqlite:///{tmp_path}/sendguard-{n}.db",
                        addon_audience=AUDIENCE, addon_service_account=SERVICE_ACCOUNT,
                        oauth_client_id=CLIENT_ID, google_certs_url=certs_url,
                        gmail_api_endpoint=endpoint, policy_path=str(policy_path))
        config = config.with_(**overrides) if overrides else config
        # The real client against the emulator; only its backoff is shortened.
        services = Services(config, gmail_factory=lambda token: ApiGmailClient(
            token, endpoint, backoff=0.01, max_retry_after=0.05))
        made.append(services)
        return create_app(config, services=services)

    yield make
    for services in made:
        services.close()


@pytest.fixture
def app(make_app: MakeApp) -> Flask:
    return make_app()


@pytest.fixture
def api(app: Flask) -> ClientApi:
    return ClientApi(app)


@pytest.fixture(params=["test_client", "loopback"])
def any_api(request: pytest.FixtureRequest, make_app: MakeApp) -> Iterator[Api]:
    """The same flows through Flask's test client and through a real loopback server."""
    app = make_app()
    if request.param == "test_client":
        yield ClientApi(app)
        return
    live = HttpApi(app)
    yield live
    live.close()


@pytest.fixture
def live_factory(make_app: MakeApp) -> Iterator[Callable[..., HttpApi]]:
    made: list[HttpApi] = []

    def start(**kw: Any) -> HttpApi:
        live = HttpApi(make_app(**kw))
        made.append(live)
        return live

    yield start
    for live in made:
        live.close()
