"""What the delivery engineer asked of the store (caller-chosen package ids, the
all-senders listing, notice retries that only wait for sendable packages) and key
retention and re-wrapping: on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from service.errors import ConflictError, InputError
from service.storage import Package, Store, hash_token
from service.storage.packages import new_package_id
from tests.storage.helpers import NOW, RECIPIENTS, SENDER, make_package

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


# ---------------------------------------------------------------- caller-chosen ids

def test_caller_chosen_package_id_is_kept(store: Store) -> None:
    chosen = new_package_id()
    p = make_package(store, package_id=chosen)
    assert p.id == chosen and store.get_package(chosen) == p
    assert store.search_audit(package_id=chosen)[0].action == "package.created"
    assert make_package(store, package_id="A" * 16 + "-_", tokens=("t2",)).id == "A" * 16 + "-_"


BAD_IDS: list[Any] = [
    pytest.param("short-id-15char", id="under-96-bits"),
    pytest.param("", id="empty"),
    pytest.param("a" * 65, id="longer-than-column"),
    pytest.param("abcdefghijklmnop/q", id="slash"),
    pytest.param("abcdefghijklmnop=", id="padding"),
    pytest.param("abcdefghijklmnop q", id="space"),
    pytest.param("abcdefghijklmnopé", id="non-ascii"),
    pytest.param("abcdefghijklmnop\n", id="newline"),
    pytest.param(b"abcdefghijklmnopqr", id="bytes"),
    pytest.param(12345678901234567890, id="number"),
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_package_ids_are_refused(store: Store, raw: sa.Engine, bad: object) -> None:
    with pytest.raises(InputError, match="package_id"):
        make_package(store, package_id=bad)
    with raw.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM packages")).scalar_one() == 0


def test_a_taken_package_id_is_a_conflict_and_changes_nothing(store: Store) -> None:
    chosen = new_package_id()
    first = make_package(store, package_id=chosen, tokens=("t1",))
    with pytest.raises(ConflictError, match="already exists"):
        make_package(store, package_id=chosen, tokens=("t2",), sender="kato@corp.example")
    assert store.get_package(chosen) == first
    assert [g.token_hash for g in store.list_grants(chosen)] == [hash_token("t1")]
    assert len(store.search_audit(action="package.created")) == 1


# ---------------------------------------------------------------- listings

def test_recent_packages_of_every_sender_newest_first(store: Store) -> None:
    made = [make_package(store, now=NOW + i * MIN, tokens=(), sender=sender,
                         release_at=NOW + (i + 5) * MIN)
            for i, sender in enumerate([SENDER, "kato@corp.example", SENDER,
                                        "ito@corp.example"])]
    store.revoke(made[1].id, "kato@corp.example", NOW + 10 * MIN)
    assert [p.id for p in store.list_recent_packages()] == [p.id for p in made[::-1]]
    assert [p.id for p in store.list_recent_packages(2)] == [made[3].id, made[2].id]
    assert [p.id for p in store.list_recent_packages(state="revoked")] == [made[1].id]
    assert [p.id for p in store.list_recent_packages(state="held")] == [
        made[3].id, made[2].id, made[0].id]
    assert store.list_recent_packages(state="expired") == []
    assert [p.id for p in store.list_packages(SENDER, state="held")] == [made[2].id,
                                                                         made[0].id]


@pytest.mark.parametrize(("kwargs", "error"), [
    pytest.param({"limit": 0}, InputError, id="limit-zero"),
    pytest.param({"limit": 1001}, InputError, id="limit-too-big"),
    pytest.param({"limit": "5"}, InputError, id="limit-string"),
    pytest.param({"state": "lost"}, InputError, id="unknown-state"),
    pytest.param({"state": "Held"}, InputError, id="state-wrong-case"),
])
def test_bad_listing_arguments_are_refused(store: Store, kwargs: dict[str, Any],
                                           error: type[Exception]) -> None:
    with pytest.raises(error):
        store.list_recent_packages(**kwargs)


# ---------------------------------------------------------------- notice retries

def test_unsent_notices_skip_packages_still_waiting_for_their_send(store: Store) -> None:
    """A package released before its message was recorded as sent waits; it must not
    take the places of notices that can go now."""
    waiting = [make_package(store, tokens=(f"w{i}a", f"w{i}b"), message_id=None,
                            gmail_message_id=None) for i in range(3)]
    ready = make_package(store, tokens=("ra",))
    gmail_only = make_package(store, tokens=("ga",), message_id=None)
    assert {p.id for p in store.claim_due_releases(NOW + 5 * MIN)} == {
        *(p.id for p in waiting), ready.id, gmail_only.id}
    found = store.unsent_notices(NOW + 10 * MIN, limit=2)
    assert [g.package_id for g in found] == [ready.id, gmail_only.id]
    store.set_message_ids(waiting[0].id, message_id="<sent@corp.example>",
                          gmail_message_id=None)
    assert [g.package_id for g in store.unsent_notices(NOW + 10 * MIN)] == [
        waiting[0].id, waiting[0].id, ready.id, gmail_only.id]


# ---------------------------------------------------------------- purge

def _ended(store: Store, case: str) -> Package:
    """A package with a pending code, whose key ended (or is due to end) about NOW + 1
    day: revoked then, expired then, or released and past its expiry unnoticed."""
    p = make_package(store, tokens=(f"{case}-a",), expires_at=NOW + DAY)
    grant = store.list_grants(p.id)[0]
    store.set_code(grant.id, b"\x07" * 32, NOW + 10 * MIN, NOW)
    if case == "revoked":
        store.revoke(p.id, SENDER, NOW + DAY - MIN)
    else:
        store.claim_due_releases(NOW + 5 * MIN)
        if case == "expired":
            store.expire_due(NOW + DAY)
    return store.get_package(p.id)


PURGE_CASES: list[Any] = [
    # (case, days after NOW, purged?, state afterwards)
    pytest.param("revoked", 32, True, "revoked", id="revoked-31-days-ago"),
    pytest.param("expired", 32, True, "expired", id="expired-31-days-ago"),
    pytest.param("released-past-expiry", 32, True, "expired",
                 id="active-but-expired-31-days-ago"),
    pytest.param("revoked", 30, False, "revoked", id="revoked-29-days-ago"),
    pytest.param("expired", 30, False, "expired", id="expired-29-days-ago"),
    pytest.param("released-past-expiry", 30, False, "released", id="active-29-days-ago"),
]


@pytest.mark.parametrize(("case", "days", "purged", "state"), PURGE_CASES)
def test_purge_erases_keys_that_ended_before_the_retention(
        store: Store, raw: sa.Engine, case: str, days: int, purged: bool, state: str) -> None:
    p = _ended(store, case)
    grant = store.list_grants(p.id)[0]
    events = len(store.search_audit())
    now = NOW + days * DAY
    assert store.count_purgeable(now, 30 * DAY) == int(purged)
    ids = store.purge_key_material(now, 30 * DAY, actor="cli:admin")
    assert ids == ([p.id] if purged else [])
    after = store.get_package(p.id)
    assert after.state == state
    if purged:
        assert after.wrapped_password == b"" and after.purged_at == now
        assert store.get_grant(grant.id).code_hash is None
        purge_events = store.search_audit(package_id=p.id, action="package.purged")
        assert [(e.actor, e.data["state"], e.data["older_than_days"])
                for e in purge_events] == [("cli:admin", state, 30.0)]
        # the record stays as evidence: recipients, grants and every earlier event
        assert after.recipients == p.recipients and store.list_grants(p.id)
    else:
        assert after == p and store.get_grant(grant.id).code_hash is not None
    assert len(store.search_audit()) >= events  # nothing was removed from the log
    assert store.purge_key_material(now, 30 * DAY) == []  # idempotent
    assert store.count_purgeable(now, 30 * DAY) == 0


def test_purge_keeps_active_keys_and_pages_through_many(store: Store) -> None:
    active = make_package(store, tokens=("live",), expires_at=NOW + 60 * DAY)
    ended = [make_package(store, tokens=(), expires_at=NOW + DAY) for _ in range(5)]
    later = NOW + 40 * DAY
    store.expire_due(later)
    assert store.count_purgeable(later, 30 * DAY) == 5
    first = store.purge_key_material(later, 30 * DAY, limit=2)
    rest = store.purge_key_material(later, 30 * DAY, limit=10)
    assert len(first) == 2 and len(rest) == 3
    assert set(first) | set(rest) == {p.id for p in ended}
    assert store.get_package(active.id).wrapped_password == active.wrapped_password
    assert store.count_packages_with_key() == 1


def test_purge_by_two_instances_erases_each_key_once(store: Store,
                                                     open_store: Any) -> None:
    made = [make_package(store, tokens=(), expires_at=NOW + DAY) for _ in range(12)]
    later = NOW + 40 * DAY
    stores = [open_store() for _ in range(3)]
    results: list[list[str]] = []
    barrier = threading.Barrier(len(stores))

    def run(s: Store) -> None:
        barrier.wait()
        got: list[str] = []
        while batch := s.purge_key_material(later, 30 * DAY, limit=3):
            got += batch
        results.append(got)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    everything = [pid for got in results for pid in got]
    assert sorted(everything) == sorted(p.id for p in made)
    per_package = Counter(e.package_id for e in store.search_audit(action="package.purged"))
    assert set(per_package.values()) == {1} and len(per_package) == 12


@pytest.mark.parametrize(("kwargs", "error"), [
    pytest.param({"older_than": -DAY}, InputError, id="negative-retention"),
    pytest.param({"older_than": 30}, InputError, id="retention-not-a-duration"),
    pytest.param({"now": datetime(2025, 6, 1)}, ValueError, id="naive-now"),
    pytest.param({"limit": 0}, InputError, id="limit-zero"),
    pytest.param({"actor": "two words"}, InputError, id="bad-actor"),
])
def test_bad_purge_arguments_are_refused(store: Store, kwargs: dict[str, Any],
                                         error: type[Exception]) -> None:
    p = make_package(store, tokens=(), expires_at=NOW + DAY)
    args: dict[str, Any] = {"now": NOW + 40 * DAY, "older_than": 30 * DAY, **kwargs}
    with pytest.raises(error):
        store.purge_key_material(**args)
    assert store.get_package(p.id).purged_at is None


@pytest.mark.parametrize("change", [
    pytest.param("purge-active", id="erase-an-active-key"),
    pytest.param("purged-keeps-blob", id="purged-but-blob-kept"),
    pytest.param("unpurge", id="reactivate-a-purged-record"),
])
def test_the_database_refuses_inconsistent_purges(store: Store, raw: sa.Engine,
                                                  change: str) -> None:
    """The CHECK of migration 0002: only ended records lose their key, and a record
    without its key cannot come back to life."""
    live = make_package(store, tokens=(), expires_at=NOW + DAY)
    if change == "unpurge":
        store.expire_due(NOW + DAY)
        store.purge_key_material(NOW + 40 * DAY, 30 * DAY)
    stmt = {
        "purge-active": "UPDATE packages SET wrapped_password = :empty, purged_at = :now",
        "purged-keeps-blob": "UPDATE packages SET purged_at = :now",
        "unpurge": "UPDATE packages SET state = 'released'",
    }[change]
    with pytest.raises(IntegrityError), raw.begin() as conn:
        conn.execute(sa.text(stmt + " WHERE id = :id"),
                     {"id": live.id, "empty": b"", "now": NOW})


# ---------------------------------------------------------------- re-wrapping support

def test_packages_with_key_pages_in_id_order_and_skips_purged(store: Store) -> None:
    made = [make_package(store, tokens=(), expires_at=NOW + 60 * DAY) for _ in range(5)]
    store.revoke(made[0].id, SENDER, NOW)
    assert store.purge_key_material(NOW + 40 * DAY, 30 * DAY) == [made[0].id]
    keep = sorted(p.id for p in made[1:])
    first = store.packages_with_key(limit=3)
    rest = store.packages_with_key(after_id=first[-1].id, limit=3)
    assert [p.id for p in first + rest] == keep
    assert store.count_packages_with_key() == 4
    assert store.packages_with_key(after_id=keep[-1]) == []


def test_replace_wrapped_password_only_when_unchanged(store: Store) -> None:
    p = make_package(store, tokens=())
    assert store.replace_wrapped_password(p.id, p.wrapped_password, b"\x02" * 60) is True
    assert store.get_package(p.id).wrapped_password == b"\x02" * 60
    # a second re-wrap that read the old blob loses: nothing is overwritten twice
    assert store.replace_wrapped_password(p.id, p.wrapped_password, b"\x03" * 60) is False
    assert store.get_package(p.id).wrapped_password == b"\x02" * 60
    assert store.replace_wrapped_password("no-such-package-id", b"\x02" * 60,
                                          b"\x04" * 60) is False
    store.revoke(p.id, SENDER, NOW)
    store.purge_key_material(NOW + 31 * DAY, 30 * DAY)
    assert store.replace_wrapped_password(p.id, b"\x02" * 60, b"\x05" * 60) is False
    assert store.get_package(p.id).wrapped_password == b""


@pytest.mark.parametrize(("old", "new"), [
    pytest.param(b"\x01" * 60, b"", id="empty-new"),
    pytest.param(b"", b"\x02" * 60, id="empty-old"),
    pytest.param(b"\x01" * 60, "text", id="new-not-bytes"),
])
def test_bad_replacements_are_refused(store: Store, old: Any, new: Any) -> None:
    p = make_package(store, tokens=())
    with pytest.raises(InputError):
        store.replace_wrapped_password(p.id, old, new)
    assert store.get_package(p.id).wrapped_password == p.wrapped_password


# ---------------------------------------------------------------- migration 0002

def test_migration_0002_keeps_existing_records_and_grants(db_url: str,
                                                          raw: sa.Engine) -> None:
    """Up from 0001 with data in place: rows and their grants survive (SQLite must not
    rebuild ``packages``, which would cascade into ``grants``), and back down again."""
    from service.storage.engine import create_engine
    from service.storage.migrate import downgrade

    engine = create_engine(db_url)
    try:
        downgrade(engine, "0001")
        with raw.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO packages (id, sender, zip_filename, file_names, recipients, "
                "wrapped_password, state, release_mode, created_at, expires_at, "
                "reveal_limit, reveal_count) VALUES ('p0001-aaaaaaaaaaaaaaaa', :s, "
                "'a.zip', :files, :rcpts, :blob, 'held', 'manual', :now, :exp, 3, 0)"),
                {"s": SENDER, "files": '["a.txt"]', "rcpts": f'["{RECIPIENTS[0]}"]',
                 "blob": b"\x01" * 40, "now": NOW, "exp": NOW + DAY})
            conn.execute(sa.text(
                "INSERT INTO grants (package_id, address, token_hash, created_at) "
                "VALUES ('p0001-aaaaaaaaaaaaaaaa', :a, :h, :now)"),
                {"a": RECIPIENTS[0], "h": hash_token("old"), "now": NOW})
        with Store(engine) as s:
            s.upgrade()
            assert s.schema_is_current()
            p = s.get_package("p0001-aaaaaaaaaaaaaaaa")
            assert p.purged_at is None and p.wrapped_password == b"\x01" * 40
            assert [g.address for g in s.list_grants(p.id)] == [RECIPIENTS[0]]
            downgrade(engine, "0001")
            s.upgrade()
            assert len(s.list_grants(p.id)) == 1
    finally:
        engine.dispose()
