"""The emulator's outbound pipeline: content compliance rules of the shape Google documents
(Full headers; contains / not contains / regex; reject, quarantine, modify), driven through
the real google-api-python-client as a user's Gmail would send."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document

from service.devtools.gmail_emulator.compliance import Rule
from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.gmail.discovery import document_for

from .support import User, message

STAMP = "X-SendGuard-Checked: v1; k=k1; t=1790000000; n=AAAAAAAAAAAAAAAAAAAAAA; h=" + "A" * 43
PARTNER = "tanaka@partner.example"
UNCHECKED = {"description": "SendGuard – unchecked outbound", "match": "not_contains",
             "content": "X-SendGuard-Checked: v1;"}
RULES: dict[str, dict[str, Any]] = {
    "reject": {**UNCHECKED, "action": "reject",
               "notice": "Use SendGuard › Check & send instead of Gmail's Send."},
    "quarantine": {**UNCHECKED, "action": "quarantine", "quarantine": "SendGuard – unchecked"},
    "report": {**UNCHECKED, "action": "modify", "add_headers": {"X-SendGuard-Bypass": "1"},
               "also_deliver_to": ["AUDIT"]},
}


@pytest.fixture
def rules(emulator: GmailEmulator) -> Iterator[GmailEmulator]:
    yield emulator
    emulator.set_rules([])


@pytest.fixture
def audit_box(emulator: GmailEmulator) -> User:
    n = random.randrange(10**9)
    u = User(f"sendguard-audit{n}@sendguard.example", f"ya29.audit-{n}")
    emulator.add_user(u.email, u.token)
    return u


def gmail(user: User, url: str) -> Any:
    return build_from_document(document_for(url), credentials=Credentials(user.token),
                               client_options={"api_endpoint": url})


def send(service: Any, raw: bytes) -> dict[str, Any]:
    body = {"raw": base64.urlsafe_b64encode(raw).decode()}
    result: dict[str, Any] = service.users().messages().send(userId="me", body=body).execute()
    return result


def inbox(service: Any) -> list[bytes]:
    listed = service.users().messages().list(userId="me", labelIds=["INBOX"]).execute()
    out = []
    for ref in listed.get("messages", []):
        got = service.users().messages().get(userId="me", id=ref["id"], format="raw").execute()
        out.append(base64.urlsafe_b64decode(got["raw"] + "=" * (-len(got["raw"]) % 4)))
    return out


def _rule(mode: str, audit: str) -> dict[str, Any]:
    rule = dict(RULES[mode])
    if "also_deliver_to" in rule:
        rule["also_deliver_to"] = [audit]
    return rule


@pytest.mark.parametrize("mode", ["reject", "quarantine", "report"])
def test_unstamped_outbound_mail_meets_the_rule(rules: GmailEmulator, full_user: User,
                                                audit_box: User, url: str, mode: str) -> None:
    rules.set_rules([_rule(mode, audit_box.email)])
    service = gmail(full_user, url)
    colleague = "suzuki@sendguard.example"
    sent = send(service, message(sender=full_user.email, to=PARTNER, cc=colleague,
                                 bcc="hidden@partner.example"))
    assert sent["labelIds"] == ["SENT"]                       # in Sent whatever happens
    [record] = [o for o in rules.outbound(full_user.email) if o.id == sent["id"]]
    out = record.outcome
    assert colleague in out.delivered, "mail to colleagues is not outbound"
    notices = [m for m in inbox(service) if b"Message blocked" in m]
    copies = inbox(gmail(audit_box, url))
    if mode == "reject":
        assert out.rejected == ["hidden@partner.example", PARTNER]
        assert len(notices) == 1
        assert b"Use SendGuard" in notices[0] and PARTNER.encode() in notices[0]
        assert copies == []
    elif mode == "quarantine":
        assert out.quarantined == ["hidden@partner.example", PARTNER]
        assert out.quarantine == "SendGuard – unchecked" and notices == []
    else:
        assert out.disposition() == "delivered" and notices == []
        assert b"X-SendGuard-Bypass: 1" in out.delivered[PARTNER]
        assert b"X-SendGuard-Bypass" not in out.delivered[colleague]
        [copy] = copies
        assert b"X-SendGuard-Bypass: 1" in copy
    for delivered in out.delivered.values():
        assert b"Bcc:" not in delivered and b"hidden@" not in delivered   # Gmail drops Bcc


@pytest.mark.parametrize("mode", ["reject", "quarantine", "report"])
def test_stamped_mail_passes(rules: GmailEmulator, full_user: User, audit_box: User,
                             url: str, mode: str) -> None:
    rules.set_rules([_rule(mode, audit_box.email)])
    service = gmail(full_user, url)
    raw = STAMP.encode() + b"\n" + message(sender=full_user.email, to=PARTNER)
    sent = send(service, raw)
    [record] = [o for o in rules.outbound(full_user.email) if o.id == sent["id"]]
    assert record.outcome.disposition() == "delivered" and record.outcome.rule is None
    assert list(record.outcome.delivered) == [PARTNER]
    assert inbox(gmail(audit_box, url)) == []


MATCHING = [
    ("contains", "x-sendguard-checked: V1;", True),   # case-insensitive text match
    ("contains", "X-Other", False),
    ("not_contains", "X-SendGuard-Checked: v1;", False),
    ("regex", r"^X-SendGuard-Checked: v1; k=\w+;", True),
    ("regex", r"^X-SendGuard-Checked: v2;", False),
    ("not_regex", r"^X-SendGuard-Checked: v1;", False),
]


@pytest.mark.parametrize(("match", "content", "hit"), MATCHING,
                         ids=[f"{m}-{n}" for n, (m, _, _) in enumerate(MATCHING)])
def test_full_headers_match_types(match: str, content: str, hit: bool) -> None:
    rule = Rule.from_json({"match": match, "content": content, "action": "reject"})
    assert rule.matches(STAMP + "\nFrom: a@b\n") is hit


BAD_RULES: dict[str, tuple[dict[str, Any], str]] = {
    "unknown field": ({"match": "contains", "content": "x", "action": "reject", "x": 1},
                      "unknown rule fields"),
    "bad match": ({"match": "startswith", "content": "x", "action": "reject"}, "match must"),
    "bad action": ({"match": "contains", "content": "x", "action": "drop"}, "action must"),
    "no content": ({"match": "contains", "content": "", "action": "reject"}, "content"),
    "bad regex": ({"match": "regex", "content": "(", "action": "reject"}, "regular expression"),
    "quarantine without name": ({"match": "contains", "content": "x",
                                 "action": "quarantine"}, "names its quarantine"),
    "modify doing nothing": ({"match": "contains", "content": "x", "action": "modify"},
                             "adds a header"),
    "header injection": ({"match": "contains", "content": "x", "action": "modify",
                          "add_headers": {"X-A": "1\r\nBcc: evil@x"}}, "single lines"),
}


@pytest.mark.parametrize("name", list(BAD_RULES))
def test_bad_rules_are_refused_and_change_nothing(rules: GmailEmulator, name: str) -> None:
    rules.set_rules([RULES["reject"]])
    data, needle = BAD_RULES[name]
    with pytest.raises(ValueError, match=needle):
        rules.set_rules([RULES["reject"], data])
    assert [r.action for r in rules.rules()] == ["reject"]


def test_rules_over_the_control_api(rules: GmailEmulator, url: str) -> None:
    import requests

    ok = requests.post(f"{url}/__emulator__/rules", json={"rules": [RULES["reject"]]},
                       timeout=5)
    assert ok.status_code == 200 and ok.json()["rules"][0]["action"] == "reject"
    bad = requests.post(f"{url}/__emulator__/rules", json={"rules": [{"match": "x"}]},
                        timeout=5)
    assert bad.status_code == 400
    assert requests.get(f"{url}/__emulator__/outbound", timeout=5).status_code == 200
