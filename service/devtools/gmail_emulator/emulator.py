"""A local Gmail REST v1 emulator that the real google-api-python-client talks to over HTTP.

It serves the subset SendGuard uses (drafts list/get/create/update/send/delete, messages
get/list/send, attachments, getProfile) with media upload (simple, multipart, resumable) up
to Gmail's 35 MB, and checks every request against the discovery document bundled with the
client library: an unknown path is 404, an unknown or mistyped query parameter or body field
is 400, a missing ``Authorization: Bearer`` is 401, as from Google.

Each bearer token maps to a mailbox and the scopes it was granted (``add_user``); a call
that none of those scopes authorises per the discovery document gets Google's 403
(``insufficientPermissions``, ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``). Unknown tokens use
``default_user`` with full access (set it to None to refuse them). Ids look like Gmail's
(16 hex digits for messages and threads, ``r<digits>`` for drafts); a draft's last save
can be set (``put_draft(internal_date_ms=…)``, ``set_draft_saved``). Tests and
``make run`` drive it from Python or over HTTP under ``/__emulator__/``: inject faults
(429/5xx, delays, dropped connections, failures after the work is done), list what was
sent, list requests seen, reset.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from service.devtools.gmail_emulator import compliance
from service.devtools.gmail_emulator.compliance import Rule
from service.devtools.gmail_emulator.control import PREFIX, control
from service.devtools.gmail_emulator.faults import Fault, FaultPlan
from service.devtools.gmail_emulator.handlers import HANDLERS, Call
from service.devtools.gmail_emulator.mailbox import (
    MAX_MESSAGE_BYTES,
    Ids,
    Mailbox,
    MailboxError,
    StoredMessage,
)
from service.devtools.gmail_emulator.uploads import (
    Sessions,
    UploadError,
    parse_multipart,
    parse_range,
)
from service.devtools.gmail_emulator.validate import (
    CURRENT_MESSAGE,
    FULL_ACCESS,
    ApiError,
    check_body,
    check_query,
    error_response,
    insufficient_scopes,
    json_body,
    metadata_scope_refusal,
)
from service.gmail import discovery
from service.gmail.base64url import b64url
from service.gmail.discovery import ApiMethod
from service.gmail.headers import addresses, header, header_values, normalise_message_id

log = logging.getLogger(__name__)

MAX_BODY = MAX_MESSAGE_BYTES * 4 // 3 + (2 << 20)   # a 35 MB message as base64 JSON, plus slack
_FAULT_TEXT = {429: "Too many concurrent requests for user.", 500: "Backend Error",
               503: "The service is currently unavailable."}
_NO_CREDENTIAL = ("Request is missing required authentication credential. Expected OAuth 2 "
                  "access token, login cookie or other valid authentication credential.")
_BAD_CREDENTIAL = ("Request had invalid authentication credentials. Expected OAuth 2 access "
                   "token, login cookie or other valid authentication credential.")


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=dict(headers or {}),
                    content_type="application/json; charset=UTF-8")


@dataclass
class RequestRecord:
    method: str            # discovery id, or the path when none matched
    status: int | None     # None while in progress, 0 when the connection was dropped
    user: str | None = None
    fault: bool = False


@dataclass(frozen=True)
class SentMessage:
    user: str
    id: str
    thread_id: str
    message_id_header: str | None
    internal_date: int
    raw: bytes = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(repr=False)

    @property
    def recipients(self) -> frozenset[str]:
        return addresses([v for n in ("To", "Cc", "Bcc") for v in header_values(self.headers, n)])

    def to_json(self, with_raw: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "user": self.user, "id": self.id, "threadId": self.thread_id,
            "messageIdHeader": self.message_id_header, "internalDate": str(self.internal_date),
            "subject": header(self.headers, "Subject") or "", "size": len(self.raw),
            **{f: header_values(self.headers, f.capitalize()) for f in ("to", "cc", "bcc")},
        }
        if with_raw:
            out["raw"] = b64url(self.raw)
        return out


class GmailEmulator:
    """WSGI application and control API; every public method is thread-safe."""

    def __init__(self, *, default_user: str | None = "user@example.com",
                 clock: Callable[[], float] = time.time) -> None:
        self.default_user = default_user
        self._clock = clock
        self._lock = threading.RLock()
        self._ids = Ids()
        self._tokens: dict[str, str] = {}
        self._scopes: dict[str, frozenset[str]] = {}
        self._mailboxes: dict[str, Mailbox] = {}
        self._sent: list[SentMessage] = []
        self._requests: list[RequestRecord] = []
        self._faults = FaultPlan()
        self._sessions = Sessions()
        self._rules: list[Rule] = []
        self._outbound: list[OutboundRecord] = []

    # ---- control API -------------------------------------------------------------------
    def add_user(self, email: str, token: str, scopes: Iterable[str] | None = None) -> None:
        """Accept ``token`` for ``email``'s mailbox, granted ``scopes`` (default: full
        access, ``https://mail.google.com/``). Each call is checked against the scopes the
        discovery document lists for its method, as Google does (403 otherwise)."""
        if not token or not email or "@" not in email:
            raise ValueError("add_user needs an e-mail address and a non-empty token")
        granted = frozenset(scopes) if scopes is not None else frozenset({FULL_ACCESS})
        if not granted or not all(isinstance(s, str) and s.startswith("https://")
                                  for s in granted):
            raise ValueError("scopes must be a non-empty list of scope URLs")
        with self._lock:
            self._tokens[token] = email.lower()
            self._scopes[token] = granted
            self._mailbox(email)

    def set_rules(self, rules: Iterable[Rule | Mapping[str, Any]]) -> list[Rule]:
        """The organisation's content compliance rules for outbound mail (first match wins);
        validated first, so a broken list changes nothing."""
        parsed = [r if isinstance(r, Rule) else Rule.from_json(r) for r in rules]
        with self._lock:
            self._rules = parsed
        return parsed

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def outbound(self, user: str | None = None) -> list[OutboundRecord]:
        """What the outbound pipeline did with each sent message, oldest first."""
        with self._lock:
            return [o for o in self._outbound if user is None or o.user == user.lower()]

    def set_draft_saved(self, user: str, draft_id: str, internal_date_ms: int) -> None:
        """Back-date (or move) a draft's last save, as if Gmail saved it then."""
        with self._lock:
            self._mailbox(user).draft(draft_id).internal_date = internal_date_ms

    def inject(self, status: int | None = None, *, times: int = 1, method: str | None = None,
               delay: float = 0.0, after_commit: bool = False, drop: bool = False,
               retry_after: float | None = None, skip: int = 0) -> Fault:
        """Make the next ``times`` matching requests (after ``skip``) fail; see ``Fault``."""
        return self._faults.add(Fault(status=status, times=times, method=method, delay=delay,
                                      after_commit=after_commit, drop=drop,
                                      retry_after=retry_after, skip=skip))

    def clear_faults(self) -> None:
        self._faults.clear()

    def faults(self) -> list[Fault]:
        return self._faults.pending()

    def users(self) -> list[str]:
        with self._lock:
            return sorted(self._mailboxes)

    def sent(self, user: str | None = None) -> list[SentMessage]:
        with self._lock:
            return [s for s in self._sent if user is None or s.user == user.lower()]

    def requests(self, method: str | None = None) -> list[RequestRecord]:
        """Requests seen, optionally for one method ("drafts.send" or its full id)."""
        want = None if method is None else (
            method if method.startswith("gmail.") else f"gmail.users.{method}")
        with self._lock:
            return [replace(r) for r in self._requests if want is None or r.method == want]

    def reset(self) -> None:
        """Forget mail, faults, sessions and logs; registered tokens stay."""
        with self._lock:
            emails = list(self._mailboxes)
            self._mailboxes.clear()
            for email in emails:
                self._mailbox(email)
            self._sent.clear()
            self._requests.clear()
            self._outbound.clear()
        self._faults.clear()
        self._sessions.clear()

    def put_draft(self, user: str, raw: bytes, *, thread_id: str | None = None,
                  internal_date_ms: int | None = None) -> tuple[str, str, str]:
        """Seed a draft as Gmail's compose window would save it: (draft id, message id, thread)."""
        with self._lock:
            draft_id, msg = self._mailbox(user).create_draft(raw, thread_id, internal_date_ms)
            return draft_id, msg.id, msg.thread_id

    def put_message(self, user: str, raw: bytes, *, labels: Iterable[str] = ("INBOX",),
                    thread_id: str | None = None,
                    internal_date_ms: int | None = None) -> tuple[str, str]:
        """Seed a received message, e.g. the one a reply draft answers: (message id, thread)."""
        with self._lock:
            msg = self._mailbox(user).insert(raw, list(labels), thread_id, internal_date_ms)
            return msg.id, msg.thread_id

    def _mailbox(self, email: str) -> Mailbox:
        key = email.lower()
        with self._lock:
            box = self._mailboxes.get(key)
            if box is None:
                box = self._mailboxes[key] = Mailbox(key, self._ids, self._clock)
            return box

    # ---- WSGI --------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            response = control(self, request)
        else:
            response = self._api(request, environ)
        return response(environ, start_response)

    def _record(self, method: str, user: str | None) -> RequestRecord:
        record = RequestRecord(method, None, user)
        with self._lock:
            self._requests.append(record)
        return record

    def _api(self, request: Request, environ: dict[str, Any]) -> Response:
        """Route, authenticate, validate, apply a fault, do the work; logged on arrival."""
        record = None
        try:
            call, session_id = self._route(request)
            record = self._record(call.method.id, call.mailbox.email)
            fault = self._faults.take(call.method.id)
            record.fault = fault is not None
            early = self._apply(fault, environ, before=True)
            response = early if early is not None else self._handle(request, call, session_id)
            late = self._apply(fault, environ, before=False)
            response = late if late is not None else response
        except ApiError as exc:
            response = error_response(exc.status, exc.message, exc.headers, reason=exc.reason,
                                      detail=exc.detail, details=exc.details)
        except MailboxError as exc:
            response = error_response(exc.status, exc.message)
        except UploadError as exc:
            response = error_response(400, str(exc))
        except ConnectionError:
            if record is not None:
                record.status = 0
            raise
        if record is None:
            record = self._record(request.path, None)
        record.status = response.status_code
        return response

    def _apply(self, fault: Fault | None, environ: dict[str, Any], *,
               before: bool) -> Response | None:
        if fault is None or fault.after_commit == before:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            sock = environ.get("werkzeug.socket")
            if sock is None:
                raise ApiError(500, "drop faults need werkzeug's server")
            sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("emulator fault: connection dropped")
        if fault.status is None:
            return None
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        return error_response(fault.status, _FAULT_TEXT.get(fault.status, "Injected fault"),
                              headers)

    # ---- routing and validation ------------------------------------------------------
    def _route(self, request: Request) -> tuple[Call, str | None]:
        path = request.path
        upload = path.startswith("/upload/")
        session_id = request.args.get("upload_id") if upload else None
        if session_id is not None:
            session = self._sessions.get(session_id)
            if session is None:
                raise ApiError(404, "No such upload session.")
            box = self._authenticate(request, "me", session.method)
            if box.email != session.user:
                raise ApiError(403, "The upload session belongs to another user.")
            return Call(session.method, box, session.path_params, session.query), session_id
        api_path = path.removeprefix("/upload/") if upload else path.lstrip("/")
        found = discovery.find_method(request.method, api_path)
        if found is None or (upload and found[0].max_upload is None):
            raise ApiError(404, f"The requested URL {path} was not found on this server.")
        method, params = found
        box = self._authenticate(request, params.get("userId", "me"), method)
        query = check_query(method, request.args, upload)
        refused = metadata_scope_refusal(method, self._granted(request), query)
        if refused is not None:
            raise refused
        return Call(method, box, params, query), None

    def _granted(self, request: Request) -> frozenset[str]:
        """The scopes usable on this request (as ``_authenticate`` reads the token)."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        token = token or request.args.get("access_token", "") or request.args.get("oauth_token", "")
        with self._lock:
            granted = self._scopes.get(token, frozenset({FULL_ACCESS}))
        if request.headers.get("X-Goog-Gmail-Access-Token"):
            return granted
        return frozenset(s for s in granted if not s.startswith(CURRENT_MESSAGE))

    def _authenticate(self, request: Request, user_id: str, method: ApiMethod) -> Mailbox:
        auth = request.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        token = token or request.args.get("access_token", "") or request.args.get("oauth_token", "")
        if not token:
            raise ApiError(401, _NO_CREDENTIAL, {"WWW-Authenticate": 'Bearer realm="emulator"'})
        with self._lock:
            email = self._tokens.get(token, self.default_user)
            granted = self._scopes.get(token, frozenset({FULL_ACCESS}))
        if email is None:
            raise ApiError(401, _BAD_CREDENTIAL,
                           {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        refused = insufficient_scopes(
            method, granted, bool(request.headers.get("X-Goog-Gmail-Access-Token")))
        if refused is not None:
            raise refused
        if user_id != "me" and user_id.lower() != email.lower():
            raise ApiError(403, f"Delegation denied for {email}")
        return self._mailbox(email)

    # ---- bodies ------------------------------------------------------------------------
    def _handle(self, request: Request, call: Call, session_id: str | None) -> Response:
        method = call.method
        length = request.content_length or 0
        if length > MAX_BODY:
            raise ApiError(413, "Request Entity Too Large")
        body = request.get_data(cache=False)
        if session_id is not None:
            return self._resume(request, call, session_id, body)
        kind = call.query.get("uploadType")
        if kind == "resumable":
            return self._start_session(request, call, body)
        if kind == "media":
            call.media = body
            self._check_media(method, request.headers.get("Content-Type", ""), body)
        elif kind == "multipart":
            upload = parse_multipart(body, request.headers.get("Content-Type", ""))
            self._check_media(method, upload.media_type, upload.media)
            call.metadata, call.media = upload.metadata, upload.media
        else:
            call.metadata = json_body(body) if method.request_schema else None
        if call.metadata is not None and method.request_schema:
            check_body(method.request_schema, call.metadata)
        status, data = self._dispatch(call)
        return Response(status=204) if data is None else _json(data, status)

    def _check_media(self, method: ApiMethod, media_type: str, media: bytes) -> None:
        main = media_type.split(";")[0].strip().lower()
        accepted = any(main == a or (a.endswith("/*") and main.startswith(a[:-1]))
                       for a in method.upload_accept)
        if not accepted:
            raise ApiError(400, f"Media type '{main}' is not supported. Valid media types: "
                                f"[{', '.join(method.upload_accept)}]")
        if method.max_upload is not None and len(media) > method.max_upload:
            raise ApiError(413, f"Media larger than the limit: {method.max_upload} bytes.")

    def _start_session(self, request: Request, call: Call, body: bytes) -> Response:
        metadata = json_body(body) if body.strip() else None
        if metadata is not None and call.method.request_schema:
            check_body(call.method.request_schema, metadata)
        media_type = request.headers.get("X-Upload-Content-Type", "message/rfc822")
        total = request.headers.get("X-Upload-Content-Length", "0")
        if not total.isdigit():
            raise ApiError(400, "X-Upload-Content-Length must be a number of bytes.")
        if call.method.max_upload and int(total) > call.method.max_upload:
            raise ApiError(413, f"Media larger than the limit: {call.method.max_upload} bytes.")
        session = self._sessions.start(method=call.method, user=call.mailbox.email,
                                       path_params=call.path, query=call.query,
                                       metadata=metadata, media_type=media_type)
        location = request.base_url + "?" + request.query_string.decode("latin-1")
        return Response(status=200, headers={"Location": f"{location}&upload_id={session.id}"})

    def _resume(self, request: Request, call: Call, session_id: str, body: bytes) -> Response:
        session = self._sessions.get(session_id)
        assert session is not None  # checked in _route
        with self._lock:
            if session.result is not None:  # finished: answer again, do nothing twice
                status, data = session.result
                return Response(status=204) if data is None else _json(data, status)
            first, total = parse_range(request.headers.get("Content-Range"), len(body))
            if first is not None:
                if first != len(session.data):
                    raise ApiError(400, f"Chunk starts at {first}, expected {len(session.data)}.")
                session.data.extend(body)
            limit = call.method.max_upload or MAX_MESSAGE_BYTES
            if len(session.data) > limit:
                raise ApiError(413, f"Media larger than the limit: {limit} bytes.")
            if total is None or len(session.data) < total:
                headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
                return Response(status=308, headers=headers)
            self._check_media(call.method, session.media_type, bytes(session.data))
            call.metadata, call.media = session.metadata, bytes(session.data)
            session.result = self._dispatch(call)
            session.data = bytearray()          # keep the answer, not the 35 MB
            status, data = session.result
        return Response(status=204) if data is None else _json(data, status)

    # ---- the methods -------------------------------------------------------------------
    def _dispatch(self, call: Call) -> tuple[int, dict[str, Any] | None]:
        handler = HANDLERS.get(call.method.id)
        if handler is None:
            raise ApiError(501, f"The emulator does not implement {call.method.id}.")
        with self._lock:
            before = len(call.mailbox.sent)
            result = handler(call)
            for msg in call.mailbox.sent[before:]:
                self._sent.append(_sent_record(call.mailbox.email, msg))
                self._pipeline(call.mailbox, msg)
            return 200, result

    def _pipeline(self, box: Mailbox, msg: StoredMessage) -> None:
        """Gmail's outbound processing after a send: rules, then delivery (lock held)."""
        outcome = compliance.run(self._rules, box.email, msg.raw, self._clock())
        if outcome.notice is not None:
            box.insert(outcome.notice, ["INBOX", "UNREAD"])
        for addr, raw in outcome.copies.items():
            if addr in self._mailboxes:
                self._mailboxes[addr].insert(raw, ["INBOX", "UNREAD"])
        self._outbound.append(OutboundRecord(box.email, msg.id, outcome))


