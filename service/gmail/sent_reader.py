"""Reading the user's Sent folder through the Gmail API with ``gmail.metadata`` only.

``gmail.metadata`` is the narrowest scope the discovery document lists for
``users.messages.list``, ``users.messages.get``, ``users.threads.get`` and
``users.history.list`` (``gmail.readonly`` and ``gmail.modify`` also read bodies). It reads
headers and labels, never a body; the document says its limits itself: the ``q`` parameter
"cannot be used when accessing the api using the gmail.metadata scope", nor formats
``full``/``raw``. So the Sent folder is listed with ``labelIds=SENT`` and each message read
with ``format=metadata`` and just the headers history needs.

One reader acts for one user with the add-on request's short-lived access token; it keeps
no token beyond its own life. Every call is tried once: a step that fails stops and the
next step (another request) goes on from the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError

from service.errors import GmailClientError, GmailError, GmailTransientError
from service.gmail.discovery import document_for

METADATA_SCOPE = "https://www.googleapis.com/auth/gmail.metadata"
# What history keeps of a sent message (service.storage.sent.sent_message reads these).
SENT_HEADERS = ("From", "To", "Cc", "Bcc", "Message-ID", "References", "In-Reply-To", "Date")
THREAD_HEADERS = ("From", "To", "Cc", "Message-ID")


class ScopeNotGranted(GmailClientError):
    """Gmail's 403 for a token without ``gmail.metadata`` (the user declined it, or the
    deployment does not ask for it)."""


class HistoryTooOld(GmailClientError):
    """``history.list``'s 404 for a start id Gmail no longer keeps: scan again."""


@dataclass(frozen=True)
class Page:
    ids: tuple[str, ...]
    next_token: str | None


@dataclass(frozen=True)
class HeaderMessage:
    id: str
    thread_id: str
    internal_date_ms: int
    headers: tuple[tuple[str, str], ...]
    label_ids: tuple[str, ...] = ()


def _error(exc: HttpError, operation: str) -> GmailError:
    status = int(exc.resp.status)
    text = exc.content.decode("utf-8", "replace") if isinstance(exc.content, bytes) else ""
    detail = f"{operation}: HTTP {status}"
    if status == 403 and ("insufficient" in text.lower() or "metadata scope" in text.lower()
                          or "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in text):
        return ScopeNotGranted("Gmail refused: scope not granted", http_status=403,
                               detail=detail)
    if status == 404 and operation == "history.list":
        return HistoryTooOld("history id too old", http_status=404, detail=detail)
    if status == 429 or status >= 500:
        return GmailTransientError("Gmail is busy", detail=detail)
    return GmailClientError("Gmail refused the request", http_status=status, detail=detail)


class SentReader:
    def __init__(self, token: str, endpoint: str, *, timeout: float = 10.0) -> None:
        if not token:
            raise ScopeNotGranted("no Gmail access token", http_status=401)
        self._http = google_auth_httplib2.AuthorizedHttp(
            Credentials(token), http=httplib2.Http(timeout=timeout))
        endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self._users = build_from_document(document_for(endpoint), http=self._http,
                                          client_options={"api_endpoint": endpoint}).users()

    def __repr__(self) -> str:
        return "SentReader(<token hidden>)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, operation: str, request: Any) -> Any:
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            raise _error(exc, operation) from None
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise GmailTransientError("Gmail did not answer",
                                      detail=f"{operation}: {type(exc).__name__}") from None

    def profile(self) -> tuple[str, str]:
        """Whose mailbox the token opens, and its current historyId (``users.getProfile``,
        which ``gmail.metadata`` allows)."""
        answer = self._run("getProfile", self._users.getProfile(userId="me"))
        return str(answer.get("emailAddress", "")).lower(), str(answer["historyId"])

    def sent_page(self, page_token: str | None, size: int) -> Page:
        """One page of Sent message ids, newest first (``labelIds=SENT``, never ``q``)."""
        answer = self._run("messages.list", self._users.messages().list(
            userId="me", labelIds=["SENT"], maxResults=size, pageToken=page_token or None,
            includeSpamTrash=False))
        ids = tuple(str(m["id"]) for m in answer.get("messages", ()))
        return Page(ids, answer.get("nextPageToken") or None)

    def sent_since(self, history_id: str, page_token: str | None) -> tuple[Page, str]:
        """Ids of messages added to Sent after ``history_id``, and the newest historyId."""
        answer = self._run("history.list", self._users.history().list(
            userId="me", startHistoryId=history_id, labelId="SENT", maxResults=500,
            pageToken=page_token or None))
        ids: list[str] = []
        for record in answer.get("history", ()):
            for added in record.get("messagesAdded", ()):
                msg = added.get("message", {})
                if "SENT" in msg.get("labelIds", ("SENT",)):
                    ids.append(str(msg["id"]))
            for added in record.get("labelsAdded", ()):
                if "SENT" in added.get("labelIds", ()):
                    ids.append(str(added["message"]["id"]))
        return (Page(tuple(dict.fromkeys(ids)), answer.get("nextPageToken") or None),
                str(answer.get("historyId") or history_id))

    def message(self, message_id: str) -> HeaderMessage | None:
        """The headers history needs; None when the message is gone meanwhile (404)."""
        try:
            m = self._run("messages.get", self._users.messages().get(
                userId="me", id=message_id, format="metadata",
                metadataHeaders=list(SENT_HEADERS)))
        except GmailClientError as exc:
            if exc.http_status == 404 and not isinstance(exc, ScopeNotGranted):
                return None
            raise
        return _header_message(m)

    def thread(self, thread_id: str) -> Sequence[HeaderMessage]:
        """The thread's messages with their address headers (``format=metadata``)."""
        answer = self._run("threads.get", self._users.threads().get(
            userId="me", id=thread_id, format="metadata",
            metadataHeaders=list(THREAD_HEADERS)))
        return [_header_message(m) for m in answer.get("messages", ())]


def _header_message(m: dict[str, Any]) -> HeaderMessage:
    headers = tuple((str(h.get("name", "")), str(h.get("value", "")))
                    for h in (m.get("payload") or {}).get("headers", ()))
    try:
        when = int(m.get("internalDate") or 0)
    except (TypeError, ValueError):
        when = 0
    labels = tuple(str(x) for x in m.get("labelIds") or ())
    return HeaderMessage(str(m.get("id", "")), str(m.get("threadId", "")), when, headers,
                         labels)


def as_raw(headers: Sequence[tuple[str, str]]) -> bytes:
    """Headers as the top of a message (UTF-8 where Gmail decoded encoded words), for the
    same parser ``history import`` uses on mbox files."""
    lines = []
    for name, value in headers:
        clean = " ".join(value.replace("\r", " ").replace("\n", " ").split())
        if name and ":" not in name:
            lines.append(f"{name}: {clean}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")
