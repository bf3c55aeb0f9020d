"""The emulator refuses what Google refuses: checked against the bundled discovery document.

Plain HTTP (requests), since the client library itself cannot send most of these mistakes.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.devtools.gmail_emulator.mailbox import MAX_MESSAGE_BYTES

from .support import User, message

ME = "gmail/v1/users/me"


@pytest.fixture
def user(full_user: User) -> User:
    """These tests exercise methods SendGuard never calls: a full-access token."""
    return full_user


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


RAW = b64(message())
NO_RCPT = b64(b"Subject: nobody\r\n\r\nx\r\n")
BAD_TO = b64(b"To: sato@a.co.jp suzuki@a.co.jp\r\nSubject: s\r\n\r\nx\r\n")

# (id, method, path, kwargs for requests, expected status, text expected in the message)
CASES: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    ("unknown-path", "GET", f"{ME}/nothing", {}, 404, "not found"),
    ("wrong-http-method", "POST", f"{ME}/profile", {}, 404, "not found"),
    ("unknown-query-param", "GET", f"{ME}/drafts?colour=red", {}, 400, 'Unknown name "colour"'),
    ("bad-enum", "GET", f"{ME}/drafts/r1?format=html", {}, 400, "format"),
    ("bad-integer", "GET", f"{ME}/drafts?maxResults=many", {}, 400, "maxResults"),
    ("bad-boolean", "GET", f"{ME}/drafts?includeSpamTrash=yes", {}, 400, "includeSpamTrash"),
    ("single-param-twice", "GET", f"{ME}/drafts?q=a&q=b", {}, 400, "only once"),
    ("alt-media", "GET", f"{ME}/profile?alt=media", {}, 400, "alt=json"),
    ("bad-page-token", "GET", f"{ME}/drafts?pageToken=abc", {}, 400, "pageToken"),
    ("unknown-body-field", "POST", f"{ME}/drafts",
     {"json": {"message": {"raw": RAW, "colour": 1}}}, 400, 'Unknown name "colour"'),
    ("body-wrong-type", "POST", f"{ME}/drafts", {"json": {"message": "x"}}, 400, "expected object"),
    ("body-not-json", "POST", f"{ME}/drafts", {"data": b"nope"}, 400, "Invalid JSON"),
    ("body-not-object", "POST", f"{ME}/drafts", {"json": [1]}, 400, "must be an object"),
    ("bad-base64", "POST", f"{ME}/messages/send", {"json": {"raw": "!!!"}}, 400, "Base64"),
    ("draft-without-message", "POST", f"{ME}/drafts", {"json": {}}, 400, "'raw' RFC822"),
    ("upload-without-type", "POST", f"upload/{ME}/drafts",
     {"data": b"To: a@b.example\r\n\r\nx", "headers": {"Content-Type": "message/rfc822"}},
     400, "uploadType"),
    ("upload-type-off-upload-path", "POST", f"{ME}/drafts?uploadType=media",
     {"json": {"message": {"raw": RAW}}}, 400, "uploadType"),
    ("upload-wrong-media-type", "POST", f"upload/{ME}/drafts?uploadType=media",
     {"data": b"x", "headers": {"Content-Type": "text/plain"}}, 400, "message/*"),
    ("multipart-one-part", "POST", f"upload/{ME}/drafts?uploadType=multipart",
     {"data": b"--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--",
      "headers": {"Content-Type": "multipart/related; boundary=b"}}, 400, "2 parts"),
    ("multipart-no-boundary", "POST", f"upload/{ME}/drafts?uploadType=multipart",
     {"data": b"x", "headers": {"Content-Type": "multipart/related"}}, 400, "boundary"),
    ("resumable-bad-length", "POST", f"upload/{ME}/drafts?uploadType=resumable",
     {"headers": {"X-Upload-Content-Length": "lots"}}, 400, "X-Upload-Content-Length"),
    ("unknown-upload-session", "PUT", f"upload/{ME}/drafts?uploadType=resumable&upload_id=no",
     {"data": b"x"}, 404, "upload session"),
    ("upload-path-of-plain-method", "GET", f"upload/{ME}/profile", {}, 404, "not found"),
    ("not-emulated", "GET", f"{ME}/labels", {}, 501, "does not implement"),
    ("other-user", "GET", "gmail/v1/users/someone@else.example/profile", {}, 403, "Delegation"),
    ("malformed-draft-id", "GET", f"{ME}/drafts/xyz", {}, 400, "Invalid id"),
    ("unknown-draft", "GET", f"{ME}/drafts/r123", {}, 404, "not found"),
    ("malformed-message-id", "GET", f"{ME}/messages/zz", {}, 400, "Invalid id"),
    ("unknown-message", "GET", f"{ME}/messages/0123456789abcdef", {}, 404, "not found"),
    ("send-draft-without-id", "POST", f"{ME}/drafts/send", {"json": {}}, 400, "draft id"),
    ("send-without-recipients", "POST", f"{ME}/messages/send", {"json": {"raw": NO_RCPT}},
     400, "Recipient address required"),
    ("send-missing-comma", "POST", f"{ME}/messages/send", {"json": {"raw": BAD_TO}},
     400, "Invalid To header"),
    ("unknown-thread", "POST", f"{ME}/drafts",
     {"json": {"message": {"raw": RAW, "threadId": "0123456789abcdef"}}}, 404, "not found"),
    ("malformed-thread", "POST", f"{ME}/drafts",
     {"json": {"message": {"raw": RAW, "threadId": "zzz"}}}, 400, "thread_id"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "text"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_refused_like_google(method: str, path: str, kwargs: dict[str, Any], status: int,
                             text: str, url: str, user: User) -> None:
    headers = {"Authorization": f"Bearer {user.token}", **kwargs.pop("headers", {})}
    resp = requests.request(method, url + path, headers=headers, timeout=10, **kwargs)
    assert resp.status_code == status
    error = resp.json()["error"]
    assert error["code"] == status and error["status"] and error["errors"][0]["reason"]
    assert text.lower() in error["message"].lower()


@pytest.mark.parametrize(("headers", "query"), [
    ({}, ""),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, ""),
    ({"Authorization": "Bearer "}, ""),
    ({"Authorization": "Bearer not-a-registered-token"}, ""),
    ({}, "?access_token=not-a-registered-token"),
], ids=["missing", "basic-scheme", "empty-bearer", "unknown-token", "unknown-query-token"])
def test_requests_without_valid_bearer_get_401(headers: dict[str, str], query: str,
                                               url: str) -> None:
    resp = requests.get(f"{url}{ME}/profile{query}", headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["error"]["status"] == "UNAUTHENTICATED"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_access_token_query_parameter_is_accepted(url: str, user: User) -> None:
    resp = requests.get(f"{url}{ME}/profile?access_token={user.token}", timeout=10)
    assert resp.status_code == 200 and resp.json()["emailAddress"] == user.email


def test_default_user_takes_any_token() -> None:
    app = Client(GmailEmulator(default_user="dev@example.com"))
    resp = app.get(f"/{ME}/profile", headers={"Authorization": "Bearer anything"})
    assert resp.status_code == 200 and resp.json is not None
    assert resp.json["emailAddress"] == "dev@example.com"
    assert app.get(f"/{ME}/profile").status_code == 401


def test_message_over_35_mb_in_json_is_refused(url: str, user: User) -> None:
    raw = b"To: bob@example.org\r\n\r\n" + b"a" * MAX_MESSAGE_BYTES
    resp = requests.post(f"{url}{ME}/messages/send", json={"raw": b64(raw)}, timeout=60,
                         headers={"Authorization": f"Bearer {user.token}"})
    assert resp.status_code == 400
    assert f"exceeds the limit: {MAX_MESSAGE_BYTES} bytes" in resp.json()["error"]["message"]


@pytest.mark.parametrize(("query", "headers"), [
    ("uploadType=media", {"Content-Type": "message/rfc822"}),
    ("uploadType=resumable", {"X-Upload-Content-Type": "message/rfc822",
                              "X-Upload-Content-Length": str(MAX_MESSAGE_BYTES + 1)}),
], ids=["simple", "resumable-announced"])
def test_upload_over_35_mb_is_413(query: str, headers: dict[str, str], url: str,
                                  user: User) -> None:
    body = b"To: bob@example.org\r\n\r\n" + b"a" * MAX_MESSAGE_BYTES if "media" in query else b""
    resp = requests.post(f"{url}upload/{ME}/drafts?{query}", data=body, timeout=60,
                         headers={"Authorization": f"Bearer {user.token}", **headers})
    assert resp.status_code == 413


# ---- the control API over HTTP ----------------------------------------------------------

def test_control_faults_over_http(url: str, user: User, emulator: GmailEmulator) -> None:
    auth = {"Authorization": f"Bearer {user.token}"}
    made = requests.post(f"{url}__emulator__/faults", timeout=10, json={
        "status": 503, "method": "getProfile", "retry_after": 2})
    assert made.status_code == 201 and made.json()["method"] == "gmail.users.getProfile"
    listed = requests.get(f"{url}__emulator__/faults", timeout=10).json()["faults"]
    assert [f["status"] for f in listed] == [503]
    first = requests.get(f"{url}{ME}/profile", headers=auth, timeout=10)
    assert first.status_code == 503 and first.headers["Retry-After"] == "2"
    assert requests.get(f"{url}{ME}/profile", headers=auth, timeout=10).status_code == 200
    requests.post(f"{url}__emulator__/faults", json={"status": 500}, timeout=10)
    assert requests.delete(f"{url}__emulator__/faults", timeout=10).status_code == 204
    assert requests.get(f"{url}{ME}/profile", headers=auth, timeout=10).status_code == 200
    seen = requests.get(f"{url}__emulator__/requests?method=getProfile", timeout=10).json()
    mine = [r for r in seen["requests"] if r["user"] == user.email]
    assert [(r["status"], r["fault"]) for r in mine] == [(503, True), (200, False), (200, False)]


@pytest.mark.parametrize("body", [
    {"status": 200}, {"status": 500, "times": 0}, {"method": "drafts.nope", "status": 500},
    {"colour": "red"}, {"delay": -1}, {"delay": 1000}, {}, {"status": 500, "skip": -1},
], ids=["not-an-error", "zero-times", "unknown-method", "unknown-field", "negative-delay",
        "huge-delay", "does-nothing", "negative-skip"])
def test_control_refuses_bad_faults(body: dict[str, Any], url: str,
                                    emulator: GmailEmulator) -> None:
    resp = requests.post(f"{url}__emulator__/faults", json=body, timeout=10)
    assert resp.status_code == 400 and resp.json()["error"]["message"]
    assert emulator.faults() == []


def test_control_users_sent_and_unknown(url: str, emulator: GmailEmulator) -> None:
    resp = requests.post(f"{url}__emulator__/users", timeout=10,
                         json={"email": "Carol@Sendguard.example", "token": "carol-token"})
    assert resp.status_code == 204
    auth = {"Authorization": "Bearer carol-token"}
    sent = requests.post(f"{url}{ME}/messages/send", headers=auth, timeout=10,
                         json={"raw": b64(message(to="dave@example.org", subject="件名"))})
    assert sent.status_code == 200
    listed = requests.get(f"{url}__emulator__/sent?user=carol@sendguard.example&raw=1",
                          timeout=10).json()["sent"]
    assert [(s["to"], s["subject"]) for s in listed] == [(["dave@example.org"], "件名")]
    assert base64.urlsafe_b64decode(listed[0]["raw"]).endswith(b"\n")
    assert requests.post(f"{url}__emulator__/users", json={"email": "x"},
                         timeout=10).status_code == 400
    assert requests.get(f"{url}__emulator__/nothing", timeout=10).status_code == 404
    status = requests.get(f"{url}__emulator__/", timeout=10).json()
    assert "carol@sendguard.example" in status["users"]


def test_reset_forgets_mail_but_keeps_tokens() -> None:
    emulator = GmailEmulator(default_user=None)
    emulator.add_user("erin@example.com", "erin")
    app = Client(emulator)
    auth = {"Authorization": "Bearer erin"}
    app.post(f"/{ME}/messages/send", headers=auth,
             data=json.dumps({"raw": b64(message())}), content_type="application/json")
    emulator.inject(500)
    assert len(emulator.sent()) == 1 and emulator.requests()
    assert app.post("/__emulator__/reset").status_code == 204
    assert emulator.sent() == [] and emulator.faults() == [] and emulator.requests() == []
    profile = app.get(f"/{ME}/profile", headers=auth).json
    assert profile is not None and profile["messagesTotal"] == 0


def test_runs_as_a_program() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "service.devtools.gmail_emulator.emulator",
                             "--port", "0",
                             "--user", "frank@example.com=frank-token"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Gmail emulator on http://127.0.0.1:")
        base = line.split(" on ", 1)[1].strip()
        resp = requests.get(f"{base}{ME}/profile", timeout=10,
                            headers={"Authorization": "Bearer frank-token"})
        assert resp.json()["emailAddress"] == "frank@example.com"
        assert requests.get(f"{base}{ME}/profile", timeout=10,
                            headers={"Authorization": "Bearer other"}).status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


S = "https://www.googleapis.com/auth/"
ADDON = [S + "gmail.addons.execute", S + "gmail.addons.current.action.compose",
         S + "gmail.addons.current.message.metadata", S + "gmail.compose",
         S + "userinfo.email", S + "script.locale"]


@pytest.mark.parametrize(("scopes", "method", "path", "headers", "allowed"), [
    (ADDON, "GET", f"{ME}/drafts", {}, True),
    (ADDON, "GET", f"{ME}/profile", {}, True),
    (ADDON, "GET", f"{ME}/messages", {}, False),
    (ADDON, "GET", f"{ME}/messages/18f3a0c0000001f1", {}, False),
    # the add-on's current-message scope works only with the open message's own token
    ([S + "gmail.addons.current.message.metadata"], "GET",
     f"{ME}/messages/18f3a0c0000001f1", {}, False),
    ([S + "gmail.addons.current.message.metadata"], "GET",
     f"{ME}/messages/18f3a0c0000001f1", {"X-Goog-Gmail-Access-Token": "t"}, True),
    ([S + "gmail.readonly"], "GET", f"{ME}/drafts", {}, True),
    ([S + "gmail.readonly"], "DELETE", f"{ME}/drafts/r1", {}, False),
    ([S + "gmail.send"], "GET", f"{ME}/drafts", {}, False),
    ([S + "userinfo.email"], "GET", f"{ME}/profile", {}, False),
], ids=["addon-drafts-list", "addon-profile", "addon-messages-list", "addon-messages-get",
        "current-message-without-its-token", "current-message-with-its-token",
        "readonly-reads-drafts", "readonly-cannot-delete", "send-cannot-list-drafts",
        "email-only"])
def test_scopes_are_enforced_per_method(scopes: list[str], method: str, path: str,
                                        headers: dict[str, str], allowed: bool,
                                        url: str, emulator: GmailEmulator) -> None:
    """Each call needs one of the scopes the discovery document lists for its method;
    otherwise Google's 403 (insufficientPermissions / ACCESS_TOKEN_SCOPE_INSUFFICIENT)."""
    token = f"ya29.scoped-{abs(hash((tuple(scopes), path, method)))}"
    emulator.add_user("scoped@sendguard.example", token, scopes)
    resp = requests.request(method, url + path, timeout=10,
                            headers={"Authorization": f"Bearer {token}", **headers})
    if allowed:
        assert resp.status_code != 403, resp.text
        return
    assert resp.status_code == 403
    error = resp.json()["error"]
    assert error["message"] == "Request had insufficient authentication scopes."
    assert error["status"] == "PERMISSION_DENIED"
    assert error["errors"][0]["reason"] == "insufficientPermissions"
    assert error["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize("scopes", [[], ["gmail.compose"], [None]],
                         ids=["none", "not-a-url", "not-a-string"])
