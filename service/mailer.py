"""The service's own mailer: key notices, one-time codes and retrieval notices.

``SENDGUARD_MAILER`` picks it: ``smtp://host:port`` (plain, e.g. a local relay),
``smtp+starttls://user@host:587`` and ``smtps://user@host:465`` (TLS, password from
``SENDGUARD_SMTP_PASSWORD``, never from the URL); in development ``sink`` (default: one
``.eml`` file per mail under ``var/mail``) or ``memory``. Production refuses the last two.

Every message is checked before it leaves: no header value may hold CR, LF or NUL, so
nothing a caller passes can add a header or a recipient (header injection).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from service.errors import ConfigError, SendGuardError
from service.settings import Config

log = logging.getLogger(__name__)

PASSWORD_ENV = "SENDGUARD_SMTP_PASSWORD"  # noqa: S105 - a variable name
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_S = 15.0
_FORBIDDEN = ("\r", "\n", "\0")


class MailerError(SendGuardError):
    """A mail could not be handed to the mail server (retry later)."""

    status = 503


class Mailer(Protocol):
    def send(self, msg: EmailMessage) -> None: ...


def check_headers(msg: EmailMessage) -> None:
    """Refuse a message whose header values hold line breaks or NUL (header injection)."""
    for name, value in msg.items():
        text = str(value)
        if any(ch in name or ch in text for ch in _FORBIDDEN):
            raise MailerError("refused a mail header holding a line break")


def envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """(MAIL FROM, RCPT TO) taken from the parsed From, To, Cc and Bcc headers."""
    senders = [addr for _, addr in getaddresses([str(v) for v in msg.get_all("From", [])])]
    rcpts: list[str] = []
    for field in ("To", "Cc", "Bcc"):
        for _, addr in getaddresses([str(v) for v in msg.get_all(field, [])]):
            if addr and addr not in rcpts:
                rcpts.append(addr)
    if len(senders) != 1 or not senders[0] or not rcpts:
        raise MailerError("a mail needs one From address and at least one recipient")
    return senders[0], rcpts


class SmtpMailer(Mailer):
    """One SMTP connection per message: notices and codes are few and must not wait."""

    def __init__(self, url: str, *, environ: Mapping[str, str] | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT_S) -> None:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ConfigError("SENDGUARD_MAILER must start with smtp://, smtp+starttls:// "
                              "or smtps://")
        if parts.password is not None:
            raise ConfigError(f"SENDGUARD_MAILER must not hold a password: put it in "
                              f"{PASSWORD_ENV}")
        if not parts.hostname:
            raise ConfigError("SENDGUARD_MAILER has no host")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise ConfigError("SENDGUARD_MAILER has a bad port") from None
        self.scheme = scheme
        self.host = parts.hostname
        self.port = port
        self.user = unquote(parts.username) if parts.username else None
        env = os.environ if environ is None else environ
        self._password = env.get(PASSWORD_ENV, "") if self.user else ""
        if self.user and scheme == "smtp":
            raise ConfigError("SMTP credentials need TLS: use smtp+starttls:// or smtps://")
        if self.user and not self._password:
            raise ConfigError(f"SENDGUARD_MAILER names a user: set {PASSWORD_ENV}")
        self._context = ssl_context
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpMailer({self.scheme}://{self.host}:{self.port})"

    def _tls(self) -> ssl.SSLContext:
        return self._context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout,
                                    context=self._tls())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
        if self.scheme == "smtp+starttls":
            smtp.starttls(context=self._tls())
        return smtp

    def send(self, msg: EmailMessage) -> None:
        check_headers(msg)
        sender, rcpts = envelope(msg)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(msg, from_addr=sender, to_addrs=rcpts)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailerError("the mail server did not accept the message",
                              detail=type(exc).__name__) from None
        if refused:
            raise MailerError("the mail server refused a recipient")


class SinkMailer(Mailer):
    """Development: each mail becomes a file ``var/mail/<time>-<random>.eml`` (mode 0600:
    it may hold a link or a code) for ``make run`` to show."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"SinkMailer({self.directory})"

    def send(self, msg: EmailMessage) -> None:
        check_headers(msg)
        envelope(msg)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
            path = self.directory / name
            tmp = self.directory / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(msg.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            raise MailerError("the mail sink is not writable", detail=type(exc).__name__) \
                from None
        log.info("development mail written to %s", path)

    def files(self) -> list[Path]:
        """The written mails, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.eml"))


class MemoryMailer(Mailer):
    """Keeps messages in a list: development and tests that need no server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[EmailMessage] = []

    def send(self, msg: EmailMessage) -> None:
        check_headers(msg)
        envelope(msg)
        with self._lock:
            self.messages.append(msg)


def sender_address(config: Config) -> Address:
    """``SENDGUARD_MAIL_FROM`` parsed once, refused when it could inject a header."""
    value = config.mail_from
    if any(ch in value for ch in _FORBIDDEN):
        raise ConfigError("SENDGUARD_MAIL_FROM must not hold line breaks")
    pairs = getaddresses([value])
    if len(pairs) != 1 or "@" not in pairs[0][1]:
        raise ConfigError("SENDGUARD_MAIL_FROM must be one address, e.g. "
                          "'SendGuard <no-reply@example.co.jp>'")
    name, addr = pairs[0]
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"SENDGUARD_MAIL_FROM is not a valid address: {exc}") from None


def mailer_from_config(config: Config) -> Mailer:
    """The mailer ``SENDGUARD_MAILER`` names; development falls back to the file sink."""
    sender_address(config)
    value = config.mailer.strip()
    kind = value.split(":", 1)[0].lower()
    if kind in ("", "sink", "memory"):
        if config.production:
            raise ConfigError("SENDGUARD_MAILER must be an SMTP server in production "
                              "(smtp://, smtp+starttls:// or smtps://)")
        if kind == "memory":
            return MemoryMailer()
        path = value.split(":", 1)[1] if ":" in value else ""
        return SinkMailer(Path(path) if path else config.var_dir / "mail")
    return SmtpMailer(value)
