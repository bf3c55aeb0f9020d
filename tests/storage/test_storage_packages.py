"""Key records: creation rules, the one-way state machine, listing, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from service.errors import ConflictError, InputError, NotFoundError
from service.storage import Store, hash_token
from tests.storage.helpers import NOW, RECIPIENTS, SENDER, make_package

MIN = timedelta(minutes=1)


def actions(store: Store, package_id: str) -> list[str]:
    return [e.action for e in store.search_audit(package_id=package_id)]


def test_created_package_is_held_with_normalised_addresses(store: Store) -> None:
    p = make_package(store, sender="Sato@Corp.Example", tokens=("t1", "t2"))
    assert p.state == "held"
    assert p.sender == SENDER
    assert p.recipients == tuple(r.lower() for r in RECIPIENTS)
    assert p.file_names == ("社員名簿.xlsx", "見積書.pdf")
    assert p.wrapped_password == b"\x01" * 60
    assert p.release_at == NOW + 5 * MIN and p.expires_at == NOW + timedelta(days=7)
    assert p.created_at == NOW and p.created_at.tzinfo is not None
    assert (p.reveal_count, p.first_retrieved_at, p.released_at, p.revoked_at) == (0, None,
                                                                                 None, None)
    assert len(p.id) >= 22  # 16 random bytes, URL-safe
    assert [g.address for g in store.list_grants(p.id)] == [RECIPIENTS[0], RECIPIENTS[1].lower()]
    assert store.get_package(p.id) == p
    assert actions(store, p.id) == ["package.created"]
    event = store.search_audit(package_id=p.id)[0]
    assert event.actor == SENDER and event.message_id == "<m1@corp.example>"
    assert event.data["recipients"] == list(p.recipients)


def test_repr_of_records_hides_secrets(store: Store) -> None:
    p = make_package(store, subject_hash=hash_token("件名"))
    grant = store.list_grants(p.id)[0]
    assert "wrapped_password" not in repr(p) and "subject_hash" not in repr(p)
    assert "token_hash" not in repr(grant) and "code_hash" not in repr(grant)


def test_package_ids_are_unique_and_random(store: Store) -> None:
    ids = {make_package(store, tokens=()).id for _ in range(20)}
    assert len(ids) == 20


def test_get_unknown_package_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get_package("nope")


BAD_CREATE: list[Any] = [
    pytest.param({"sender": "Sato <sato@corp.example>"}, InputError, id="sender-display-name"),
    pytest.param({"sender": "sato"}, InputError, id="sender-no-domain"),
    pytest.param({"recipients": []}, InputError, id="no-recipients"),
    pytest.param({"recipients": "a@b.example"}, InputError, id="recipients-a-string"),
    pytest.param({"recipients": ["a@b.example b@c.example"]}, InputError,
                 id="recipient-missing-comma"),
    pytest.param({"recipients": ["a@b.example\nBcc: x@evil.example"]}, InputError,
                 id="recipient-newline"),
    pytest.param({"file_names": []}, InputError, id="no-files"),
    pytest.param({"file_names": "名簿.xlsx"}, InputError, id="file-names-a-string"),
    pytest.param({"grants": ("a@b.example", b"x")}, InputError, id="grants-not-pairs"),
    pytest.param({"file_names": ["a\nb.txt"]}, InputError, id="file-name-control-char"),
    pytest.param({"zip_filename": ""}, InputError, id="empty-zip-name"),
    pytest.param({"wrapped_password": b""}, InputError, id="empty-wrapped-password"),
    pytest.param({"wrapped_password": "secret"}, InputError, id="password-not-bytes"),
    pytest.param({"release_mode": "later"}, InputError, id="unknown-release-mode"),
    pytest.param({"release_mode": "manual"}, InputError, id="manual-with-release-at"),
    pytest.param({"release_at": None}, InputError, id="delay-without-release-at"),
    pytest.param({"expires_at": NOW}, InputError, id="expires-now"),
    pytest.param({"release_at": NOW + timedelta(days=8)}, InputError,
                 id="release-after-expiry"),
    pytest.param({"reveal_limit": 0}, InputError, id="reveal-limit-zero"),
    pytest.param({"reveal_limit": True}, InputError, id="reveal-limit-bool"),
    pytest.param({"subject_hash": "件名".encode()}, InputError, id="subject-not-hashed"),
    pytest.param({"grants": [("stranger@evil.example", hash_token("t"))]}, InputError,
                 id="grant-to-non-recipient"),
    pytest.param({"grants": [(SENDER, hash_token("t"))]}, InputError,
                 id="grant-to-sender-in-delay-mode"),
    pytest.param({"grants": [(RECIPIENTS[0], b"plaintext-token")]}, InputError,
                 id="grant-token-not-hashed"),
    pytest.param({"grants": [(RECIPIENTS[0], hash_token("a")),
                             (RECIPIENTS[0], hash_token("b"))]}, ConflictError,
                 id="two-grants-same-address"),
    pytest.param({"grants": [(RECIPIENTS[0], hash_token("a")),
                             (RECIPIENTS[2], hash_token("a"))]}, ConflictError,
                 id="two-grants-same-token"),
    pytest.param({"now": datetime(2025, 4, 1, 9, 0)}, ValueError, id="naive-now"),
    pytest.param({"expires_at": datetime(2025, 4, 9)}, ValueError, id="naive-expiry"),
]


@pytest.mark.parametrize(("overrides", "error"), BAD_CREATE)
def test_bad_packages_are_refused_and_nothing_is_stored(
        store: Store, raw: sa.Engine, overrides: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        make_package(store, **overrides)
    with raw.connect() as conn:
        for table in ("packages", "grants", "audit_events"):
            count = sa.select(sa.func.count()).select_from(sa.table(table))
            assert conn.execute(count).scalar_one() == 0


def test_sender_only_mode_grants_the_sender_only(store: Store) -> None:
    p = make_package(store, release_mode="sender_only", release_at=NOW, tokens=(),
                     grants=[(SENDER, hash_token("me"))])
    assert p.state == "held"
    assert [g.address for g in store.list_grants(p.id)] == [SENDER]
    with pytest.raises(InputError, match="sender only"):
        make_package(store, release_mode="sender_only", release_at=NOW, tokens=("x",))


def test_delayed_release_is_claimed_when_due_and_not_before(store: Store) -> None:
    p = make_package(store)
    assert store.claim_due_releases(NOW + 4 * MIN) == []
    claimed = store.claim_due_releases(NOW + 5 * MIN)
    assert [c.id for c in claimed] == [p.id]
    assert claimed[0].state == "released" and claimed[0].released_at == NOW + 5 * MIN
    assert store.claim_due_releases(NOW + 6 * MIN) == []
    assert store.get_package(p.id).state == "released"
    assert actions(store, p.id) == ["package.created", "package.released"]
    assert store.search_audit(action="package.released")[0].actor == "system"


def test_claim_respects_limit_and_due_order(store: Store) -> None:
    made = [make_package(store, tokens=(), release_at=NOW + (10 - i) * MIN) for i in range(5)]
    first = store.claim_due_releases(NOW + 20 * MIN, limit=2)
    assert [p.id for p in first] == [made[4].id, made[3].id]  # earliest release first
    rest = store.claim_due_releases(NOW + 20 * MIN, limit=10)
    assert {p.id for p in rest} == {p.id for p in made[:3]}


def test_claim_skips_manual_revoked_and_expired(store: Store) -> None:
    manual = make_package(store, tokens=(), release_mode="manual", release_at=None)
    revoked = make_package(store, tokens=())
    store.revoke(revoked.id, SENDER, NOW + MIN)
    stale = make_package(store, tokens=(), expires_at=NOW + 10 * MIN)
    assert manual.state == "awaiting_release"
    assert store.claim_due_releases(NOW + 11 * MIN) == []
    assert store.get_package(stale.id).state == "held"  # expiry is expire_due's job


def test_manual_release_happens_once(store: Store) -> None:
    p = make_package(store, release_mode="manual", release_at=None)
    released = store.release_now(p.id, "Sato@Corp.Example", NOW + MIN)
    assert released.state == "released" and released.released_at == NOW + MIN
    with pytest.raises(ConflictError, match="already released"):
        store.release_now(p.id, SENDER, NOW + 2 * MIN)
    events = store.search_audit(package_id=p.id, action="package.released")
    assert [(e.actor, e.data) for e in events] == [(SENDER, {"from_state": "awaiting_release"})]


def test_release_now_skips_the_remaining_delay(store: Store) -> None:
    p = make_package(store)
    assert store.release_now(p.id, SENDER, NOW + MIN).state == "released"
    assert store.claim_due_releases(NOW + 10 * MIN) == []


@pytest.mark.parametrize("prior", ["held", "awaiting_release", "released"])
def test_revoke_from_every_active_state(store: Store, prior: str) -> None:
    mode = "manual" if prior == "awaiting_release" else "delay"
    p = make_package(store, release_mode=mode,
                     release_at=None if mode == "manual" else NOW + 5 * MIN)
    if prior == "released":
        store.release_now(p.id, SENDER, NOW + MIN)
    revoked = store.revoke(p.id, SENDER, NOW + 2 * MIN)
    assert (revoked.state, revoked.revoked_at) == ("revoked", NOW + 2 * MIN)
    with pytest.raises(ConflictError):
        store.revoke(p.id, SENDER, NOW + 3 * MIN)
    with pytest.raises(ConflictError):
        store.release_now(p.id, SENDER, NOW + 3 * MIN)
    assert store.search_audit(package_id=p.id, action="package.revoked")[0].data == {
        "from_state": prior}


def test_release_of_an_expired_package_is_refused(store: Store) -> None:
    p = make_package(store, release_mode="manual", release_at=None,
                     expires_at=NOW + 10 * MIN)
    with pytest.raises(ConflictError, match="expired"):
        store.release_now(p.id, SENDER, NOW + 10 * MIN)
    assert store.get_package(p.id).state == "awaiting_release"


def test_unknown_package_transitions_are_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.revoke("missing", SENDER, NOW)
    with pytest.raises(NotFoundError):
        store.release_now("missing", SENDER, NOW)


def test_expire_due_expires_active_packages_once(store: Store) -> None:
    short = make_package(store, tokens=(), expires_at=NOW + 10 * MIN)
    released = make_package(store, tokens=(), expires_at=NOW + 20 * MIN)
    store.release_now(released.id, SENDER, NOW + MIN)
    revoked = make_package(store, tokens=(), expires_at=NOW + 10 * MIN)
    store.revoke(revoked.id, SENDER, NOW + MIN)
    later = make_package(store, tokens=())
    assert store.expire_due(NOW + 9 * MIN) == []
    assert store.expire_due(NOW + 20 * MIN) == [short.id, released.id]
    assert store.expire_due(NOW + 21 * MIN) == []
    states = {p: store.get_package(p).state
              for p in (short.id, released.id, revoked.id, later.id)}
    assert states == {short.id: "expired", released.id: "expired", revoked.id: "revoked",
                      later.id: "held"}
    assert actions(store, short.id)[-1] == "package.expired"
    with pytest.raises(ConflictError):
        store.revoke(short.id, SENDER, NOW + 30 * MIN)


def test_list_packages_newest_first_for_that_sender_only(store: Store) -> None:
    ids = [make_package(store, tokens=(), now=NOW + i * MIN,
                        release_at=NOW + (i + 5) * MIN).id for i in range(4)]
    make_package(store, tokens=(), sender="other@corp.example")
    assert [p.id for p in store.list_packages("SATO@corp.example")] == ids[::-1]
    assert [p.id for p in store.list_packages(SENDER, limit=2)] == ids[:1:-1]
    assert store.list_packages("nobody@corp.example") == []
    with pytest.raises(InputError):
        store.list_packages(SENDER, limit=0)


def test_message_ids_can_be_attached_after_sending(store: Store) -> None:
    p = make_package(store, message_id=None, gmail_message_id=None)
    assert (p.message_id, p.gmail_message_id) == (None, None)
    q = store.set_message_ids(p.id, message_id="<new@corp.example>", gmail_message_id="abc")
    assert (q.message_id, q.gmail_message_id) == ("<new@corp.example>", "abc")
    with pytest.raises(InputError):
        store.set_message_ids(p.id, message_id="<a@b>\r\nBcc: x@y", gmail_message_id=None)


def test_times_come_back_utc_whatever_zone_went_in(store: Store) -> None:
    from zoneinfo import ZoneInfo

    tokyo = NOW.astimezone(ZoneInfo("Asia/Tokyo"))
    p = make_package(store, now=tokyo, tokens=(), release_at=tokyo + 5 * MIN)
    assert p.created_at == NOW and p.created_at.utcoffset() == timedelta(0)
    assert store.claim_due_releases((NOW + 5 * MIN).astimezone(ZoneInfo("Asia/Tokyo")))
    assert store.get_package(p.id).released_at == datetime(2025, 4, 1, 9, 5, tzinfo=UTC)


def test_new_package_ids_never_look_like_options() -> None:
    """A leading '-' made ``sendguard keys show ID`` parse the id as an option (1 in 64)."""
    from service.storage.packages import check_package_id, new_package_id

    ids = {new_package_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(i.startswith("-") for i in ids)
    assert all(check_package_id(i) == i for i in ids)
