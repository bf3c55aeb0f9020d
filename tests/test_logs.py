"""Structured logs: Cloud Logging's JSON shape, trace correlation, and redaction.

Every test goes through the real ``logging`` machinery (a logger, the installed handler,
its filter and formatter) into a stream, then reads what a log collector would read.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from service import logs
from service.settings import Config

PRODUCTION = Config(env="production")
DEVELOPMENT = Config(env="development")
JWT = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9."
       "eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20iLCJhdWQiOiJ4In0."
       "c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2Nzg5MA")
LINK_TOKEN = "Qm9yZWFsaXMtbGluay10b2tlbi0xMjg"
TRACE_ID = "105445aa7843bc8bf206b12000100000"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A configured root handler writing into a buffer; the root logger is restored after."""
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    buf = io.StringIO()
    logs.configure_logging(PRODUCTION, stream=buf, project="sample-proj")
    yield buf
    for handler in list(root.handlers):
        if handler not in before_handlers:
            root.removeHandler(handler)
    root.setLevel(before_level)


def entries(buf: io.StringIO) -> list[dict[str, Any]]:
    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def one_entry(buf: io.StringIO) -> dict[str, Any]:
    found = entries(buf)
    assert len(found) == 1, found
    return found[0]


# --- JSON shape --------------------------------------------------------------------------

@pytest.mark.parametrize(("level", "severity"), [
    pytest.param(logging.DEBUG, None, id="debug-below-level"),
    pytest.param(logging.INFO, "INFO", id="info"),
    pytest.param(logging.WARNING, "WARNING", id="warning"),
    pytest.param(logging.ERROR, "ERROR", id="error"),
    pytest.param(logging.CRITICAL, "CRITICAL", id="critical"),
])
def test_one_json_object_per_line_with_cloud_logging_fields(
        stream: io.StringIO, level: int, severity: str | None) -> None:
    logging.getLogger("service.sample").log(level, "released %d keys\nsecond line", 3)
    if severity is None:
        assert stream.getvalue() == ""
        return
    assert len(stream.getvalue().splitlines()) == 1, "a newline inside must stay escaped"
    entry = one_entry(stream)
    assert entry["severity"] == severity
    assert entry["message"] == "released 3 keys\nsecond line"
    assert entry["logger"] == "service.sample"
    assert datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).tzinfo is not None
    assert entry[logs.SOURCE_KEY]["function"] == (
        "test_one_json_object_per_line_with_cloud_logging_fields")
    assert "httpRequest" not in entry and logs.TRACE_KEY not in entry


def test_exception_traceback_is_in_the_message_and_redacted(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"token rejected: Bearer {JWT}")
    except ValueError:
        logging.getLogger("service.addon").exception("verification failed")
    entry = one_entry(stream)
    assert entry["severity"] == "ERROR"
    assert "Traceback (most recent call last)" in entry["message"]
    assert "ValueError: token rejected: Bearer [redacted]" in entry["message"]
    assert JWT not in stream.getvalue()


def test_json_fields_extra_is_merged_and_redacted(stream: io.StringIO) -> None:
    logging.getLogger("service.delivery").info(
        "notice sent", extra={"json_fields": {"package": "pkg-1", "link": f"/k/{LINK_TOKEN}",
                                              "severity": "DEBUG"}})
    entry = one_entry(stream)
    assert entry["package"] == "pkg-1"
    assert entry["link"] == "/k/[redacted]"
    assert entry["severity"] == "INFO", "extra fields never override the entry's own"


def test_configuring_twice_keeps_one_handler(stream: io.StringIO) -> None:
    second = io.StringIO()
    logs.configure_logging(PRODUCTION, stream=second, project="sample-proj")
    logging.getLogger("service").warning("once")
    assert stream.getvalue() == ""
    assert [e["message"] for e in entries(second)] == ["once"]


def test_development_logs_readable_lines_redacted_too() -> None:
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    buf = io.StringIO()
    try:
        logs.configure_logging(DEVELOPMENT, stream=buf)
        logging.getLogger("service.dev").info("code %s sent", "12345678")
    finally:
        for handler in list(root.handlers):
            if handler not in before_handlers:
                root.removeHandler(handler)
        root.setLevel(before_level)
    line = buf.getvalue().strip()
    assert not line.startswith("{")
    assert "INFO" in line and "service.dev: code [redacted] sent" in line
    assert "12345678" not in line


