"""The real google-api-python-client against the emulator over loopback HTTP."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build, build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.gmail.discovery import document_for

from .support import User, message


@pytest.fixture
def user(full_user: User) -> User:
    """These tests exercise methods SendGuard never calls: a full-access token."""
    return full_user


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def api(user: User, url: str) -> Iterator[Any]:
    service = build_from_document(document_for(url), credentials=Credentials(user.token),
                                  client_options={"api_endpoint": url})
    yield service
    service.close()


def test_client_built_from_bundled_discovery_talks_to_emulator(user: User, url: str) -> None:
    service = build("gmail", "v1", credentials=Credentials(user.token), static_discovery=True,
                    client_options={"api_endpoint": url})
    try:
        profile = service.users().getProfile(userId="me").execute()
        assert profile["emailAddress"] == user.email
        assert service.users().drafts().list(userId="me").execute() == {"resultSizeEstimate": 0}
        # api_endpoint moves upload URLs to our host but keeps Google's https scheme, which is
        # why the adapter builds from document_for(endpoint) instead.
        upload = service.users().messages().send(
            userId="me", media_body=MediaIoBaseUpload(io.BytesIO(b"x"), "message/rfc822"))
        assert upload.uri.startswith("https://127.0.0.1:")
        fixed = build_from_document(document_for(url), credentials=Credentials(user.token),
                                    client_options={"api_endpoint": url})
        upload = fixed.users().messages().send(
            userId="me", media_body=MediaIoBaseUpload(io.BytesIO(b"x"), "message/rfc822"))
        assert upload.uri.startswith(url + "upload/gmail/v1/users/me/messages/send")
        fixed.close()
    finally:
        service.close()


def _json(raw: bytes) -> dict[str, Any]:
    return {"body": {"message": {"raw": b64(raw)}}}


def _media(raw: bytes) -> dict[str, Any]:
    return {"media_body": MediaIoBaseUpload(io.BytesIO(raw), "message/rfc822")}


def _multipart(raw: bytes) -> dict[str, Any]:
    return {"body": {"message": {}}, "media_body": MediaIoBaseUpload(io.BytesIO(raw),
                                                                     "message/rfc822")}


def _resumable(raw: bytes) -> dict[str, Any]:
    return {"media_body": MediaIoBaseUpload(io.BytesIO(raw), "message/rfc822",
                                            chunksize=256 * 1024, resumable=True)}


UPLOADS: dict[str, Callable[[bytes], dict[str, Any]]] = {
    "json-raw": _json, "simple-media": _media, "multipart": _multipart, "resumable": _resumable}


@pytest.mark.parametrize("how", list(UPLOADS), ids=list(UPLOADS))
def test_drafts_create_list_get_update_send(how: str, api: Any, emulator: GmailEmulator,
                                            user: User) -> None:
    drafts = api.users().drafts()
    raw = message(subject="v1", attachments=(("data.bin", "application/octet-stream",
                                             bytes(range(256)) * 3000),))
    created = drafts.create(userId="me", **UPLOADS[how](raw)).execute()
    assert created["message"]["labelIds"] == ["DRAFT"]
    draft_id, first_message = created["id"], created["message"]["id"]

    listed = drafts.list(userId="me").execute()
    assert [d["id"] for d in listed["drafts"]] == [draft_id]
    got = drafts.get(userId="me", id=draft_id, format="raw").execute()
    assert unb64(got["message"]["raw"]).endswith(raw.split(b"\n", 1)[1])

    raw2 = message(subject="v2")
    updated = drafts.update(userId="me", id=draft_id, **UPLOADS[how](raw2)).execute()
    assert updated["id"] == draft_id and updated["message"]["id"] != first_message
    with pytest.raises(HttpError) as gone:
        api.users().messages().get(userId="me", id=first_message).execute()
    assert gone.value.status_code == 404

    sent = drafts.send(userId="me", body={"id": draft_id}).execute()
    assert sent["labelIds"] == ["SENT"]
    with pytest.raises(HttpError) as consumed:
        drafts.get(userId="me", id=draft_id).execute()
    assert consumed.value.status_code == 404
    [record] = emulator.sent(user.email)
    assert record.id == sent["id"]
    assert message_from_bytes(record.raw, policy=policy.default)["Subject"] == "v2"


def test_resumable_upload_goes_in_chunks(api: Any, emulator: GmailEmulator, user: User) -> None:
    raw = message(attachments=(("big.bin", "application/octet-stream", b"\x01" * 900_000),))
    api.users().drafts().create(userId="me", **_resumable(raw)).execute()
    statuses = [r.status for r in emulator.requests("drafts.create") if r.user == user.email]
    assert statuses[0] == 200 and statuses[-1] == 200
    assert statuses.count(308) == len(raw) // (256 * 1024)


def test_drafts_delete_and_paging(api: Any) -> None:
    drafts = api.users().drafts()
    ids = [drafts.create(userId="me", **_json(message(subject=f"n{i}"))).execute()["id"]
           for i in range(3)]
    page = drafts.list(userId="me", maxResults=2).execute()
    assert len(page["drafts"]) == 2 and page["nextPageToken"]
    rest = drafts.list(userId="me", maxResults=2, pageToken=page["nextPageToken"]).execute()
    assert {d["id"] for d in page["drafts"] + rest["drafts"]} == set(ids)
    drafts.delete(userId="me", id=ids[0]).execute()
    assert ids[0] not in {d["id"] for d in drafts.list(userId="me").execute()["drafts"]}


ATTACHMENT = ("名簿.csv", "text/csv", "氏名,電話\n佐藤,090-1234-5678\n".encode())


@pytest.fixture
def stored(api: Any) -> tuple[str, bytes]:
    raw = message(subject="会議資料の送付", attachments=(ATTACHMENT,))
    sent = api.users().messages().send(userId="me", body={"raw": b64(raw)}).execute()
    return sent["id"], raw


@pytest.mark.parametrize("fmt", ["minimal", "raw", "metadata", "full"])
def test_messages_get_formats(fmt: str, api: Any, stored: tuple[str, bytes]) -> None:
    msg_id, raw = stored
    got = api.users().messages().get(userId="me", id=msg_id, format=fmt).execute()
    assert got["id"] == msg_id and got["labelIds"] == ["SENT"]
    assert int(got["internalDate"]) > 0 and int(got["historyId"]) > 0
    assert got["sizeEstimate"] >= len(raw) and got["snippet"].startswith("Hello Bob")
    assert ("raw" in got) == (fmt == "raw")
    assert ("payload" in got) == (fmt in ("metadata", "full"))
    if fmt == "raw":
        assert unb64(got["raw"]).endswith(raw.split(b"\n", 1)[1])
    if fmt in ("metadata", "full"):
        headers = {h["name"]: h["value"] for h in got["payload"]["headers"]}
        assert headers["Subject"] == "会議資料の送付"
    if fmt == "full":
        payload = got["payload"]
        assert payload["partId"] == "" and payload["mimeType"] == "multipart/mixed"
        text, attachment = payload["parts"]
        assert (text["partId"], text["mimeType"]) == ("0", "text/plain")
        assert unb64(text["body"]["data"]).startswith(b"Hello Bob")
        assert (attachment["partId"], attachment["filename"]) == ("1", "名簿.csv")
        assert "data" not in attachment["body"]
        assert attachment["body"]["size"] == len(ATTACHMENT[2])


def test_metadata_headers_filter(api: Any, stored: tuple[str, bytes]) -> None:
    got = api.users().messages().get(userId="me", id=stored[0], format="metadata",
                                     metadataHeaders=["subject", "To"]).execute()
    assert sorted(h["name"] for h in got["payload"]["headers"]) == ["Subject", "To"]


def test_attachments_get(api: Any, stored: tuple[str, bytes]) -> None:
    msg = api.users().messages().get(userId="me", id=stored[0]).execute()
    att_id = msg["payload"]["parts"][1]["body"]["attachmentId"]
    got = api.users().messages().attachments().get(userId="me", messageId=stored[0],
                                                   id=att_id).execute()
    assert unb64(got["data"]) == ATTACHMENT[2] and got["size"] == len(ATTACHMENT[2])
    with pytest.raises(HttpError) as bad:
        api.users().messages().attachments().get(userId="me", messageId=stored[0],
                                                 id="ANGjdJnope").execute()
    assert bad.value.status_code == 400


def test_nested_parts_are_numbered_like_gmail(api: Any) -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["To"], msg["Subject"] = "bob@example.org", "nested"
    msg.set_content("plain")
    msg.add_alternative("<p>html</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    sent = api.users().messages().send(userId="me", body={"raw": b64(bytes(msg))}).execute()
    payload = api.users().messages().get(userId="me", id=sent["id"]).execute()["payload"]

    def walk(part: dict[str, Any]) -> list[tuple[str, str]]:
        return [(part["partId"], part["mimeType"])] + [
            p for child in part.get("parts", []) for p in walk(child)]

    assert walk(payload) == [("", "multipart/mixed"), ("0", "multipart/alternative"),
                             ("0.0", "text/plain"), ("0.1", "text/html"),
                             ("1", "application/pdf")]


def test_reply_draft_joins_the_thread(api: Any, emulator: GmailEmulator, user: User) -> None:
    _, thread = emulator.put_message(user.email, message(sender="bob@example.org",
                                                         to=user.email))
    created = api.users().drafts().create(userId="me", body={
        "message": {"raw": b64(message(subject="Re: Quarterly report")),
                    "threadId": thread}}).execute()
    assert created["message"]["threadId"] == thread
    listed = api.users().messages().list(userId="me", q="in:drafts").execute()
    assert [m["threadId"] for m in listed["messages"]] == [thread]


def test_gmail_adds_a_message_id_when_missing(api: Any) -> None:
    raw = b"To: bob@example.org\r\nSubject: bare\r\n\r\nhi\r\n"
    draft = api.users().drafts().create(userId="me", body={"message": {"raw": b64(raw)}}).execute()
    got = api.users().drafts().get(userId="me", id=draft["id"], format="metadata").execute()
    names = [h["name"] for h in got["message"]["payload"]["headers"]]
    assert names[0] == "Message-ID" and names[1:] == ["To", "Subject"]


def test_search_by_rfc822msgid(api: Any) -> None:
    raw = b"Message-ID: <abc.123@sendguard.example>\r\nTo: bob@example.org\r\n\r\nx\r\n"
    sent = api.users().messages().send(userId="me", body={"raw": b64(raw)}).execute()
    for query in ("rfc822msgid:abc.123@sendguard.example",
                  "rfc822msgid:<abc.123@sendguard.example> in:sent"):
        found = api.users().messages().list(userId="me", q=query).execute()
        assert [m["id"] for m in found["messages"]] == [sent["id"]]
    assert api.users().messages().list(userId="me", q="rfc822msgid:other@x").execute() == {
        "resultSizeEstimate": 0}


def test_dropped_connection_makes_httplib2_repeat_a_send(api: Any, emulator: GmailEmulator,
                                                         user: User) -> None:
    """Why the adapter never uses messages.send: httplib2 silently sends the request again
    when the connection drops before the answer, and the message goes out twice."""
    emulator.inject(method="messages.send", drop=True, after_commit=True)
    raw = message(subject="twice")
    api.users().messages().send(userId="me", body={"raw": b64(raw)}).execute()
    assert len(emulator.sent(user.email)) == 2
