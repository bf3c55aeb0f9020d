"""A real SMTP server on loopback for tests (SPEC section 8): aiosmtpd's ``Controller``.

``SmtpServer`` listens on 127.0.0.1 on a free port and keeps every message it accepts
(envelope and parsed message). ``reject_with`` makes it answer DATA with a given SMTP
error, as a full or failing server would. Use from any conftest::

    from tests.support.smtp import smtp_server, smtp  # noqa: F401

``smtp_server`` (session) is the running server; ``smtp`` (per test) is the same server
emptied. Without aiosmtpd the fixtures skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any, cast

import pytest


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes = field(repr=False)

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=email_policy.default)

    def text(self) -> str:
        """The plain-text body, decoded."""
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return cast(str, cast(EmailMessage, part).get_content())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = self._server.reject_with
        if reply:
            return reply
        data = envelope.original_content or envelope.content
        self._server._add(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                   bytes(data)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """``ssl_context`` makes it implicit TLS (smtps); other keyword arguments go to
    aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``, ``authenticator``...)."""

    def __init__(self, *, ssl_context: Any = None, **smtp_kwargs: Any) -> None:
        self._ssl_context = ssl_context
        self._smtp_kwargs = smtp_kwargs
        self.host = "127.0.0.1"
        self.port = 0
        self.reject_with: str | None = None    # e.g. "451 4.3.0 try again later"
        self._messages: list[Received] = []
        self._cond = threading.Condition()
        self._controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        last: Exception | None = None
        for _ in range(3):  # the probed port may be taken before we bind it
            self.port = _free_port()
            kwargs = {"enable_SMTPUTF8": True, **self._smtp_kwargs}
            controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                    ready_timeout=10, ssl_context=self._ssl_context,
                                    **kwargs)
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:
                last = exc
                continue
            self._controller = controller
            return self
        raise RuntimeError(f"aiosmtpd did not start: {last}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def _add(self, item: Received) -> None:
        with self._cond:
            self._messages.append(item)
            self._cond.notify_all()

    @property
    def messages(self) -> list[Received]:
        with self._cond:
            return list(self._messages)

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()
        self.reject_with = None

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """At least ``count`` messages, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} message(s), got "
                                         f"{len(self._messages)} within {timeout} s")
                self._cond.wait(left)
            return list(self._messages)

    def to(self, address: str) -> list[Received]:
        """Messages whose envelope went to ``address``."""
        return [m for m in self.messages if address.lower() in
                (r.lower() for r in m.rcpt_tos)]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"aiosmtpd is required in CI: {reason}")
    pytest.skip(f"aiosmtpd not available: {reason}")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    """One aiosmtpd server on loopback for the whole session."""
    try:
        import aiosmtpd.controller  # noqa: F401
    except ImportError as exc:
        _unavailable(str(exc))
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The session's SMTP server, empty and accepting, for one test."""
    smtp_server.clear()
    yield smtp_server
    smtp_server.clear()
