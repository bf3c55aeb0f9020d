"""Grants: lookup by token hash, codes, attempt counting, reveals; only hashes at rest."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from service.errors import ConflictError, InputError, NotFoundError
from service.storage import Grant, Store, hash_token
from tests.storage.helpers import NOW, RECIPIENTS, SENDER, make_package

MIN = timedelta(minutes=1)
TOKEN = "Xq3-link-token-with-128-bits-of-randomness"
CODE = "48213907"


def code_hash(code: str, grant: Grant) -> bytes:
    """What a delivery layer might store: a keyed hash, never the 8 digits."""
    return hashlib.sha256(f"{grant.id}:{code}".encode()).digest()


def released_grant(store: Store, *, reveal_limit: int = 3) -> Grant:
    p = make_package(store, tokens=(TOKEN,), reveal_limit=reveal_limit)
    store.release_now(p.id, SENDER, NOW + MIN)
    grant = store.find_grant_by_token_hash(hash_token(TOKEN))
    assert grant is not None
    return grant


def with_code(store: Store, grant: Grant, at: timedelta = 2 * MIN) -> Grant:
    return store.set_code(grant.id, code_hash(CODE, grant), NOW + at + 10 * MIN, NOW + at)


def test_grant_is_found_by_the_hash_of_its_token_only(store: Store) -> None:
    p = make_package(store, tokens=(TOKEN, "other-token"))
    grant = store.find_grant_by_token_hash(hash_token(TOKEN))
    assert grant is not None
    assert (grant.package_id, grant.address, grant.token_hash) == (p.id, RECIPIENTS[0],
                                                                  hash_token(TOKEN))
    assert store.get_grant(grant.id) == grant


@pytest.mark.parametrize("probe", [
    pytest.param(hash_token("unknown"), id="unknown-token"),
    pytest.param(TOKEN.encode(), id="plaintext-token"),
    pytest.param(hash_token(TOKEN)[:16], id="truncated-hash"),
    pytest.param(b"", id="empty"),
    pytest.param(TOKEN, id="str-not-bytes"),
])
def test_anything_but_the_exact_hash_finds_nothing(store: Store, probe: Any) -> None:
    make_package(store, tokens=(TOKEN,))
    assert store.find_grant_by_token_hash(probe) is None


def test_columns_hold_hashes_never_tokens_or_codes(store: Store, raw: sa.Engine) -> None:
    grant = with_code(store, released_grant(store))
    store.append_audit("sato@corp.example", "code.sent", now=NOW,
                       package_id=grant.package_id, data={"address": grant.address})
    with raw.connect() as conn:
        row = conn.execute(sa.text("SELECT token_hash, code_hash FROM grants")).one()
        assert bytes(row.token_hash) == hashlib.sha256(TOKEN.encode()).digest()
        assert bytes(row.code_hash) == code_hash(CODE, grant)
        # No column of any table holds the token or the code, as text or as bytes.
        for table in ("packages", "grants", "audit_events", "rate_counters"):
            for record in conn.execute(sa.select(sa.text("*")).select_from(sa.table(table))):
                for value in record:
                    blob = value if isinstance(value, bytes | memoryview) else str(value)
                    data = bytes(blob) if not isinstance(blob, str) else blob.encode()
                    assert TOKEN.encode() not in data and CODE.encode() not in data


@pytest.mark.parametrize("bad", [
    pytest.param(TOKEN.encode(), id="plaintext"),
    pytest.param(b"\x00" * 31, id="too-short"),
])
def test_database_refuses_a_non_hash_token_even_behind_the_store(
        store: Store, raw: sa.Engine, bad: bytes) -> None:
    p = make_package(store, tokens=())
    with raw.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("INSERT INTO grants (package_id, address, token_hash, created_at) "
                             "VALUES (:p, :a, :h, :t)"),
                     {"p": p.id, "a": RECIPIENTS[0], "h": bad, "t": NOW})


def test_add_grant_later_to_an_actual_recipient(store: Store) -> None:
    p = make_package(store, tokens=())
    grant = store.add_grant(p.id, RECIPIENTS[1], hash_token("late"), NOW + MIN)
    assert grant.address == RECIPIENTS[1].lower() and grant.created_at == NOW + MIN
    assert store.find_grant_by_token_hash(hash_token("late")) == grant


@pytest.mark.parametrize(("address", "token", "error"), [
    pytest.param("stranger@evil.example", "t2", InputError, id="not-a-recipient"),
    pytest.param(SENDER, "t2", InputError, id="sender-not-a-recipient"),
    pytest.param("tanaka@partner.example>", "t2", InputError, id="malformed"),
    pytest.param(RECIPIENTS[0], "t2", ConflictError, id="address-already-granted"),
    pytest.param(RECIPIENTS[1], TOKEN, ConflictError, id="token-reused"),
])
def test_bad_grants_are_refused(store: Store, address: str, token: str,
                                error: type[Exception]) -> None:
    p = make_package(store, tokens=(TOKEN,))
    with pytest.raises(error):
        store.add_grant(p.id, address, hash_token(token), NOW)
    assert len(store.list_grants(p.id)) == 1


def test_no_grants_for_revoked_or_missing_packages(store: Store) -> None:
    p = make_package(store, tokens=())
    store.revoke(p.id, SENDER, NOW)
    with pytest.raises(ConflictError, match="revoked"):
        store.add_grant(p.id, RECIPIENTS[0], hash_token("t"), NOW)
    with pytest.raises(NotFoundError):
        store.add_grant("missing", RECIPIENTS[0], hash_token("t"), NOW)


def test_set_code_restarts_attempts_and_counts_sends(store: Store) -> None:
    grant = released_grant(store)
    first = with_code(store, grant)
    assert (first.code_attempts, first.code_sent_count) == (0, 1)
    assert first.code_expires_at == NOW + 12 * MIN and first.code_last_sent_at == NOW + 2 * MIN
    assert [store.record_code_attempt(grant.id) for _ in range(3)] == [1, 2, 3]
    second = store.set_code(grant.id, code_hash("11112222", grant), NOW + 20 * MIN,
                            NOW + 5 * MIN)
    assert (second.code_attempts, second.code_sent_count) == (0, 2)
    assert second.code_hash == code_hash("11112222", grant) != first.code_hash


@pytest.mark.parametrize(("code", "expires", "error"), [
    pytest.param(CODE.encode(), 10 * MIN, InputError, id="plaintext-code"),
    pytest.param(b"\x00" * 31, 10 * MIN, InputError, id="short-hash"),
    pytest.param(b"\x00" * 32, timedelta(0), InputError, id="already-expired"),
])
def test_bad_codes_are_refused(store: Store, code: bytes, expires: timedelta,
                               error: type[Exception]) -> None:
    grant = released_grant(store)
    with pytest.raises(error):
        store.set_code(grant.id, code, NOW + expires, NOW)
    assert store.get_grant(grant.id).code_hash is None


def test_code_operations_on_a_missing_grant(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.record_code_attempt(999_999)
    with pytest.raises(NotFoundError):
        store.set_code(999_999, b"\x00" * 32, NOW + MIN, NOW)
    with pytest.raises(NotFoundError):
        store.mark_revealed(999_999, NOW)


def test_reveal_consumes_the_code_and_tells_the_first_time(store: Store) -> None:
    grant = with_code(store, released_grant(store))
    reveal = store.mark_revealed(grant.id, NOW + 3 * MIN)
    assert reveal.first is True
    assert reveal.package.reveal_count == 1
    assert reveal.package.first_retrieved_at == NOW + 3 * MIN
    assert reveal.package.wrapped_password == b"\x01" * 60
    assert (reveal.grant.revealed_count, reveal.grant.code_hash) == (1, None)
    with pytest.raises(ConflictError, match="no valid code"):
        store.mark_revealed(grant.id, NOW + 4 * MIN)  # the code is single-use
    again = store.mark_revealed(with_code(store, grant, 5 * MIN).id, NOW + 6 * MIN)
    assert again.first is False and again.package.first_retrieved_at == NOW + 3 * MIN
    events = store.search_audit(action="key.revealed")
    assert [(e.actor, e.data["first"]) for e in events] == [
        (f"recipient:{RECIPIENTS[0]}", True), (f"recipient:{RECIPIENTS[0]}", False)]


def test_reveal_limit_counts_across_grants(store: Store) -> None:
    p = make_package(store, tokens=("ta", "tb"), reveal_limit=2)
    store.release_now(p.id, SENDER, NOW)
    a, b = store.list_grants(p.id)
    store.mark_revealed(with_code(store, a).id, NOW + 3 * MIN)
    store.mark_revealed(with_code(store, b).id, NOW + 3 * MIN)
    with pytest.raises(ConflictError, match="limit"):
        store.mark_revealed(with_code(store, a, 4 * MIN).id, NOW + 5 * MIN)
    assert store.get_package(p.id).reveal_count == 2


@pytest.mark.parametrize("case", ["held", "revoked", "expired-package", "expired-code",
                                  "no-code"])
def test_reveal_refused(store: Store, case: str) -> None:
    p = make_package(store, tokens=(TOKEN,), expires_at=NOW + 60 * MIN)
    grant = store.list_grants(p.id)[0]
    when = NOW + 3 * MIN
    if case != "held":
        store.release_now(p.id, SENDER, NOW + MIN)
    if case != "no-code":
        grant = with_code(store, grant)
    if case == "revoked":
        store.revoke(p.id, SENDER, NOW + 2 * MIN)
    elif case == "expired-package":
        when = NOW + 60 * MIN
    elif case == "expired-code":
        when = NOW + 12 * MIN
    with pytest.raises(ConflictError):
        store.mark_revealed(grant.id, when)
    assert store.get_package(p.id).reveal_count == 0
    assert store.search_audit(action="key.revealed") == []


def test_notices_are_recorded_once_and_missed_ones_found(store: Store) -> None:
    p = make_package(store, tokens=("ta", "tb"))
    held = make_package(store, tokens=("tc",), release_at=NOW + 30 * MIN)
    store.claim_due_releases(NOW + 5 * MIN)
    a, b = store.list_grants(p.id)
    assert store.mark_notice_sent(a.id, NOW + 6 * MIN) is True
    assert store.mark_notice_sent(a.id, NOW + 7 * MIN) is False
    assert store.get_grant(a.id).notice_sent_at == NOW + 6 * MIN
    assert store.unsent_notices(NOW + 5 * MIN) == []  # released at the cutoff: not yet
    assert [g.id for g in store.unsent_notices(NOW + 10 * MIN)] == [b.id]
    assert store.get_package(held.id).state == "held"  # its grant is not due a notice
