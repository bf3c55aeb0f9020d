"""The audit log: append, search by user/date/finding code/package, append-only for real."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from service.errors import InputError
from service.storage import Store
from tests.storage.helpers import NOW, make_package

HOUR = timedelta(hours=1)

CHECKED = {  # shaped like the add-on's records
    "draft": "r-5081",
    "recipients": 944,
    "findings": [
        {"code": "many_visible_recipients", "severity": "block", "where": "to",
         "addresses": 944},
        {"code": "confidential_keyword", "severity": "warn", "where": "subject",
         "addresses": 0},
    ],
}


def seed(store: Store) -> dict[str, int]:
    """Events from two users over three days, as the add-on and CLI would write them."""
    ids = {}
    ids["sato-checked"] = store.append_audit("Sato@Corp.Example", "compose.checked",
                                             now=NOW, message_id="<m1@corp.example>",
                                             data=CHECKED).id
    ids["sato-override"] = store.append_audit(
        "sato@corp.example", "finding.overridden", now=NOW + HOUR,
        message_id="<m1@corp.example>",
        data={"overrides": [{"code": "many_visible_recipients",
                             "reason": "社内回覧のため問題なし"}]}).id
    ids["ito-confirmed"] = store.append_audit(
        "ito@corp.example", "send.confirmed", now=NOW + 24 * HOUR,
        data={"acknowledged": ["lookalike_domain"], "ticked": ["c@z.example"]}).id
    ids["system"] = store.append_audit("system", "notice.sent", now=NOW + 48 * HOUR,
                                       package_id="pkg-1", data={"address": "c@z.example"}).id
    return ids


def test_append_returns_the_stored_event(store: Store) -> None:
    event = store.append_audit("Sato@Corp.Example", "compose.checked", now=NOW,
                               message_id="<m1@corp.example>", data=CHECKED)
    assert (event.actor, event.action, event.at) == ("sato@corp.example", "compose.checked",
                                                     NOW)
    assert event.data == CHECKED and event.package_id is None
    assert store.search_audit() == [event]


@pytest.mark.parametrize(("query", "expected"), [
    pytest.param({}, ["sato-checked", "sato-override", "ito-confirmed", "system"], id="all"),
    pytest.param({"user": "SATO@corp.example"}, ["sato-checked", "sato-override"], id="user"),
    pytest.param({"user": "system"}, ["system"], id="system-user"),
    pytest.param({"since": NOW + HOUR}, ["sato-override", "ito-confirmed", "system"],
                 id="since-inclusive"),
    pytest.param({"until": NOW + HOUR}, ["sato-checked"], id="until-exclusive"),
    pytest.param({"since": NOW + HOUR, "until": NOW + 25 * HOUR},
                 ["sato-override", "ito-confirmed"], id="range"),
    pytest.param({"code": "many_visible_recipients"}, ["sato-checked", "sato-override"],
                 id="code-in-findings-and-override"),
    pytest.param({"code": "lookalike_domain"}, ["ito-confirmed"], id="code-acknowledged"),
    pytest.param({"code": "lookalike"}, [], id="code-prefix-no-match"),
    pytest.param({"code": "confidential_keyword"}, ["sato-checked"], id="code-warn"),
    pytest.param({"code": "many_visible_recipient_"}, [], id="underscore-not-wildcard"),
    pytest.param({"code": "many_visible_recipientsx"}, [], id="no-substring-match"),
    pytest.param({"code": "block"}, [], id="severity-is-not-a-code"),
    pytest.param({"package_id": "pkg-1"}, ["system"], id="package"),
    pytest.param({"message_id": "<m1@corp.example>"}, ["sato-checked", "sato-override"],
                 id="message"),
    pytest.param({"action": "finding.overridden"}, ["sato-override"], id="action"),
    pytest.param({"user": "sato@corp.example", "code": "confidential_keyword"},
                 ["sato-checked"], id="user-and-code"),
    pytest.param({"limit": 2}, ["sato-checked", "sato-override"], id="limit"),
])
def test_search_filters(store: Store, query: dict[str, Any], expected: list[str]) -> None:
    ids = seed(store)
    found = [e.id for e in store.search_audit(**query)]
    assert found == [ids[name] for name in expected]


def test_search_pages_with_after_id(store: Store) -> None:
    ids = seed(store)
    first = store.search_audit(limit=3)
    rest = store.search_audit(after_id=first[-1].id)
    assert [e.id for e in first + rest] == sorted(ids.values())


def test_store_transitions_are_audited_with_the_package(store: Store) -> None:
    p = make_package(store)
    store.revoke(p.id, "sato@corp.example", NOW + HOUR)
    found = store.search_audit(package_id=p.id)
    assert [(e.action, e.actor) for e in found] == [
        ("package.created", "sato@corp.example"), ("package.revoked", "sato@corp.example")]
    assert store.search_audit(user="sato@corp.example", since=NOW + HOUR)[0].action \
        == "package.revoked"


@pytest.mark.parametrize("data", [
    pytest.param({"token": "abc"}, id="token"),
    pytest.param({"link_token": "abc"}, id="link-token"),
    pytest.param({"linkToken": "abc"}, id="camel-case"),
    pytest.param({"password": "pw"}, id="password"),
    pytest.param({"zip_password": "pw"}, id="zip-password"),
    pytest.param({"body": "本文"}, id="body"),
    pytest.param({"body_html": "<p>"}, id="body-html"),
    pytest.param({"url": "https://sg.example/k/abc"}, id="url"),
    pytest.param({"link": "https://sg.example/k/abc"}, id="link"),
    pytest.param({"secret": "s"}, id="secret"),
    pytest.param({"otp": "12345678"}, id="otp"),
    pytest.param({"code": "12345678"}, id="digits-as-code"),
    pytest.param({"codes": ["ok_code", "12345678"]}, id="digits-in-codes"),
    pytest.param({"one_time_code": "12345678"}, id="one-time-code"),
    pytest.param({"findings": [{"detail": {"access_token": "x"}}]}, id="nested"),
    pytest.param({"reason": "x" * 2001}, id="long-string"),
    pytest.param({"when": NOW}, id="not-json"),
    pytest.param({1: "x"}, id="non-string-key"),
    pytest.param({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {}}}}}}}}}},
                 id="too-deep"),
])
def test_secrets_and_bodies_are_refused(store: Store, data: dict[Any, Any]) -> None:
    with pytest.raises(InputError):
        store.append_audit("sato@corp.example", "send.confirmed", now=NOW, data=data)
    assert store.search_audit() == []


@pytest.mark.parametrize(("args", "error"), [
    pytest.param({"actor": ""}, InputError, id="empty-actor"),
    pytest.param({"actor": "sato @corp.example"}, InputError, id="actor-space"),
    pytest.param({"action": "Compose Checked"}, InputError, id="bad-action"),
    pytest.param({"action": "checked"}, InputError, id="action-no-dot"),
    pytest.param({"message_id": "<a@b>\r\nX: y"}, InputError, id="message-id-crlf"),
    pytest.param({"now": datetime(2025, 4, 1)}, ValueError, id="naive-now"),
])
def test_bad_events_are_refused(store: Store, args: dict[str, Any],
                                error: type[Exception]) -> None:
    call: dict[str, Any] = {"actor": "sato@corp.example", "action": "send.confirmed",
                            "now": NOW, **args}
    with pytest.raises(error):
        store.append_audit(call.pop("actor"), call.pop("action"), **call)


@pytest.mark.parametrize(("query", "error"), [
    pytest.param({"code": "Bad Code"}, InputError, id="bad-code"),
    pytest.param({"code": "%"}, InputError, id="like-wildcard"),
    pytest.param({"limit": 0}, InputError, id="zero-limit"),
    pytest.param({"since": datetime(2025, 4, 1)}, ValueError, id="naive-since"),
    pytest.param({"action": "drop table"}, InputError, id="bad-action"),
])
def test_bad_searches_are_refused(store: Store, query: dict[str, Any],
                                  error: type[Exception]) -> None:
    with pytest.raises(error):
        store.search_audit(**query)


def test_store_has_no_way_to_change_or_delete_events(store: Store) -> None:
    names = {n for n in dir(store) if "audit" in n}
    assert names == {"append_audit", "search_audit"}


@pytest.mark.parametrize("statement", [
    pytest.param("UPDATE audit_events SET actor = 'someone@else.example'", id="update"),
    pytest.param("UPDATE audit_events SET data = '{}'", id="update-data"),
    pytest.param("DELETE FROM audit_events", id="delete"),
])
def test_database_rejects_changes_to_audit_events(store: Store, raw: sa.Engine,
                                                  statement: str) -> None:
    seed(store)
    with raw.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(sa.text(statement))
    assert len(store.search_audit()) == 4
    assert store.search_audit(user="sato@corp.example")[0].data == CHECKED


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_rejects_truncate_of_audit_events(store: Store, raw: sa.Engine) -> None:
    seed(store)
    with raw.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="append-only"):
        conn.execute(sa.text("TRUNCATE audit_events"))
    assert len(store.search_audit()) == 4
