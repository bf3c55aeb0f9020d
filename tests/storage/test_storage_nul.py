"""Issue 9: a NUL in a package id (or any text) is a clear InputError on both backends,
never a driver traceback whose SQL parameters reach the log."""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from service import logs
from service.errors import ConflictError, InputError
from service.settings import Config
from service.storage import Store
from service.storage.engine import has_nul

from .helpers import NOW, SENDER, make_package

MARK = "Zq" + secrets.token_hex(8)       # never spelled in a source line


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before = list(root.handlers)
    buf = io.StringIO()
    logs.configure_logging(Config(env="production"), stream=buf)
    yield buf
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
    logging.captureWarnings(False)


CALLS: dict[str, Callable[[Store], Any]] = {
    "get_package": lambda s: s.get_package(f"{MARK}\x00"),
    "revoke": lambda s: s.revoke(f"\x00{MARK}", SENDER, NOW),
    "release_now": lambda s: s.release_now(f"{MARK}\x00x", SENDER, NOW),
    "list_grants": lambda s: s.list_grants(f"{MARK}\x00"),
    "audit data (JSON)": lambda s: s.append_audit(SENDER, "addon.test", now=NOW,
                                                  data={"subject": f"{MARK}\x00"}),
    "create_package file name": lambda s: make_package(s, zip_filename=f"{MARK}\x00.zip"),
}


@pytest.mark.parametrize("call", list(CALLS), ids=list(CALLS))
def test_nul_is_a_clear_error_and_logs_nothing(store: Store, log_text: io.StringIO,
                                               call: str, backend: str) -> None:
    if call == "audit data (JSON)" and backend == "sqlite":
        # SQLite keeps JSON as text, where the NUL is the escape \u0000: stored and read
        # back unchanged, so nothing to refuse; PostgreSQL's JSONB cannot hold it.
        event = CALLS[call](store)
        assert event.data["subject"].endswith("\x00")
        return
    with pytest.raises(InputError, match=r"NUL|control characters") as err:
        CALLS[call](store)
    assert MARK not in str(err.value)
    text = log_text.getvalue()
    assert MARK not in text and "Traceback" not in text
    make_package(store)                         # the store still works afterwards


def test_driver_errors_hide_their_parameters(store: Store) -> None:
    """A real constraint failure raised by the driver (a duplicate key): our engine's
    exception holds the statement, never the values bound to it; PostgreSQL's own DETAIL
    line, which repeats the key, is removed by the log redaction."""
    from service.storage.schema import packages

    pid = "p" + MARK + "0123456789"
    make_package(store, package_id=pid)
    engine = store._engine
    with engine.begin() as conn:
        row = dict(conn.execute(sa.select(packages).where(packages.c.id == pid)).mappings()
                   .one())
    with pytest.raises(sa.exc.IntegrityError) as err, engine.begin() as conn:
        conn.execute(packages.insert(), row)
    text = str(err.value)
    assert "hide_parameters" in text                       # SQLAlchemy says it hid them
    assert MARK not in logs.redact(text)
    with pytest.raises(ConflictError):
        make_package(store, package_id=pid)


@pytest.mark.parametrize(("params", "found"), [
    ({"a": "x\x00"}, True), (("x", "y\x00"), True), ([{"a": "ok"}, {"a": "\x00"}], True),
    ([("ok",), ("\x00",)], True), ({"a": "ok", "b": 3, "c": b"\x00"}, False), ((), False),
    (None, False), ({}, False),
])
def test_has_nul(params: Any, found: bool) -> None:
    assert has_nul(params) is found
