"""Issue 5: no token, code, password, key or body ever reaches a log. One whole route,
with its error paths, runs across the two production instances (JSON lines on their
stdout, whatever else the server writes on stderr) and in this process (``sendguard protect``'s
step, logged through ``configure_logging(json_lines=True)`` into a buffer); then every
line is parsed as a Cloud Logging entry and searched for every secret the route used."""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from service.delivery.packages import protect_raw
from service.logs import configure_logging
from service.policy.policyfile import Policy
from service.settings import Config
from tests.delivery.helpers import open_zip, sevenzip, zip_of
from tests.support.smtp import SmtpServer

from .logscan import TRACE_KEY, entry, leaks
from .support import (
    PROJECT,
    SENDER,
    Deployment,
    Visitor,
    address,
    codes_to,
    http,
    links_to,
    message_kind,
    password_on,
)

SUBJECT = "【社外秘】2026年度 見積書の送付について"
BODY_LINE = "田中様、先日ご相談いただいた見積書を添付いたします。"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """This process's log as production writes it (JSON lines), into a buffer; the
    test's own SMTP server (aiosmtpd, the recipient's side) is kept out of it."""
    buffer = io.StringIO()
    root, mail_log = logging.getLogger(), logging.getLogger("mail.log")
    level, mail_level = root.level, mail_log.level
    configure_logging(Config(), stream=buffer, json_lines=True, level=logging.DEBUG)
    mail_log.setLevel(logging.WARNING)
    try:
        yield buffer
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_sendguard_handler", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
        mail_log.setLevel(mail_level)


def draft(to: str, marker: str) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = f"佐藤 花子 <{SENDER}>"
    msg["To"] = to
    msg["Subject"] = SUBJECT
    msg["Message-ID"] = f"<log-{secrets.token_hex(6)}@corp.example.jp>"
    msg.set_content(f"{BODY_LINE}\n{marker}\n")
    msg.add_attachment("氏名,電話\n佐藤,03-1234-5678\n".encode() * 40, maintype="text",
                       subtype="csv", filename="顧客一覧.csv")
    return msg.as_bytes()


def test_a_whole_route_logs_no_secret(deployment: Deployment, smtp: SmtpServer,
                                      json_log: io.StringIO, secret_book: set[str],
                                      issuer_token_forged: str, tmp_path: Path) -> None:
    to, bounced = address("logscan"), address("bounced")
    marker = f"body-marker-{secrets.token_hex(8)}"
    auth = {"Authorization": f"Bearer {deployment.task_token}"}
    trace = secrets.token_hex(16)
    traced = {**auth, "X-Cloud-Trace-Context": f"{trace}/7;o=1"}

    # protect: this process encrypts the draft and stores the key, held for 2 seconds;
    # another package is already due, and the mail server will bounce its notice
    with deployment.store() as store:
        done = protect_raw(draft(to, marker), store=store, keywrapper=deployment.keywrapper(),
                           policy=Policy(release_delay=2), now=datetime.now(UTC),
                           sender=SENDER, key_recipients=[to])
        other, other_password = deployment.package(store, [bounced], due=True)
        with http() as client:
            smtp.reject_with = f"451 4.3.0 mailbox of {bounced} is busy"
            first = client.post(deployment.a.url + "/tasks/release-due", headers=traced)
            assert first.status_code == 200
            assert (first.json()["released"], first.json()["notices_failed"]) == (1, 1)
            assert store.get_package(done.package.id).state == "held"     # the hold
            store.revoke(other.id, SENDER, datetime.now(UTC))   # no retry later
            smtp.reject_with = None
            # a forged scheduler token is refused, and logged without the token
            assert client.post(deployment.b.url + "/tasks/release-due", headers={
                "Authorization": f"Bearer {issuer_token_forged}"}).status_code == 401
            time.sleep(max(0.0, (done.package.release_at or datetime.now(UTC))
                           .timestamp() - time.time()) + 0.05)
            # release: the scheduler's call on the other instance sends the notice
            second = client.post(deployment.b.url + "/tasks/release-due", headers=traced)
            assert (second.json()["released"], second.json()["notices_sent"]) == (1, 1)

    # open link -> request code -> wrong code -> right code -> reveal, across instances
    [token] = links_to(smtp, to)
    visitor = Visitor(token, trace=trace)
    assert visitor.open(deployment.a).status_code == 200
    no_form = Visitor(token, trace=trace)
    forged = no_form.post(deployment.b, "send_code", form=False)      # no CSRF token
    assert message_kind(forged) == "again" and codes_to(smtp, to) == []   # nothing done
    assert visitor.request_code(deployment.b).status_code == 200
    [code] = codes_to(smtp, to)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    assert message_kind(visitor.reveal(deployment.a, wrong)) == "wrong"
    shown = visitor.reveal(deployment.b, code)
    assert password_on(shown) == done.password
    name, data = zip_of(done.result.message)
    assert name == done.package.zip_filename
    assert set(open_zip(sevenzip(), data, done.password, tmp_path)) == {"顧客一覧.csv"}

    used = {token, code, wrong, done.password, other_password, deployment.master_key,
            deployment.task_token, issuer_token_forged, marker, BODY_LINE, SUBJECT,
            visitor.cookie, visitor.csrf}
    secret_book.update(used)
    own = [line for line in json_log.getvalue().splitlines() if line]
    servers = [line for inst in deployment.instances for line in inst.stdout_lines()]
    stderr = [line for inst in deployment.instances for line in inst.stderr_lines()]
    entries = [entry(line) for line in own + servers]     # each line a Cloud Logging entry
    assert leaks(own + servers + stderr, secret_book) == []

    # the lines say what happened, tied to the request's trace, the link itself redacted
    messages = [e["message"] for e in entries]
    assert any("OIDC token rejected" in m for m in messages)
    assert any("notice not sent" in m for m in messages)
    csrf_lines = [e for e in entries if "CSRF" in e["message"]]
    assert csrf_lines and all(e["httpRequest"]["requestUrl"] == "/k/[redacted]"
                              for e in csrf_lines)
    assert csrf_lines[-1][TRACE_KEY] == f"projects/{PROJECT}/traces/{trace}"
    print(f"log scan: {len(own)} in-process + {len(servers)} instance JSON lines and "
          f"{len(stderr)} stderr lines, {len(secret_book)} secrets, no leak")


@pytest.fixture
def issuer_token_forged(deployment: Deployment) -> str:
    """The scheduler's token with its signature replaced: a forgery."""
    head, payload, _ = deployment.task_token.split(".")
    return f"{head}.{payload}.{secrets.token_urlsafe(256)}"


def test_the_log_checker_refuses_bad_lines_and_finds_escaped_secrets() -> None:
    """The checker itself: what it must reject, and secrets hidden by JSON escaping."""
    for bad in ("plain text", "[]", '{"severity": "LOUD", "message": "x"}',
                '{"severity": "INFO", "message": 3}'):
        with pytest.raises(AssertionError):
            entry(bad)
    assert leaks(["a line with 12345678"], {"12345678"})
    assert leaks(['{"message": "\\u7530\\u4e2d"}'], {"田中"})
    assert not leaks(["nothing here"], {"12345678", ""})