@dataclass(frozen=True)
class OutboundRecord:
    user: str
    id: str
    outcome: compliance.Outcome = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        o = self.outcome
        return {"user": self.user, "id": self.id, "disposition": o.disposition(),
                "rule": o.rule, "quarantine": o.quarantine, "delivered": sorted(o.delivered),
                "rejected": o.rejected, "quarantined": o.quarantined,
                "copies": sorted(o.copies), "notice": o.notice is not None}


def _sent_record(user: str, msg: StoredMessage) -> SentMessage:
    mid = header(msg.headers, "Message-ID")
    return SentMessage(user=user, id=msg.id, thread_id=msg.thread_id,
                       message_id_header=normalise_message_id(mid) if mid else None,
                       internal_date=msg.internal_date, raw=msg.raw, headers=msg.headers)


class _QuietHandler(WSGIRequestHandler):
    """No access log: URLs carry search queries with addresses."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            log.error("gmail emulator: " + message, *args)


def serve_emulator(
    host: str = "127.0.0.1", port: int = 0, *, emulator: GmailEmulator | None = None,
) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve ``emulator`` (a new one by default) in a daemon thread; port 0 picks a free one.

    Stop with ``server.shutdown(); server.server_close()``. ``server.app`` is the emulator and
    ``emulator_url(server)`` the ``api_endpoint`` for the client.
    """
    app = emulator if emulator is not None else GmailEmulator()
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    # A short poll: shutdown() waits for the loop to notice (0.5 s at the default).
    thread = threading.Thread(target=server.serve_forever, name="gmail-emulator",
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def emulator_url(server: BaseWSGIServer) -> str:
    host = server.host if ":" not in server.host else f"[{server.host}]"
    return f"http://{host}:{server.server_port}/"


def main(argv: list[str] | None = None) -> None:
    """``python -m service.devtools.gmail_emulator.emulator --port 8081 --user
    me@example.com=TOKEN``.

    With ``--user`` only those tokens are accepted; without, any token is user@example.com.
    """
    parser = argparse.ArgumentParser(description="Local Gmail REST v1 emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--user", action="append", default=[], metavar="EMAIL=TOKEN")
    args = parser.parse_args(argv)
    emulator = GmailEmulator(default_user=None if args.user else "user@example.com")
    for item in args.user:
        email, _, token = item.partition("=")
        emulator.add_user(email, token)
    server, thread = serve_emulator(args.host, args.port, emulator=emulator)
    print(f"Gmail emulator on {emulator_url(server)}", flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
