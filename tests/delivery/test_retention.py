"""Key retention and re-wrapping through the delivery layer, on SQLite and on a real
PostgreSQL server: a purged key opens nothing any more (key page, notices) while the
record and the audit log stay; the worker round purges once an hour across instances;
re-wrapping after a rotation (or to KMS) moves every key, idempotently, and the old key
can then be dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from service.delivery.keypage import KeyPage
from service.delivery.material import open_package
from service.delivery.packages import create_package_for
from service.delivery.release import release_tick
from service.delivery.retention import purge_ended, purge_if_due
from service.delivery.rewrap import RewrapReport, current_header, rewrap_all, target_name
from service.durations import parse_duration
from service.errors import InputError, SecretError
from service.mailer import SmtpMailer
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper, MigratingKeyWrapper, key_id
from service.settings import Config
from service.storage import Package, Store
from tests.support.kms import kms_wrapper
from tests.support.smtp import SmtpServer

from .helpers import OTHER, PARTNER, SENDER, Clock, code_in, link_token

DAY = timedelta(days=1)
OLD, NEW, LOST = "11" * 32, "22" * 32, "33" * 32


@pytest.fixture
def url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def db(url: str) -> Iterator[Store]:
    with Store.from_url(url) as s:
        yield s


def make(store: Store, wrapper: Any, policy: Policy, clock: Clock, n: int = 0,
         **kw: Any) -> Package:
    return create_package_for(store, wrapper, sender=SENDER, recipients=[PARTNER, OTHER],
                              key_recipients=[PARTNER], zip_filename="attachments.zip",
                              file_names=[f"見積書{n}.xlsx"], password=f"pw-{n:04d}-" + "k" * 24,
                              policy=policy, now=clock.now, message_id=f"<m{n}@corp>", **kw)


# ---------------------------------------------------------------- durations

@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("30d", 30 * DAY, id="days"),
    pytest.param(" 7 ", 7 * DAY, id="bare-number-is-days"),
    pytest.param("36h", timedelta(hours=36), id="hours"),
    pytest.param("90m", timedelta(minutes=90), id="minutes"),
    pytest.param("0d", timedelta(0), id="zero"),
])
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", [
    pytest.param("", id="empty"), pytest.param("30x", id="unknown-unit"),
    pytest.param("-1d", id="negative"), pytest.param("1.5d", id="fraction"),
    pytest.param("d", id="no-number"), pytest.param("999999d", id="huge"),
    pytest.param("30 days", id="word"),
])
def test_bad_durations_name_the_option(bad: str) -> None:
    with pytest.raises(InputError, match="--older-than"):
        parse_duration(bad)


# ---------------------------------------------------------------- purge

def test_purged_key_opens_nothing_but_the_record_and_log_stay(
        db: Store, policy: Policy, clock: Clock, config: Config, smtp: SmtpServer) -> None:
    wrapper = LocalKeyWrapper(OLD)
    mailer = SmtpMailer(smtp.url)
    package = make(db, wrapper, policy, clock)
    release_tick(db, mailer, config, wrapper, clock.now + timedelta(seconds=300),
                 retention=None)
    token = link_token(smtp.wait_for(1)[0].text())
    page = KeyPage(db, mailer, config, wrapper)
    page.send_code(token, clock.now + timedelta(seconds=400))
    db.revoke(package.id, SENDER, clock.now + timedelta(seconds=500))
    events = [e.id for e in db.search_audit()]

    assert purge_ended(db, clock.now + 29 * DAY) == []
    assert purge_ended(db, clock.now + 31 * DAY, actor="cli:admin") == [package.id]
    after = db.get_package(package.id)
    assert after.state == "revoked" and after.wrapped_password == b""
    assert after.recipients == package.recipients and after.message_id == package.message_id
    assert db.list_grants(package.id)[0].code_hash is None
    with pytest.raises(SecretError):
        open_package(wrapper, after)
    with pytest.raises(SecretError):
        page.open(token, clock.now + 31 * DAY)
    # the audit log only grew: every earlier event is still there, plus the purge
    log = db.search_audit(package_id=package.id)
    assert [e.id for e in db.search_audit()][:len(events)] == events
    assert [(e.action, e.actor) for e in log][-2:] == [("package.purged", "cli:admin"),
                                                       ("key_page.refused",
                                                        f"recipient:{PARTNER}")]


def test_worker_round_purges_hourly_and_only_once_across_instances(
        url: str, db: Store, policy: Policy, clock: Clock, config: Config,
        smtp: SmtpServer) -> None:
    wrapper = LocalKeyWrapper(OLD)
    mailer = SmtpMailer(smtp.url)
    first = [make(db, wrapper, policy, clock, i) for i in range(4)]
    for p in first:
        db.revoke(p.id, SENDER, clock.now)
    at = clock.now.replace(minute=0, second=0, microsecond=0) + 31 * DAY + timedelta(
        minutes=1)
    stores = [Store.from_url(url) for _ in range(3)]
    reports: list[int] = []
    barrier = threading.Barrier(len(stores))

    def tick(s: Store) -> None:
        barrier.wait()
        reports.append(release_tick(s, mailer, config, wrapper, at).purged)

    threads = [threading.Thread(target=tick, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    for s in stores:
        s.close()
    assert sorted(reports) == [0, 0, 4]       # one instance took the hour's lease
    later = make(db, wrapper, policy, clock, 9)
    db.revoke(later.id, SENDER, clock.now)
    same_hour = release_tick(db, mailer, config, wrapper, at + timedelta(minutes=30))
    assert same_hour.purged == 0 and db.get_package(later.id).purged_at is None
    next_hour = release_tick(db, mailer, config, wrapper, at + timedelta(minutes=61))
    assert next_hour.purged == 1 and next_hour.to_json()["purged"] == 1
    assert len(db.search_audit(action="package.purged")) == 5


def test_worker_round_without_retention_purges_nothing(db: Store, policy: Policy,
                                                       clock: Clock) -> None:
    p = make(db, LocalKeyWrapper(OLD), policy, clock)
    db.revoke(p.id, SENDER, clock.now)
    assert purge_if_due(db, clock.now + 40 * DAY, None) == 0
    assert purge_if_due(db, clock.now + 40 * DAY, 60 * DAY) == 0
    assert db.get_package(p.id).purged_at is None


# ---------------------------------------------------------------- rewrap

def test_rotation_rewrap_moves_every_key_and_the_old_key_can_go(
        db: Store, policy: Policy, clock: Clock) -> None:
    old = LocalKeyWrapper(OLD)
    made = [make(db, old, policy, clock, i) for i in range(5)]
    lost = make(db, LocalKeyWrapper(LOST), policy, clock, 7)    # under a key nobody has
    gone = make(db, old, policy, clock, 8)
    db.revoke(gone.id, SENDER, clock.now)
    db.purge_key_material(clock.now + 31 * DAY, 30 * DAY)
    rotated = LocalKeyWrapper(f"{NEW},{OLD}")
    before = {p.id: db.get_package(p.id).wrapped_password for p in made}

    dry = rewrap_all(db, rotated, dry_run=True)
    assert dry.to_json() == {"total": 6, "seen": 6, "rewrapped": 5, "current": 0,
                             "changed": 0, "failed": 1, "history": "absent"}
    assert dry.failed == [lost.id]
    assert {p.id: db.get_package(p.id).wrapped_password for p in made} == before

    pages: list[int] = []
    run = rewrap_all(db, rotated, batch=2, progress=lambda r: pages.append(r.seen))
    assert (run.rewrapped, run.current, run.failed) == (5, 0, [lost.id])
    assert pages == [2, 4, 6]
    new_only = LocalKeyWrapper(NEW)
    for p in made:
        now_stored = db.get_package(p.id)
        assert now_stored.wrapped_password.startswith(bytes([1]) + key_id(bytes.fromhex(NEW)))
        assert open_package(new_only, now_stored) == open_package(old, p)
    again = rewrap_all(db, rotated)
    assert (again.rewrapped, again.current, len(again.failed)) == (0, 5, 1)
    assert current_header(rotated) == bytes([1]) + key_id(bytes.fromhex(NEW))
    assert target_name(current_header(rotated)) == f"master-key:{key_id(bytes.fromhex(NEW)).hex()}"


def test_two_rewraps_at_once_rewrap_each_key_once(url: str, db: Store, policy: Policy,
                                                  clock: Clock) -> None:
    old = LocalKeyWrapper(OLD)
    made = [make(db, old, policy, clock, i) for i in range(8)]
    rotated = LocalKeyWrapper(f"{NEW},{OLD}")
    stores = [Store.from_url(url) for _ in range(2)]
    reports: list[RewrapReport] = []
    barrier = threading.Barrier(2)

    def run(s: Store) -> None:
        barrier.wait()
        reports.append(rewrap_all(s, rotated, batch=3))

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    for s in stores:
        s.close()
    # each key was swapped by one run; the other saw it current or lost the race
    assert sum(r.rewrapped for r in reports) == 8
    assert all(r.rewrapped + r.current + r.changed == 8 and not r.failed for r in reports)
    for p in made:
        assert open_package(LocalKeyWrapper(NEW), db.get_package(p.id)) == open_package(old, p)


def test_rewrap_to_kms_then_the_master_key_can_go(db: Store, policy: Policy,
                                                  clock: Clock) -> None:
    local = LocalKeyWrapper(OLD)
    made = [make(db, local, policy, clock, i) for i in range(3)]
    with kms_wrapper() as kms:
        switching = MigratingKeyWrapper(kms, {2: kms, 1: local})
        assert target_name(current_header(switching)) == "kms"
        report = rewrap_all(db, switching)
        assert (report.rewrapped, report.current, report.failed) == (3, 0, [])
        for p in made:
            stored = db.get_package(p.id)
            assert stored.wrapped_password[0] == 2
            assert open_package(kms, stored) == open_package(local, p)
        assert rewrap_all(db, switching).current == 3


def test_released_key_still_reaches_its_recipient_after_rewrap(
        db: Store, policy: Policy, clock: Clock, config: Config, smtp: SmtpServer) -> None:
    """Rotation mid-flight: held under the old key, re-wrapped, released and revealed
    with the new key alone."""
    old = LocalKeyWrapper(OLD)
    package = make(db, old, policy, clock)
    rewrap_all(db, LocalKeyWrapper(f"{NEW},{OLD}"))
    new_only = LocalKeyWrapper(NEW)
    mailer = SmtpMailer(smtp.url)
    release_tick(db, mailer, config, new_only, clock.now + timedelta(seconds=300))
    token = link_token(smtp.wait_for(1)[0].text())
    page = KeyPage(db, mailer, config, new_only)
    page.send_code(token, clock.now + timedelta(seconds=310))
    code = code_in(smtp.wait_for(2)[-1].text())
    revealed = page.reveal(token, code, clock.now + timedelta(seconds=320))
    assert revealed.password == open_package(old, package).password