# --- redaction ---------------------------------------------------------------------------

REDACTED_CASES = [
    pytest.param("id token %s", (JWT,), JWT, "[jwt]", id="jwt-in-args"),
    pytest.param("Authorization: Bearer %s", ("ya29.a0AfH6SMBx-opaque_access.token",),
                 "ya29.a0AfH6SMBx", "Authorization: Bearer [redacted]", id="bearer-header"),
    pytest.param("headers %s", ({"Authorization": "Basic dXNlcjpodW50ZXIy"},),
                 "dXNlcjpodW50ZXIy", "Basic [redacted]", id="basic-header-in-dict"),
    pytest.param("GET https://sendguard.example.run.app/k/%s?lang=ja", (LINK_TOKEN,),
                 LINK_TOKEN, "https://sendguard.example.run.app/k/[redacted]?lang=ja",
                 id="key-page-url"),
    pytest.param("POST /k/%s/reveal", (LINK_TOKEN,), LINK_TOKEN, "POST /k/[redacted]/reveal",
                 id="key-page-path"),
    pytest.param("form %s", ({"password": "Zq7-kP4m-Wx2r"},), "Zq7-kP4m-Wx2r",
                 "'password': '[redacted]'", id="password-field-dict"),
    pytest.param('{"zip_password": "%s"}', ("Zq7-kP4m-Wx2r",), "Zq7-kP4m-Wx2r",
                 '"zip_password": "[redacted]"', id="password-field-json"),
    pytest.param("SENDGUARD_MASTER_KEY=%s", ("ab" * 32,), "ab" * 32,
                 "SENDGUARD_MASTER_KEY=[redacted]", id="master-key-env"),
    pytest.param("key %s", ("0f" * 32,), "0f" * 32, "key [hex]", id="bare-hex-key"),
    pytest.param("mailer smtps://relay:%s@smtp.example.jp:465", ("s3cr3t-pw",), "s3cr3t-pw",
                 "smtps://relay:[redacted]@smtp.example.jp:465", id="url-userinfo-password"),
    pytest.param("one-time code %s for sato@example.jp", ("48213907",), "48213907",
                 "one-time code [redacted] for sato@example.jp", id="code-8-digits"),
    pytest.param("code=%s", ("48213907",), "48213907", "code=[redacted]", id="code-equals"),
    pytest.param("確認コード: %s", ("48213907",), "48213907", "確認コード: [redacted]",
                 id="code-japanese"),
]


@pytest.mark.parametrize(("fmt", "args", "secret", "shown"), REDACTED_CASES)
def test_secrets_never_reach_the_log(stream: io.StringIO, fmt: str, args: tuple[Any, ...],
                                     secret: str, shown: str) -> None:
    logging.getLogger("service.any").warning(fmt, *args)
    entry = one_entry(stream)
    assert secret not in stream.getvalue()
    assert shown in entry["message"]


KEPT_CASES = [
    pytest.param("code review 1234567 done", id="seven-digit-number-after-code"),
    pytest.param("sent to 944 recipients, 49 domains", id="counts"),
    pytest.param("the link token expired after 7 days", id="word-token-without-value"),
    pytest.param("trace 105445aa7843bc8bf206b12000100000", id="32-hex-trace-id"),
    pytest.param("GET /kiosk/status and /healthz", id="other-paths"),
    pytest.param("sato@example.co.jp wrote to suzuki@example.jp", id="addresses"),
    pytest.param("https://sendguard-123.asia-northeast1.run.app:443/addon/compose",
                 id="url-with-port"),
    pytest.param("Bearer missing", id="bearer-without-token"),
]


@pytest.mark.parametrize("message", KEPT_CASES)
def test_ordinary_text_is_left_alone(stream: io.StringIO, message: str) -> None:
    logging.getLogger("service.any").info(message)
    assert one_entry(stream)["message"] == message


def test_broken_format_arguments_still_log_without_secret(stream: io.StringIO) -> None:
    logging.getLogger("service.any").info("two %s %s", f"Bearer {JWT}")
    entry = one_entry(stream)
    assert JWT not in stream.getvalue()
    assert "two %s %s" in entry["message"]


