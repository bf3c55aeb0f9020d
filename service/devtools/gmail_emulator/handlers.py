"""The Gmail methods the emulator serves, one function each, over a user's ``Mailbox``.

Each gets a request already routed, authenticated and checked against the discovery
document (``Call``) and returns the JSON Gmail would answer, or None for an empty 204.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.devtools.gmail_emulator.mailbox import (
    MAX_MESSAGE_BYTES,
    Mailbox,
    MailboxError,
    StoredMessage,
)
from service.devtools.gmail_emulator.validate import ApiError, decode_bytes
from service.gmail.base64url import b64url
from service.gmail.discovery import ApiMethod

FORMATS = ("full", "metadata", "minimal", "raw")


@dataclass
class Call:
    """One API request, routed and checked, for a handler."""

    method: ApiMethod
    mailbox: Mailbox
    path: dict[str, str]
    query: dict[str, Any]
    metadata: dict[str, Any] | None = None
    media: bytes | None = None


def profile(call: Call) -> dict[str, Any]:
    box = call.mailbox
    return {"emailAddress": box.email, "messagesTotal": len(box.messages),
            "threadsTotal": len({m.thread_id for m in box.messages.values()}),
            "historyId": str(box.history_id)}


def drafts_list(call: Call) -> dict[str, Any]:
    found = call.mailbox.list_drafts(call.query.get("q"))
    page, token = _page(found, call.query)
    out: dict[str, Any] = {"resultSizeEstimate": len(page)}
    if page:
        out["drafts"] = [{"id": d, "message": {"id": m.id, "threadId": m.thread_id}}
                         for d, m in page]
    if token:
        out["nextPageToken"] = token
    return out


def drafts_get(call: Call) -> dict[str, Any]:
    draft_id = call.path["id"]
    msg = call.mailbox.draft(draft_id)
    return {"id": draft_id, "message": _render(msg, call.query.get("format", "full"), None)}


def drafts_create(call: Call) -> dict[str, Any]:
    raw, thread_id = _message_of(call, required=True)
    assert raw is not None
    draft_id, msg = call.mailbox.create_draft(raw, thread_id)
    return _draft_ref(draft_id, msg)


def drafts_update(call: Call) -> dict[str, Any]:
    draft_id = call.path["id"]
    raw, thread_id = _message_of(call, required=True)
    assert raw is not None
    msg = call.mailbox.update_draft(draft_id, raw, thread_id)
    return _draft_ref(draft_id, msg)


def drafts_delete(call: Call) -> None:
    call.mailbox.delete_draft(call.path["id"])


def drafts_send(call: Call) -> dict[str, Any]:
    draft_id = (call.metadata or {}).get("id")
    if not draft_id:
        raise ApiError(400, "Invalid draft: the request must name the draft id.")
    raw, thread_id = _message_of(call, required=False)
    msg = call.mailbox.send_draft(draft_id, raw, thread_id)
    return {"id": msg.id, "threadId": msg.thread_id, "labelIds": list(msg.label_ids)}


def messages_get(call: Call) -> dict[str, Any]:
    msg = call.mailbox.message(call.path["id"])
    return _render(msg, call.query.get("format", "full"), call.query.get("metadataHeaders"))


def messages_list(call: Call) -> dict[str, Any]:
    found = call.mailbox.list_messages(call.query.get("q"), call.query.get("labelIds", ()),
                                       bool(call.query.get("includeSpamTrash")))
    page, token = _page(found, call.query)
    out: dict[str, Any] = {"resultSizeEstimate": len(page)}
    if page:
        out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
    if token:
        out["nextPageToken"] = token
    return out


def threads_get(call: Call) -> dict[str, Any]:
    """A thread's messages, oldest first (drafts included, as Gmail lists them)."""
    thread_id = call.path["id"]
    msgs = call.mailbox.thread(thread_id)
    fmt = call.query.get("format", "full")
    rendered = [_render(m, fmt, call.query.get("metadataHeaders")) for m in msgs]
    return {"id": thread_id, "historyId": str(max(m.history_id for m in msgs)),
            "messages": rendered}


