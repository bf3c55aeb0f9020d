"""The service's mailer against a real SMTP server on loopback: delivery, TLS and
credentials, failures, configuration, and header injection refused."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import compat32
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.delivery.notices import address, clean_display_name, code_mail, new_mail
from service.errors import ConfigError, InputError
from service.mailer import (
    MailerError,
    MemoryMailer,
    SinkMailer,
    SmtpMailer,
    mailer_from_config,
    sender_address,
)
from service.settings import Config
from tests.support.smtp import SmtpServer

from .helpers import PARTNER, Clock

NOW = Clock().now


def _mail(config: Config, to: str = PARTNER) -> EmailMessage:
    return code_mail(config, to, "12345678", NOW)


def test_smtp_delivers_one_message_to_its_one_recipient(smtp: SmtpServer,
                                                         config: Config) -> None:
    SmtpMailer(smtp.url).send(_mail(config))
    [got] = smtp.wait_for(1)
    assert got.mail_from == "no-reply@sendguard.example.jp"
    assert got.rcpt_tos == (PARTNER,)
    msg = got.message
    assert msg["To"] == PARTNER
    assert str(msg["From"]) == "SendGuard 鍵配送 <no-reply@sendguard.example.jp>"
    assert msg["Auto-Submitted"] == "auto-generated"
    for threading_header in ("In-Reply-To", "References", "Bcc", "Cc", "Reply-To"):
        assert msg[threading_header] is None
    assert "12345678" in got.text() and "確認コード" in got.text()
    assert str(msg["Subject"]) == "[SendGuard] 確認コード / [SendGuard] Your one-time code"


INJECTIONS = [
    pytest.param("Sato\r\nBcc: evil@attacker.example", id="crlf-bcc"),
    pytest.param("Sato\nTo: evil@attacker.example", id="lf-to"),
    pytest.param("Sato\rCc: evil@attacker.example", id="cr-cc"),
    pytest.param("Sato\x00\r\n\r\nforged body", id="nul-and-body"),
    pytest.param("Sato\u2028Bcc: evil@attacker.example", id="line-separator"),
    pytest.param('"Sato" <evil@attacker.example>, x', id="quoted-address"),
]


@pytest.mark.parametrize("display_name", INJECTIONS)
def test_display_name_cannot_inject_a_header_or_recipient(smtp: SmtpServer, config: Config,
                                                          display_name: str) -> None:
    msg = new_mail(config, PARTNER, "delivery.mail.code_subject", "body", NOW,
                   to_name=display_name)
    SmtpMailer(smtp.url).send(msg)
    [got] = smtp.wait_for(1)
    assert got.rcpt_tos == (PARTNER,)
    head = got.data.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n")
             if line and not line[:1].isspace()]
    assert names == [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Auto-Submitted",
                     b"X-Auto-Response-Suppress", b"Content-Type",
                     b"Content-Transfer-Encoding", b"MIME-Version"]
    assert got.text().strip() == "body"
    assert got.message["To"].addresses[0].addr_spec == PARTNER
    assert len(got.message["To"].addresses) == 1


@pytest.mark.parametrize("name,expected", [
    pytest.param("Sato\r\nBcc: x", "Sato Bcc: x", id="crlf"),
    pytest.param("  佐藤\t花子  ", "佐藤 花子", id="whitespace"),
    pytest.param("a\u202eb", "a b", id="bidi-override"),
    pytest.param("x" * 100, "x" * 64, id="long"),
])
def test_clean_display_name(name: str, expected: str) -> None:
    assert clean_display_name(name) == expected


@pytest.mark.parametrize("addr", [
    pytest.param("tanaka@partner.example.com\r\nBcc: evil@attacker.example", id="crlf"),
    pytest.param("a@b.example, evil@attacker.example", id="list"),
    pytest.param("Evil <evil@attacker.example>", id="display-form"),
    pytest.param("no-at-sign", id="no-at"),
    pytest.param("a@b\x00.example", id="nul"),
    pytest.param("", id="empty"),
])
def test_bad_recipient_address_is_refused(config: Config, addr: str) -> None:
    with pytest.raises(InputError):
        address(addr)
    with pytest.raises(InputError):
        new_mail(config, addr, "delivery.mail.code_subject", "x", NOW)


def test_a_header_with_a_line_break_never_leaves(smtp: SmtpServer) -> None:
    msg = EmailMessage(policy=compat32)   # the legacy policy does not check values itself
    msg["From"] = "no-reply@sendguard.example.jp"
    msg["To"] = PARTNER
    msg["Subject"] = "hello\r\nBcc: evil@attacker.example"
    msg.set_payload("x")
    for mailer in (SmtpMailer(smtp.url), MemoryMailer()):
        with pytest.raises(MailerError):
            mailer.send(msg)
    assert smtp.messages == []


@pytest.mark.parametrize("mail_from", [
    pytest.param("SendGuard <a@b.example>\r\nBcc: evil@attacker.example", id="crlf"),
    pytest.param("a@b.example, c@d.example", id="two"),
    pytest.param("SendGuard", id="no-address"),
])
def test_bad_mail_from_is_a_config_error(config: Config, mail_from: str) -> None:
    bad = config.with_(mail_from=mail_from)
    with pytest.raises(ConfigError):
        sender_address(bad)
    with pytest.raises(ConfigError):
        mailer_from_config(bad)


def test_server_refusal_and_no_server_are_mailer_errors(smtp: SmtpServer,
                                                        config: Config) -> None:
    smtp.reject_with = "451 4.3.0 try again later"
    with pytest.raises(MailerError):
        SmtpMailer(smtp.url).send(_mail(config))
    closed = SmtpServer().start()
    url = closed.url
    closed.stop()
    with pytest.raises(MailerError):
        SmtpMailer(url, timeout=3).send(_mail(config))


def test_sink_writes_private_eml_files(tmp_path: Path, config: Config) -> None:
    sink = SinkMailer(tmp_path / "mail")
    sink.send(_mail(config))
    sink.send(_mail(config, "other@partner.example.com"))
    files = sink.files()
    assert len(files) == 2
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert b"To: tanaka@partner.example.com" in files[0].read_bytes()
    assert not list((tmp_path / "mail").glob(".*"))


def test_memory_mailer_keeps_messages(config: Config) -> None:
    memory = MemoryMailer()
    memory.send(_mail(config))
    assert [m["To"] for m in memory.messages] == [PARTNER]


CONFIGS = [
    pytest.param("development", "", SinkMailer, id="dev-default-sink"),
    pytest.param("development", "sink", SinkMailer, id="dev-sink"),
    pytest.param("development", "sink:/tmp/sendguard-mail", SinkMailer, id="dev-sink-path"),
    pytest.param("test", "memory", MemoryMailer, id="test-memory"),
    pytest.param("development", "smtp://127.0.0.1:2525", SmtpMailer, id="dev-smtp"),
    pytest.param("production", "smtp://relay.example.jp:25", SmtpMailer, id="prod-smtp"),
    pytest.param("production", "smtps://mailer@smtp.example.jp", SmtpMailer, id="prod-smtps"),
    pytest.param("production", "", ConfigError, id="prod-empty"),
    pytest.param("production", "sink", ConfigError, id="prod-sink"),
    pytest.param("production", "memory", ConfigError, id="prod-memory"),
    pytest.param("development", "ftp://mail.example.jp", ConfigError, id="bad-scheme"),
    pytest.param("development", "smtp://u:pw@mail.example.jp", ConfigError, id="password-in-url"),
    pytest.param("development", "smtp://u@mail.example.jp", ConfigError, id="creds-without-tls"),
    pytest.param("development", "smtp://mail.example.jp:port", ConfigError, id="bad-port"),
    pytest.param("development", "smtp://", ConfigError, id="no-host"),
]


@pytest.mark.parametrize("env,value,expected", CONFIGS)
def test_mailer_from_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str,
                            value: str, expected: type) -> None:
    monkeypatch.setenv("SENDGUARD_SMTP_PASSWORD", "s3cret")
    config = Config(env=env, mailer=value, var_dir=tmp_path / "var")
    if issubclass(expected, Exception):
        with pytest.raises(expected):
            mailer_from_config(config)
        return
    mailer = mailer_from_config(config)
    assert isinstance(mailer, expected)
    if value == "":
        assert isinstance(mailer, SinkMailer) and mailer.directory == tmp_path / "var" / "mail"
    assert not (tmp_path / "var").exists()   # nothing is created until a mail is sent


@pytest.mark.parametrize("url,port", [
    ("smtp://relay.example.jp", 25), ("smtp+starttls://u@relay.example.jp", 587),
    ("smtps://u@relay.example.jp", 465), ("smtps://u@relay.example.jp:2465", 2465),
], ids=["smtp", "starttls", "smtps", "smtps-port"])
def test_default_ports(url: str, port: int) -> None:
    mailer = SmtpMailer(url, environ={"SENDGUARD_SMTP_PASSWORD": "x"})
    assert mailer.port == port
    assert "x" not in repr(mailer).replace("example", "")


def test_user_without_password_env_is_refused() -> None:
    with pytest.raises(ConfigError, match="SENDGUARD_SMTP_PASSWORD"):
        SmtpMailer("smtps://mailer@smtp.example.jp", environ={})


# ---------------------------------------------------------------------- TLS and login

@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (server context, client context)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(d / "cert.pem", d / "key.pem")
    return server, ssl.create_default_context(cafile=str(d / "cert.pem"))


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                   data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=data.login == b"mailer" and data.password == b"s3cret")


@pytest.fixture(params=["starttls", "smtps"])
def tls_server(request: pytest.FixtureRequest, smtp_server: SmtpServer,
               tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[tuple[SmtpServer, str]]:
    server_ctx, _ = tls
    if request.param == "smtps":
        srv = SmtpServer(ssl_context=server_ctx, authenticator=_authenticator,
                         auth_required=True, auth_require_tls=False).start()
        url = f"smtps://mailer@127.0.0.1:{srv.port}"
    else:
        srv = SmtpServer(tls_context=server_ctx, require_starttls=True,
                         authenticator=_authenticator, auth_required=True).start()
        url = f"smtp+starttls://mailer@127.0.0.1:{srv.port}"
    yield srv, url
    srv.stop()


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_tls_and_login(tls_server: tuple[SmtpServer, str], config: Config,
                       tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    srv, url = tls_server
    _, client_ctx = tls
    SmtpMailer(url, environ={"SENDGUARD_SMTP_PASSWORD": "s3cret"},
               ssl_context=client_ctx).send(_mail(config))
    assert srv.wait_for(1)[0].rcpt_tos == (PARTNER,)
    with pytest.raises(MailerError):   # wrong password (aiosmtpd then stalls: short timeout)
        SmtpMailer(url, environ={"SENDGUARD_SMTP_PASSWORD": "wrong"}, ssl_context=client_ctx,
                   timeout=1).send(_mail(config))
    with pytest.raises(MailerError):   # a certificate nobody vouches for
        SmtpMailer(url, environ={"SENDGUARD_SMTP_PASSWORD": "s3cret"},
                   timeout=5).send(_mail(config))
    assert len(srv.messages) == 1