def test_add_user_refuses_bad_scopes(scopes: list[Any], emulator: GmailEmulator) -> None:
    with pytest.raises(ValueError, match="scopes"):
        emulator.add_user("x@sendguard.example", "ya29.bad-scopes", scopes)


def test_a_drafts_last_save_can_be_set(emulator: GmailEmulator, user: User, url: str) -> None:
    """Tests back-date drafts: Gmail does not re-save an unchanged draft, so hours-old
    drafts are what a user reopening a message has."""
    draft_id, _, _ = emulator.put_draft(user.email, message())
    emulator.set_draft_saved(user.email, draft_id, 1_700_000_000_000)
    resp = requests.get(f"{url}{ME}/drafts/{draft_id}?format=minimal", timeout=10,
                        headers={"Authorization": f"Bearer {user.token}"})
    assert resp.json()["message"]["internalDate"] == "1700000000000"


def test_control_api_registers_a_user_with_scopes(url: str, emulator: GmailEmulator) -> None:
    token = "ya29.control-scoped"
    resp = requests.post(url + "__emulator__/users", timeout=10, json={
        "email": "ctl@sendguard.example", "token": token,
        "scopes": ["https://www.googleapis.com/auth/gmail.compose"]})
    assert resp.status_code == 204
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{url}{ME}/drafts", headers=auth, timeout=10).status_code == 200
    assert requests.get(f"{url}{ME}/messages", headers=auth, timeout=10).status_code == 403