def test_filter_also_protects_other_handlers(stream: io.StringIO) -> None:
    """A second handler added later sees the record after SendGuard's filter ran."""
    other = io.StringIO()
    extra = logging.StreamHandler(other)
    logger = logging.getLogger("service.multi")
    logger.addHandler(extra)
    try:
        logger.error("password=%s", "hunter2-hunter2")
    finally:
        logger.removeHandler(extra)
    assert "hunter2" not in stream.getvalue()
    # The logger's own handler runs before the root's filter: it needs the filter too.
    assert "hunter2" in other.getvalue()
    extra.addFilter(logs.RedactionFilter())
    other.truncate(0)
    other.seek(0)
    logger.addHandler(extra)
    try:
        logger.error("password=%s", "hunter2-hunter2")
    finally:
        logger.removeHandler(extra)
    assert "hunter2" not in other.getvalue()


# --- trace correlation -------------------------------------------------------------------

def traced_app() -> Flask:
    app = Flask("logs-test")
    logs.init_app(app)

    @app.get("/k/<token>")
    def key_page(token: str) -> str:
        logging.getLogger("service.delivery").info("key page shown")
        return "ok"

    @app.post("/addon/compose")
    def compose() -> str:
        logging.getLogger("service.addon").info("compose checked")
        logging.getLogger("service.addon").info("second line, same trace")
        return "ok"

    return app


