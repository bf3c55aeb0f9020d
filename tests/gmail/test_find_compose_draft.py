"""find_compose_draft: one table of cases, run on the in-memory client and through the
real client library against the emulator (the two must agree)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.devtools.gmail_emulator.memory import InMemoryGmailClient
from service.errors import GmailClientError, GmailTransientError
from service.gmail.client import ApiGmailClient
from service.gmail.drafts import Ambiguous, Found, NotSaved, NotSavedReason, find_compose_draft
from service.gmail.explain import match_text
from service.gmail.model import GmailClient
from service.i18n import using

from .support import Sleeps, User, message

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ME = "alice@sendguard.example"


@dataclass(frozen=True)
class D:
    """A saved draft: message fields, its thread ("T": the received thread) and age."""

    name: str
    age: int = 30
    thread: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    drafts: tuple[D, ...]
    recipients: Sequence[str] | Mapping[str, Sequence[str]]
    expect: tuple[str, ...]          # ("found", name) / ("ambiguous", names...) / reason, stale...
    thread: str | None = None
    message: str | None = None       # name of the draft whose message id the event carries


def d(name: str, age: int = 30, thread: str | None = None, **fields: str) -> D:
    return D(name, age, thread, fields)


HOUR, DAY = 3600, 86400
BOB = {"to": "bob@example.org", "subject": "Report"}
CASES = [
    Case("found-by-recipients",
         (d("A", 30, **BOB), d("B", 20, to="carol@example.net", subject="Other")),
         ["bob@example.org"], ("found", "A")),
    Case("found-by-thread-even-if-old",
         (d("R", 5000, "T", to="bob@example.org", subject="Re: Hi"),
          d("N", 10, to="bob@example.org", subject="Re: Hi")),
         ["bob@example.org"], ("found", "R"), thread="T"),
    Case("ambiguous-twins-newest-first",
         (d("A", 100, **BOB), d("B", 50, **BOB), d("C", 10, to="carol@example.net")),
         ["bob@example.org"], ("ambiguous", "B", "A")),
    Case("same-recipients-other-subject-is-ambiguous",
         (d("A", 100, **BOB), d("B", 50, to="bob@example.org", subject="Invoice")),
         ["bob@example.org"], ("ambiguous", "B", "A")),
    Case("the-event-message-id-settles-twins",
         (d("A", 100, **BOB), d("B", 50, **BOB)), ["bob@example.org"], ("found", "A"),
         message="A"),
    Case("not-saved-no-drafts", (), ["bob@example.org"], ("missing",)),
    Case("not-saved-unrelated-draft", (d("C", 10, to="carol@example.net", subject="Other"),),
         ["bob@example.org"], ("missing",)),
    Case("outdated-recipient-added-on-screen", (d("A", 10, **BOB),),
         ["bob@example.org", "dave@example.org"], ("outdated", "A")),
    Case("hours-old-draft-found", (d("A", 5 * HOUR, **BOB),), ["bob@example.org"],
         ("found", "A")),
    Case("month-old-draft-found", (d("A", 30 * DAY, **BOB),), ["bob@example.org"],
         ("found", "A")),
    Case("per-field-moved-to-bcc-not-saved",
         (d("A", 10, to="bob@example.org, carol@example.net", subject="Circular"),),
         {"bcc": ["bob@example.org", "carol@example.net"]}, ("outdated", "A")),
    Case("all-together-ignores-fields",
         (d("A", 10, to="bob@example.org, carol@example.net", subject="Circular"),),
         ["bob@example.org", "carol@example.net"], ("found", "A")),
    Case("per-field-match",
         (d("A", 10, to=ME, bcc="bob@example.org, carol@example.net", subject="Circular"),),
         {"to": [ME], "cc": [], "bcc": ["carol@example.net", "bob@example.org"]},
         ("found", "A")),
    Case("bcc-only-draft", (d("A", 2 * DAY, bcc="bob@example.org", subject="Circular"),),
         {"to": [], "cc": [], "bcc": ["bob@example.org"]}, ("found", "A")),
    Case("display-names-and-case",
         (d("A", 10, to='"Smith, Bob" <Bob@Example.org>', subject="Report"),),
         ["Bob Smith <bob@example.org>"], ("found", "A")),
    Case("no-recipients-yet", (d("A", 10, to="", subject="Draft"),), [], ("missing",)),
    Case("thread-given-but-draft-elsewhere", (d("N", 10, **BOB),), ["bob@example.org"],
         ("found", "N"), thread="T"),
    Case("thread-draft-lags-the-screen", (d("R", 10, "T", **BOB),),
         ["bob@example.org", "dave@example.org"], ("outdated", "R"), thread="T"),
]


class Mailroom:
    """Set-up for one client kind: seed a received thread and drafts at given ages."""

    client: GmailClient

    def thread(self) -> str:
        raise NotImplementedError

    def draft(self, raw: bytes, thread_id: str | None, saved_at: datetime) -> str:
        raise NotImplementedError


class MemoryRoom(Mailroom):
    def __init__(self) -> None:
        self.mem = InMemoryGmailClient(ME, clock=NOW.timestamp)
        self.client = self.mem

    def thread(self) -> str:
        return self.mem.add_message(message(sender="bob@example.org", to=ME)).thread_id

    def draft(self, raw: bytes, thread_id: str | None, saved_at: datetime) -> str:
        return self.mem.add_draft(raw, thread_id=thread_id, saved_at=saved_at).draft_id


class ApiRoom(Mailroom):
    def __init__(self, emulator: GmailEmulator, user: User, url: str) -> None:
        self.emulator, self.user = emulator, user
        self.client = self.api = ApiGmailClient(user.token, url, sleep=Sleeps())

    def thread(self) -> str:
        return self.emulator.put_message(self.user.email, message(sender="bob@example.org"))[1]

    def draft(self, raw: bytes, thread_id: str | None, saved_at: datetime) -> str:
        return self.emulator.put_draft(self.user.email, raw, thread_id=thread_id,
                                       internal_date_ms=int(saved_at.timestamp() * 1000))[0]


@pytest.fixture(params=["memory", "api"])
def room(request: pytest.FixtureRequest) -> Iterator[Mailroom]:
    if request.param == "memory":
        yield MemoryRoom()
        return
    api = ApiRoom(request.getfixturevalue("emulator"), request.getfixturevalue("user"),
                  request.getfixturevalue("url"))
    yield api
    api.api.close()


def _raw(fields: Mapping[str, str]) -> bytes:
    args: dict[str, Any] = {"to": "", "sender": ME, **fields}
    return message(**args)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_find_compose_draft(case: Case, room: Mailroom) -> None:
    thread = room.thread()
    ids = {}
    for draft in case.drafts:
        ids[draft.name] = room.draft(_raw(draft.fields), thread if draft.thread else None,
                                     NOW - timedelta(seconds=draft.age))
    names = {v: k for k, v in ids.items()}
    message_id = (room.client.draft_info(ids[case.message]).message_id if case.message
                  else None)
    match = find_compose_draft(room.client, thread_id=thread if case.thread else None,
                               recipients=case.recipients, message_id=message_id)
    kind, *expected = case.expect
    if kind == "found":
        assert isinstance(match, Found) and match.status == "found"
        assert names[match.draft.draft_id] == expected[0]
    elif kind == "ambiguous":
        assert isinstance(match, Ambiguous) and match.status == "ambiguous"
        assert [names[c.draft_id] for c in match.candidates] == expected
    else:
        assert isinstance(match, NotSaved) and match.status == "not_saved"
        assert match.reason == NotSavedReason(kind)
        assert [names[c.draft_id] for c in match.stale] == expected


def test_draft_gone_between_list_and_read_is_skipped() -> None:
    mem = InMemoryGmailClient(ME)
    mem.add_draft(_raw(BOB), saved_at=NOW - timedelta(seconds=5))
    mem.add_draft(_raw(BOB), saved_at=NOW - timedelta(seconds=9))
    mem.fail_next("draft_info", GmailClientError("gone", http_status=404))
    match = find_compose_draft(mem, thread_id=None, recipients=["bob@example.org"])
    assert isinstance(match, Found)


def test_gmail_failure_while_reading_drafts_propagates() -> None:
    mem = InMemoryGmailClient(ME)
    mem.add_draft(_raw(BOB), saved_at=NOW)
    mem.fail_next("draft_info", GmailTransientError("busy"))
    with pytest.raises(GmailTransientError):
        find_compose_draft(mem, thread_id=None, recipients=["bob@example.org"])


def test_reads_at_most_max_candidates() -> None:
    mem = InMemoryGmailClient(ME)
    for i in range(30):
        mem.add_draft(_raw({"to": "x@example.org", "cc": f"p{i}@example.org"}),
                      saved_at=NOW - timedelta(days=i))
    find_compose_draft(mem, thread_id=None, recipients=["x@example.org"], max_candidates=20)
    assert mem.calls.count("list_drafts") == 1 and mem.calls.count("draft_info") == 20


@pytest.mark.parametrize(("kwargs", "message_part"), [
    ({"recipients": "bob@example.org"}, "list of addresses"),
    ({"recipients": {"to": [], "from": ["x@example.org"]}}, "to, cc, bcc"),
], ids=["recipients-as-string", "unknown-field"])
def test_bad_arguments(kwargs: dict[str, Any], message_part: str) -> None:
    args: dict[str, Any] = {"thread_id": None, "recipients": [], **kwargs}
    with pytest.raises(ValueError, match=message_part):
        find_compose_draft(InMemoryGmailClient(ME), **args)


@pytest.mark.parametrize(("match", "ja", "en"), [
    (NotSaved(NotSavedReason.MISSING), "まだ Gmail に保存されていません", "has not saved this"),
    (NotSaved(NotSavedReason.OUTDATED), "画面の変更", "latest changes"),
    (Ambiguous(()), "複数", "Choose"),
], ids=["missing", "outdated", "ambiguous"])
def test_match_texts_in_both_languages(match: Any, ja: str, en: str) -> None:
    with using("ja"):
        assert ja in match_text(match)
        japanese = match_text(match)
    with using("en"):
        assert en in match_text(match)
    with using("ja-JP"):
        assert match_text(match) == japanese