def history_list(call: Call) -> dict[str, Any]:
    """Messages added (or newly labelled ``labelId``) after ``startHistoryId``: one record
    each. A start older than the mailbox keeps (``Mailbox.oldest_history_id``) is 404, as
    Gmail answers an out-of-date id."""
    start = int(call.query["startHistoryId"])
    box = call.mailbox
    if start < box.oldest_history_id or start > box.history_id:
        raise ApiError(404, "Requested entity was not found.")
    label = call.query.get("labelId")
    found = sorted((m for m in box.messages.values()
                    if m.history_id > start and (not label or label in m.label_ids)),
                   key=lambda m: m.history_id)
    page, token = _page(found, call.query)
    out: dict[str, Any] = {"historyId": str(box.history_id)}
    if page:
        out["history"] = [{"id": str(m.history_id),
                           "messages": [{"id": m.id, "threadId": m.thread_id}],
                           "messagesAdded": [{"message": {"id": m.id, "threadId": m.thread_id,
                                                          "labelIds": list(m.label_ids)}}]}
                          for m in page]
    if token:
        out["nextPageToken"] = token
    return out


def messages_send(call: Call) -> dict[str, Any]:
    raw, thread_id = _message_of(call, required=True)
    assert raw is not None
    msg = call.mailbox.send_message(raw, thread_id)
    return {"id": msg.id, "threadId": msg.thread_id, "labelIds": list(msg.label_ids)}


def attachment(call: Call) -> dict[str, Any]:
    data = call.mailbox.attachment(call.path["messageId"], call.path["id"])
    return {"attachmentId": call.path["id"], "size": len(data), "data": b64url(data)}


HANDLERS: dict[str, Callable[[Call], Any]] = {
    "gmail.users.getProfile": profile,
    "gmail.users.drafts.list": drafts_list,
    "gmail.users.drafts.get": drafts_get,
    "gmail.users.drafts.create": drafts_create,
    "gmail.users.drafts.update": drafts_update,
    "gmail.users.drafts.delete": drafts_delete,
    "gmail.users.drafts.send": drafts_send,
    "gmail.users.messages.get": messages_get,
    "gmail.users.messages.list": messages_list,
    "gmail.users.messages.send": messages_send,
    "gmail.users.messages.attachments.get": attachment,
    "gmail.users.threads.get": threads_get,
    "gmail.users.history.list": history_list,
}


def _message_of(call: Call, *, required: bool) -> tuple[bytes | None, str | None]:
    """The raw message and thread of a Draft or Message body, media winning over ``raw``."""
    body = call.metadata or {}
    message = body.get("message") or {} if call.method.request_schema == "Draft" else body
    thread_id = message.get("threadId") or None
    if call.media is not None:
        return call.media, thread_id
    raw = message.get("raw")
    if raw:
        data = decode_bytes(raw, "raw")
        if len(data) > MAX_MESSAGE_BYTES:
            raise MailboxError(400, f"Request payload size exceeds the limit: "
                                    f"{MAX_MESSAGE_BYTES} bytes.")
        return data, thread_id
    if required:
        raise ApiError(400, "'raw' RFC822 payload message string or uploading message via "
                            "/upload/* URL required")
    return None, thread_id


def _draft_ref(draft_id: str, msg: StoredMessage) -> dict[str, Any]:
    return {"id": draft_id,
            "message": {"id": msg.id, "threadId": msg.thread_id, "labelIds": list(msg.label_ids)}}


def _render(msg: StoredMessage, fmt: str, wanted: list[str] | None) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise ApiError(400, f"Invalid format {fmt!r}")
    out = msg.meta()
    if fmt == "raw":
        out["raw"] = b64url(msg.raw)
    elif fmt == "full":
        out["payload"] = msg.view().payload
    elif fmt == "metadata":
        names = {w.lower() for w in wanted or ()}
        headers = [{"name": k, "value": v} for k, v in msg.headers
                   if not names or k.lower() in names]
        out["payload"] = {"mimeType": msg.view().payload["mimeType"], "headers": headers}
    return out


def _page(items: list[Any], query: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    size = min(int(query.get("maxResults", 100)), 500)
    token = query.get("pageToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise ApiError(400, "Invalid pageToken") from None
    end = start + max(size, 1)
    return items[start:end], (str(end) if end < len(items) else None)
