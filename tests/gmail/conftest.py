"""One emulator on a loopback port for the whole session; each test gets its own mailbox.

Faults are cleared around every test; mailboxes are isolated by a fresh user and token
per test, so tests never see each other's drafts.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from service.addon.scopes import ALL_SCOPES
from service.devtools.gmail_emulator.emulator import GmailEmulator, emulator_url, serve_emulator
from service.gmail.client import ApiGmailClient

from .support import Sleeps, User

_users = itertools.count(1)


@dataclass
class Running:
    emulator: GmailEmulator
    url: str


@pytest.fixture(scope="session")
def running() -> Iterator[Running]:
    emulator = GmailEmulator(default_user=None)
    server, thread = serve_emulator("127.0.0.1", 0, emulator=emulator)
    try:
        yield Running(emulator, emulator_url(server))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def emulator(running: Running) -> Iterator[GmailEmulator]:
    running.emulator.clear_faults()
    yield running.emulator
    running.emulator.clear_faults()


@pytest.fixture
def url(running: Running) -> str:
    return running.url


@pytest.fixture
def user(emulator: GmailEmulator) -> User:
    """A fresh mailbox whose token carries exactly the add-on's scopes (no read access to
    sent mail): the adapter must make do with what users grant SendGuard."""
    n = next(_users)
    u = User(f"user{n}@sendguard.example", f"ya29.test-token-{n}-{random.randrange(10**9)}")
    emulator.add_user(u.email, u.token, ALL_SCOPES)
    return u


@pytest.fixture
def full_user(emulator: GmailEmulator) -> User:
    """A mailbox with full access (https://mail.google.com/), for emulator tests of the
    methods SendGuard itself never calls."""
    n = next(_users)
    u = User(f"full{n}@sendguard.example", f"ya29.test-full-{n}-{random.randrange(10**9)}")
    emulator.add_user(u.email, u.token)
    return u


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(user: User, url: str, sleeps: Sleeps) -> Iterator[ApiGmailClient]:
    c = ApiGmailClient(user.token, url, sleep=sleeps, rng=random.Random(7), timeout=10)
    yield c
    c.close()
