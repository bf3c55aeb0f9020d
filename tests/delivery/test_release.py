"""Releases: held keys go out after their delay, once, as separate notices holding only a
link, received by a real SMTP server; two workers on one database (SQLite and real
PostgreSQL) never release a package twice; failed notices are retried."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from service.delivery.material import open_package
from service.delivery.packages import create_package_for
from service.delivery.release import release_due, release_package, release_tick
from service.errors import ConflictError
from service.mailer import SmtpMailer
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.settings import Config
from service.storage import Store, hash_token
from tests.support.smtp import SmtpServer

from .conftest import SendDraft
from .helpers import BASE_URL, FILES, OTHER, PARTNER, SENDER, Clock, link_token


def _tick(store: Store, mailer: SmtpMailer, config: Config, kw: LocalKeyWrapper,
          clock: Clock, after: float) -> object:
    return release_tick(store, mailer, config, kw, clock.now + timedelta(seconds=after))


def test_held_key_is_released_after_its_delay_as_separate_notices(
        send_draft: SendDraft, store: Store, mailer: SmtpMailer, config: Config,
        keywrapper: LocalKeyWrapper, clock: Clock, smtp: SmtpServer) -> None:
    package = send_draft((PARTNER, OTHER))
    early = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=299))
    assert early.released == [] and smtp.messages == []
    report = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=300))
    assert report.released == [package.id] and report.sent == 2
    got = smtp.wait_for(2)
    assert sorted(m.rcpt_tos for m in got) == [(OTHER,), (PARTNER,)]   # one notice each
    password = open_package(keywrapper, package).password
    for m in got:
        msg, text = m.message, m.text()
        assert msg["In-Reply-To"] is None and msg["References"] is None
        assert msg["From"].addresses[0].addr_spec == "no-reply@sendguard.example.jp"
        assert package.message_id and package.message_id not in m.data.decode("ascii", "replace")
        token = link_token(text)
        assert f"{BASE_URL}/k/{token}" in text
        grant = store.find_grant_by_token_hash(hash_token(token))
        assert grant is not None and grant.address == m.rcpt_tos[0]
        assert password not in text
        for name in FILES:                        # file names may be sensitive
            assert name not in text and name.split(".")[0] not in text
        assert "見積" not in text and "社外秘" not in text   # nor the subject
        assert package.zip_filename in text and "3" in text
        assert "暗号化" in text and "encrypted" in text     # Japanese and English
    assert all(g.notice_sent_at is not None for g in store.list_grants(package.id))
    again = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(hours=1))
    assert again.released == [] and again.sent == 0 and len(smtp.messages) == 2
    assert release_due(store, mailer, config, clock.now + timedelta(hours=2), keywrapper) == 0


def test_sender_only_notice_goes_to_the_sender(send_draft: SendDraft, store: Store,
                                               mailer: SmtpMailer, config: Config,
                                               keywrapper: LocalKeyWrapper, clock: Clock,
                                               smtp: SmtpServer) -> None:
    send_draft((PARTNER,), pol=Policy(release_mode="sender_only", release_delay=0))
    assert release_due(store, mailer, config, clock.now, keywrapper) == 1
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [(SENDER,)]


def test_manual_release_by_the_sender(send_draft: SendDraft, store: Store, mailer: SmtpMailer,
                                      config: Config, keywrapper: LocalKeyWrapper,
                                      clock: Clock, smtp: SmtpServer) -> None:
    package = send_draft(pol=Policy(release_mode="manual"))
    assert release_tick(store, mailer, config, keywrapper,
                        clock.now + timedelta(days=1)).released == []
    released, sent = release_package(store, mailer, config, keywrapper, package.id, SENDER,
                                     clock.now + timedelta(minutes=1))
    assert released.state == "released" and sent == 1
    assert smtp.wait_for(1)[0].rcpt_tos == (PARTNER,)
    _, again = release_package(store, mailer, config, keywrapper, package.id, SENDER,
                               clock.now + timedelta(minutes=2))
    assert again == 0 and len(smtp.messages) == 1
    store.revoke(package.id, SENDER, clock.now + timedelta(minutes=3))
    with pytest.raises(ConflictError):
        release_package(store, mailer, config, keywrapper, package.id, SENDER,
                        clock.now + timedelta(minutes=4))


def test_revoked_during_hold_never_goes_out(send_draft: SendDraft, store: Store,
                                            mailer: SmtpMailer, config: Config,
                                            keywrapper: LocalKeyWrapper, clock: Clock,
                                            smtp: SmtpServer) -> None:
    package = send_draft()
    store.revoke(package.id, SENDER, clock.now + timedelta(seconds=60))
    report = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(hours=1))
    assert report.released == [] and smtp.messages == []


def test_failed_notice_is_retried_later_and_sent_once(
        send_draft: SendDraft, store: Store, mailer: SmtpMailer, config: Config,
        keywrapper: LocalKeyWrapper, clock: Clock, smtp: SmtpServer) -> None:
    package = send_draft()
    smtp.reject_with = "451 4.3.0 mailbox busy"
    first = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=300))
    assert first.released == [package.id] and first.sent == 0 and first.failed == 1
    assert store.list_grants(package.id)[0].notice_sent_at is None
    smtp.reject_with = None
    soon = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=330))
    assert soon.sent == 0                      # not before the retry delay
    later = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=600))
    assert later.sent == 1 and [m.rcpt_tos for m in smtp.messages] == [(PARTNER,)]
    final = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=900))
    assert final.sent == 0 and len(smtp.messages) == 1
    actions = [e.action for e in store.search_audit(package_id=package.id)]
    assert actions.count("notice.failed") == 1 and actions.count("notice.sent") == 1


def test_unconfirmed_send_waits_until_its_message_is_recorded(
        store: Store, mailer: SmtpMailer, config: Config, keywrapper: LocalKeyWrapper,
        policy: Policy, clock: Clock, smtp: SmtpServer) -> None:
    package = create_package_for(store, keywrapper, sender=SENDER, recipients=[PARTNER],
                                 key_recipients=[PARTNER], zip_filename="attachments.zip",
                                 file_names=["a.txt"], password="x" * 30, policy=policy,
                                 now=clock.now)
    report = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=300))
    assert report.released == [package.id] and report.waiting == 1 and smtp.messages == []
    store.set_message_ids(package.id, message_id=None, gmail_message_id="18f0000000000001")
    later = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=400))
    assert later.sent == 1 and smtp.wait_for(1)[0].rcpt_tos == (PARTNER,)


def test_grant_added_outside_the_service_is_not_notified(
        send_draft: SendDraft, store: Store, mailer: SmtpMailer, config: Config,
        keywrapper: LocalKeyWrapper, clock: Clock, smtp: SmtpServer) -> None:
    package = send_draft((PARTNER,))
    store.add_grant(package.id, OTHER, hash_token("a-token-someone-made-up"), clock.now)
    report = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(seconds=300))
    assert report.sent == 1 and report.failed == 1
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [(PARTNER,)]


def test_expired_keys_expire(send_draft: SendDraft, store: Store, mailer: SmtpMailer,
                             config: Config, keywrapper: LocalKeyWrapper, clock: Clock) -> None:
    package = send_draft()
    report = release_tick(store, mailer, config, keywrapper, clock.now + timedelta(days=7))
    assert report.expired == [package.id] and report.released == []
    assert store.get_package(package.id).state == "expired"


# --------------------------------------------------------------- exactly once, two workers

PACKAGES = 12


def _two_workers(url: str, config: Config, keywrapper: LocalKeyWrapper, policy: Policy,
                 clock: Clock, smtp: SmtpServer) -> None:
    with Store.from_url(url) as setup:
        for i in range(PACKAGES):
            create_package_for(setup, keywrapper, sender=SENDER, recipients=[PARTNER, OTHER],
                               key_recipients=[PARTNER, OTHER], zip_filename="a.zip",
                               file_names=[f"f{i}.txt"], password=f"password-{i:04d}-xxxx",
                               policy=policy, now=clock.now, message_id=f"m{i}@corp")
    due = clock.now + timedelta(seconds=300)
    barrier = threading.Barrier(2)
    reports: list[list[str]] = [[], []]
    sent = [0, 0]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with Store.from_url(url) as store:            # its own pool, like another instance
                mailer = SmtpMailer(smtp.url)
                barrier.wait()
                for step in range(3):
                    report = release_tick(store, mailer, config, keywrapper,
                                          due + timedelta(seconds=step), limit=5)
                    reports[n] += report.released
                    sent[n] += report.sent
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    both = reports[0] + reports[1]
    assert len(both) == PACKAGES and len(set(both)) == PACKAGES     # each exactly once
    assert sum(sent) == 2 * PACKAGES
    got = smtp.wait_for(2 * PACKAGES)
    tokens = [link_token(m.text()) for m in got]
    assert len(set(tokens)) == 2 * PACKAGES                          # no notice twice
    with Store.from_url(url) as check:
        assert len(check.search_audit(action="package.released")) == PACKAGES
        assert len(check.search_audit(action="notice.sent")) == 2 * PACKAGES


def test_two_workers_release_each_package_once_sqlite(
        db_url: str, config: Config, keywrapper: LocalKeyWrapper, policy: Policy,
        clock: Clock, smtp: SmtpServer) -> None:
    _two_workers(db_url, config, keywrapper, policy, clock, smtp)


@pytest.mark.postgres
def test_two_workers_release_each_package_once_postgres(
        pg_url: str, config: Config, keywrapper: LocalKeyWrapper, policy: Policy,
        clock: Clock, smtp: SmtpServer) -> None:
    _two_workers(pg_url, config, keywrapper, policy, clock, smtp)