@pytest.mark.parametrize(("headers", "trace", "span", "sampled"), [
    pytest.param({"X-Cloud-Trace-Context": f"{TRACE_ID}/1;o=1"},
                 f"projects/sample-proj/traces/{TRACE_ID}", "0000000000000001", True,
                 id="cloud-trace-sampled"),
    pytest.param({"X-Cloud-Trace-Context": f"{TRACE_ID.upper()}/17254378398236219523;o=0"},
                 f"projects/sample-proj/traces/{TRACE_ID}", "ef73ddbc4f0b1883", False,
                 id="cloud-trace-big-span-uppercase"),
    pytest.param({"X-Cloud-Trace-Context": TRACE_ID},
                 f"projects/sample-proj/traces/{TRACE_ID}", None, False,
                 id="cloud-trace-id-only"),
    pytest.param({"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
                 f"projects/sample-proj/traces/{TRACE_ID}", "00f067aa0ba902b7", True,
                 id="w3c-traceparent"),
    pytest.param({"X-Cloud-Trace-Context": "not-a-trace/1;o=1"}, None, None, None,
                 id="malformed-header"),
    pytest.param({"X-Cloud-Trace-Context": "0" * 32 + "/1;o=1"}, None, None, None,
                 id="all-zero-trace"),
    pytest.param({}, None, None, None, id="no-header"),
])
def test_lines_in_a_request_carry_its_trace(stream: io.StringIO, headers: dict[str, str],
                                            trace: str | None, span: str | None,
                                            sampled: bool | None) -> None:
    client = traced_app().test_client()
    assert client.post("/addon/compose", headers=headers).status_code == 200
    found = entries(stream)
    assert [e["message"] for e in found] == ["compose checked", "second line, same trace"]
    for entry in found:
        assert entry.get(logs.TRACE_KEY) == trace
        assert entry.get(logs.SPAN_KEY) == span
        assert entry.get(logs.SAMPLED_KEY) == sampled
        assert entry["httpRequest"]["requestMethod"] == "POST"
        assert entry["httpRequest"]["requestUrl"] == "/addon/compose"


def test_request_fields_redact_the_key_page_token(stream: io.StringIO) -> None:
    client = traced_app().test_client()
    response = client.get(f"/k/{LINK_TOKEN}", headers={
        "X-Cloud-Trace-Context": f"{TRACE_ID}/5;o=1", "User-Agent": "Mozilla/5.0 scanner",
        "X-Forwarded-For": "203.0.113.7, 10.0.0.1"})
    assert response.status_code == 200
    entry = one_entry(stream)
    assert entry["httpRequest"] == {"requestMethod": "GET", "requestUrl": "/k/[redacted]",
                                    "userAgent": "Mozilla/5.0 scanner",
                                    "remoteIp": "203.0.113.7", "protocol": "HTTP/1.1"}
    assert entry[logs.TRACE_KEY] == f"projects/sample-proj/traces/{TRACE_ID}"
    assert LINK_TOKEN not in stream.getvalue()


def test_without_a_project_the_trace_field_is_left_out() -> None:
    root = logging.getLogger()
    before_handlers, before_level = list(root.handlers), root.level
    buf = io.StringIO()
    try:
        logs.configure_logging(PRODUCTION, stream=buf, project="")
        with traced_app().test_request_context(
                "/addon/compose", method="POST",
                headers={"X-Cloud-Trace-Context": f"{TRACE_ID}/1;o=1"}):
            logging.getLogger("service.addon").info("no project")
    finally:
        for handler in list(root.handlers):
            if handler not in before_handlers:
                root.removeHandler(handler)
        root.setLevel(before_level)
    entry = json.loads(buf.getvalue())
    assert logs.TRACE_KEY not in entry
    assert entry[logs.SPAN_KEY] == "0000000000000001"


@pytest.mark.parametrize(("header", "expected"), [
    pytest.param("", None, id="empty"),
    pytest.param(f"{TRACE_ID}/abc;o=1", None, id="span-not-decimal"),
    pytest.param(f"{TRACE_ID[:-1]}/1;o=1", None, id="trace-31-digits"),
    pytest.param(f"{TRACE_ID}0/1;o=1", None, id="trace-33-digits"),
    pytest.param(f"{TRACE_ID}/1;o=2", None, id="bad-option"),
    pytest.param(f"{TRACE_ID}/1;o=1\nInjected: yes", None, id="newline-injection"),
    pytest.param(f"{TRACE_ID}/0;o=1", logs.TraceContext(TRACE_ID, None, True),
                 id="span-zero-dropped"),
    pytest.param(f"{TRACE_ID}/{2**64};o=1", logs.TraceContext(TRACE_ID, None, True),
                 id="span-overflow-dropped"),
    pytest.param(f" {TRACE_ID}/255 ", logs.TraceContext(TRACE_ID, "00000000000000ff", False),
                 id="spaces-trimmed"),
])
def test_cloud_trace_header_parsing(header: str, expected: logs.TraceContext | None) -> None:
    assert logs.parse_trace_header(header) == expected


@pytest.mark.parametrize("traceparent", [
    pytest.param(f"00-{TRACE_ID}-{'0' * 16}-01", id="zero-span"),
    pytest.param(f"00-{'0' * 32}-00f067aa0ba902b7-01", id="zero-trace"),
    pytest.param(f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01", id="uppercase"),
    pytest.param(f"00-{TRACE_ID}-00f067aa0ba902b7", id="no-flags"),
])
def test_malformed_traceparent_is_ignored(traceparent: str) -> None:
    assert logs.parse_trace_header(None, traceparent) is None


def test_logging_outside_flask_never_imports_it() -> None:
    import subprocess
    import sys

    code = ("import io, logging, sys\n"
            "from service import logs\nfrom service.settings import Config\n"
            "buf = io.StringIO()\n"
            "logs.configure_logging(Config(env='production'), stream=buf, project='p')\n"
            "logging.getLogger('cli').warning('code 12345678')\n"
            "assert 'flask' not in sys.modules, 'flask was imported'\n"
            "print(buf.getvalue().strip())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    entry = json.loads(out.stdout)
    assert entry["message"] == "code [redacted]"


# --- third-party lines (issue 9): libraries, warnings and drivers go through redaction ----

SECRET = "Zq" + secrets.token_hex(10)     # never spelled in a source line


@pytest.fixture
def library_stream(stream: io.StringIO) -> Iterator[io.StringIO]:
    """``stream``, and Python warnings back to their default route afterwards."""
    yield stream
    logging.captureWarnings(False)


def _pypdf_warning() -> None:
    """The real pypdf on a PDF whose first bytes are not its header: pypdf warns and
    quotes those bytes (``invalid pdf header: b'...'``)."""
    from service.policy.extract import inspect_attachment

    data = (f"{SECRET} %PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
            "2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
            "trailer << /Root 1 0 R >>\n%%EOF").encode()
    inspect_attachment("report.pdf", "application/pdf", data)


def _python_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")      # the suite turns warnings into errors
        logging.captureWarnings(True)        # catch_warnings restored showwarning
        warnings.warn(f"odd stream {SECRET.encode()!r}", UserWarning, stacklevel=1)


def _sqlalchemy_error(hidden: bool) -> None:
    """An IntegrityError logged with its traceback, from our engine (parameters hidden)
    or from a plain one as another library would make (the redaction rule catches it)."""
    import sqlalchemy as sa

    from service.storage.engine import create_engine

    engine = create_engine("sqlite://") if hidden else sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.String, primary_key=True))
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(table.insert(), [{"id": SECRET}, {"id": SECRET}])
    except sa.exc.IntegrityError:
        logging.getLogger("service.storage").exception("insert failed")
    finally:
        engine.dispose()


def _library_own_handler() -> None:
    """A library that installed its own handler before logging was configured."""
    own = io.StringIO()
    lib = logging.getLogger("somelib.internal")
    handler = logging.StreamHandler(own)
    lib.addHandler(handler)
    lib.propagate = False
    try:
        logs.configure_logging(PRODUCTION, stream=io.StringIO())
        lib.warning("token=%s body %r", SECRET, SECRET.encode())
        assert "token=[redacted]" in own.getvalue()
        assert SECRET not in own.getvalue()
    finally:
        lib.removeHandler(handler)
        lib.propagate = True


THIRD_PARTY: dict[str, tuple[Any, str]] = {
    "pypdf warning quotes attachment bytes": (_pypdf_warning, "pypdf"),
    "warnings.warn with bytes": (_python_warning, "py.warnings"),
    "SQLAlchemy error from our engine": (lambda: _sqlalchemy_error(True), "service.storage"),
    "SQLAlchemy error from a plain engine": (lambda: _sqlalchemy_error(False),
                                             "service.storage"),
}


@pytest.mark.parametrize("case", list(THIRD_PARTY), ids=list(THIRD_PARTY))
def test_third_party_lines_are_redacted(library_stream: io.StringIO, case: str) -> None:
    run, logger = THIRD_PARTY[case]
    run()
    found = entries(library_stream)
    assert any(e["logger"].startswith(logger) for e in found), found   # the line is there
    text = "\n".join(e["message"] for e in found)
    assert SECRET not in text and SECRET[:5] not in text      # pypdf quotes 5 bytes
    assert not re.search(r"\bb'(?!\[bytes\])", text)           # no byte string at all
    assert "[parameters: {" not in text


def test_a_library_handler_of_its_own_is_redacted_too(library_stream: io.StringIO) -> None:
    _library_own_handler()


@pytest.mark.parametrize(("text", "expected"), [
    ("invalid pdf header: b'%PDF\\xe2\\xe3'", "invalid pdf header: b'[bytes]'"),
    ('stream b"\\x00\\x01abc"', "stream b'[bytes]'"),
    ("[SQL: SELECT 1]\n[parameters: ('a@b.jp', 3)]", "[SQL: SELECT 1]\n[parameters: [redacted]]"),
    ("duplicate key\nDETAIL:  Key (id)=(abc) already exists.",
     "duplicate key\nDETAIL:  [redacted]"),
    ("Key (id)=(abc) already exists.", "Key (id)=([redacted]) already exists."),
    ("Failing row contains (1, a@b.jp).", "Failing row contains ([redacted])."),
    ("Bob's draft b''", "Bob's draft b''"),                   # not bytes: left alone
])
def test_library_shapes(text: str, expected: str) -> None:
    assert logs.redact(text) == expected


def test_a_huge_line_is_cut() -> None:
    out = logs.redact("x" * (logs.MAX_MESSAGE + 500))
    assert len(out) < logs.MAX_MESSAGE + 100 and out.endswith("500 characters cut]")


def test_nul_in_a_package_id_is_a_clear_error_without_a_traceback(
        library_stream: io.StringIO, tmp_path: Any) -> None:
    from service.errors import InputError
    from service.storage import Store

    with Store.from_url(f"sqlite:///{tmp_path}/s.db") as store:
        store.upgrade()
        with pytest.raises(InputError, match="NUL"):
            store.get_package(f"{SECRET}\x00")
    text = library_stream.getvalue()
    assert SECRET not in text and "Traceback" not in text
