"""The Gmail adapter: google-api-python-client, built from its bundled discovery document.

One ``ApiGmailClient`` acts for one user with the add-on's per-request OAuth access token
(``authorizationEventObject.userOAuthToken``); it is cheap to build and not thread-safe.

Sending at most once. A send that fails with 5xx or a network error may still have gone
out, and httplib2 itself silently repeats a request once when the connection drops before
an answer. So ``send_draft`` never repeats blindly: after an ambiguous failure (or a 404,
which is what the repeat of a send that already happened gets) it asks Gmail whether the
draft is still there (``drafts.get``, allowed by ``gmail.compose``). Still there: nothing
was sent, it tries again. Gone: the send consumed it (or the user discarded it), which the
granted scopes cannot tell apart, so the answer is "not confirmed", never a second send.
``drafts.send`` consumes the draft atomically, so two racing sends cannot both succeed.
Only calls that ``gmail.compose`` authorises are made (per the discovery document).
``send_message`` goes through a draft for the same guarantee. Large bodies go up as
resumable uploads, whose finished session answers a repeat with the first result.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.http import HttpRequest, MediaIoBaseUpload

from service.errors import GmailClientError, GmailTransientError
from service.gmail.base64url import b64url, b64url_decode
from service.gmail.discovery import document_for
from service.gmail.endpoint import GMAIL_API_ENDPOINT
from service.gmail.headers import addresses, ensure_message_id, header_values, parse_headers
from service.gmail.model import (
    DraftInfo,
    DraftMessage,
    DraftRef,
    GmailClient,
    SentRef,
    from_epoch_ms,
)
from service.gmail.retry import NOT_CONFIRMED, Backoff, Failure, classify, client_error

__all__ = ["ApiGmailClient", "DraftInfo", "DraftMessage", "DraftRef", "GmailClient", "SentRef"]

RESUMABLE_ABOVE = 5 << 20      # Google's advice: simple/multipart up to 5 MB, resumable above
CHUNK = 8 << 20                # a multiple of 256 KiB, as the resumable protocol requires


class ApiGmailClient(GmailClient):
    def __init__(self, credentials_token: str, endpoint: str = GMAIL_API_ENDPOINT, *,
                 retries: int = 4, backoff: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, timeout: float = 60.0,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.time,
                 max_retry_after: float = 30.0) -> None:
        if not credentials_token:
            raise GmailClientError("No Gmail access token in the request.", http_status=401)
        self._clock = clock
        self._backoff = Backoff(retries, backoff, sleep, rng or random.Random(),
                                max_retry_after=max_retry_after)
        transport = httplib2.Http(timeout=timeout)
        # 308 is the resumable-upload "continue" answer, not a redirect (as googleapiclient's
        # own build_http sets it).
        transport.redirect_codes = transport.redirect_codes - {308}
        self._http = google_auth_httplib2.AuthorizedHttp(Credentials(credentials_token),
                                                         http=transport)
        endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self._service = build_from_document(document_for(endpoint), http=self._http,
                                            client_options={"api_endpoint": endpoint})

    def __repr__(self) -> str:
        return "ApiGmailClient(<token hidden>)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiGmailClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- plumbing ----------------------------------------------------------------------
    def _drafts(self) -> Any:
        return self._service.users().drafts()

    def _attempt(self, make: Callable[[], HttpRequest]) -> tuple[Any, Failure | None]:
        try:
            return make().execute(num_retries=0), None
        except Exception as exc:
            failure = classify(exc, self._clock)
            if failure is None:
                raise
            return None, failure

    def _call(self, operation: str, make: Callable[[], HttpRequest]) -> Any:
        """For calls that are safe to repeat: retry every transient failure."""
        attempt = 0
        while True:
            result, failure = self._attempt(make)
            if failure is None:
                return result
            if not failure.transient:
                raise client_error(failure, operation)
            self._backoff.wait(operation, attempt, failure)
            attempt += 1

    @staticmethod
    def _resumable(raw: bytes) -> bool:
        """Large bodies, and 8-bit ones: googleapiclient's multipart upload re-encodes the
        body with the stdlib generator, which fails on 8-bit bytes; a resumable upload sends
        them as they are."""
        return len(raw) > RESUMABLE_ABOVE or not raw.isascii()

    def _media(self, raw: bytes) -> Callable[[], MediaIoBaseUpload]:
        if self._resumable(raw):
            upload = MediaIoBaseUpload(io.BytesIO(raw), mimetype="message/rfc822",
                                       chunksize=CHUNK, resumable=True)
            return lambda: upload          # one session, resumed across tries
        return lambda: MediaIoBaseUpload(io.BytesIO(raw), mimetype="message/rfc822")

    def _reusable(self, make: Callable[[], HttpRequest], raw: bytes) -> Callable[[], HttpRequest]:
        """Resumable uploads keep one request (one session) across tries; built lazily so a
        refusal at build time (too large) goes through the same error path."""
        if not self._resumable(raw):
            return make
        made: list[HttpRequest] = []

        def once() -> HttpRequest:
            if not made:
                made.append(make())
            return made[0]
        return once

    # ---- reading -----------------------------------------------------------------------
    def list_drafts(self, query: str | None = None, max_results: int = 50) -> list[DraftRef]:
        size = max(1, min(500, max_results))
        resp = self._call("drafts.list", lambda: self._drafts().list(
            userId="me", q=query or None, maxResults=size))
        return [DraftRef(d["id"], d["message"]["id"], d["message"]["threadId"])
                for d in resp.get("drafts", [])]

    def draft_info(self, draft_id: str) -> DraftInfo:
        resp = self._call("drafts.get", lambda: self._drafts().get(
            userId="me", id=draft_id, format="metadata"))
        msg = resp["message"]
        headers = tuple((h["name"], h["value"]) for h in msg.get("payload", {}).get("headers", []))
        return DraftInfo(resp["id"], msg["id"], msg["threadId"],
                         from_epoch_ms(msg["internalDate"]), headers)

    def get_draft(self, draft_id: str) -> DraftMessage:
        resp = self._call("drafts.get", lambda: self._drafts().get(
            userId="me", id=draft_id, format="raw"))
        msg = resp["message"]
        raw = b64url_decode(msg["raw"])
        return DraftMessage(resp["id"], msg["id"], msg["threadId"],
                            from_epoch_ms(msg["internalDate"]), parse_headers(raw), raw)

    # ---- writing -----------------------------------------------------------------------
    def update_draft(self, draft_id: str, raw: bytes, thread_id: str | None) -> DraftRef:
        """Replace the draft's message (a PUT: repeating it is harmless)."""
        body: dict[str, Any] = {"id": draft_id}
        if thread_id:
            body["message"] = {"threadId": thread_id}
        media = self._media(raw)
        make = self._reusable(lambda: self._drafts().update(
            userId="me", id=draft_id, body=body, media_body=media()), raw)
        resp = self._call("drafts.update", make)
        return DraftRef(resp["id"], resp["message"]["id"], resp["message"]["threadId"])

    def create_draft(self, raw: bytes, thread_id: str | None = None) -> DraftRef:
        """A new draft. After an ambiguous failure it looks for the draft by Message-ID first,
        so a repeat leaves at most a stray copy, never a lost one."""
        raw, mid = ensure_message_id(raw, _domain_of(raw))
        body: dict[str, Any] = {"message": {"threadId": thread_id}} if thread_id else {}
        media = self._media(raw)
        make = self._reusable(lambda: self._drafts().create(
            userId="me", body=body or None, media_body=media()), raw)
        attempt = 0
        while True:
            resp, failure = self._attempt(make)
            if failure is None:
                return DraftRef(resp["id"], resp["message"]["id"], resp["message"]["threadId"])
            if not failure.transient:
                raise client_error(failure, "drafts.create")
            if failure.ambiguous and not self._resumable(raw):
                found = self.list_drafts(f"rfc822msgid:{mid}", max_results=1)
                if found:
                    return found[0]
            self._backoff.wait("drafts.create", attempt, failure)
            attempt += 1

    def send_draft(self, draft_id: str, raw: bytes | None = None) -> SentRef:
        """Send once: after an ambiguous failure, check before trying again (module doc).

        With ``raw``, the request carries the message (``drafts.send``'s body is a Draft):
        Gmail replaces the draft with exactly these bytes and sends them in one call, so
        whatever an autosave wrote meanwhile is not what goes out."""
        info = self.draft_info(draft_id)
        body: dict[str, Any] = {"id": draft_id}
        make: Callable[[], HttpRequest]
        if raw is not None:       # the draft stays in its thread (a reply)
            body["message"] = {"threadId": info.thread_id} if info.thread_id else {}
        if raw is None:
            make = lambda: self._drafts().send(userId="me", body=body)  # noqa: E731
        elif self._resumable(raw):
            media = self._media(raw)
            make = self._reusable(lambda: self._drafts().send(
                userId="me", body=body, media_body=media()), raw)
        else:
            body["message"]["raw"] = b64url(raw)
            make = lambda: self._drafts().send(userId="me", body=body)  # noqa: E731
        attempt = 0
        while True:
            resp, failure = self._attempt(make)
            if failure is None:
                return SentRef(resp["id"], resp["threadId"])
            if failure.ambiguous or failure.status == 404:
                sent = self._outcome(info)
                if sent is not None:
                    return sent
            elif not failure.transient:
                raise client_error(failure, "drafts.send")
            self._backoff.wait("drafts.send", attempt, failure)
            attempt += 1

    def send_message(self, raw: bytes, thread_id: str | None = None) -> SentRef:
        """Send a complete message, at most once, through a draft of it."""
        return self.send_draft(self.create_draft(raw, thread_id).draft_id)

    # ---- did it go out? ----------------------------------------------------------------
    def _outcome(self, info: DraftInfo) -> SentRef | None:
        """None if the draft is still there (so it was not sent: try again). A draft that
        is gone was consumed by the send (or discarded meanwhile): with ``gmail.compose``
        SendGuard cannot read Sent to confirm which (``messages.get``/``list`` need read
        scopes it does not ask for), so that is ``GmailTransientError(NOT_CONFIRMED)``,
        never a second send and never "nothing was sent"."""
        try:
            self._call("drafts.get", lambda: self._drafts().get(
                userId="me", id=info.draft_id, format="minimal"))
            return None
        except GmailClientError as exc:
            if exc.http_status != 404:
                raise
        except GmailTransientError:
            pass
        raise GmailTransientError(NOT_CONFIRMED, detail=NOT_CONFIRMED)


def _domain_of(raw: bytes) -> str:
    """Message-IDs name the sender's domain, as mail clients do."""
    found = sorted(addresses(header_values(parse_headers(raw), "From")))
    return found[0].rsplit("@", 1)[1] if found else "sendguard.invalid"
