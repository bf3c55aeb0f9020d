"""Issue 5: several instances share one database correctly. Two real ``sendguard serve``
processes (production mode, one server worker and 4 threads each) on one real
PostgreSQL, driven over HTTP, alternating or racing between them: the code rate limits,
the code attempt counter, releases and the reveal limit hold in total, not per instance.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests

from service.delivery import codes
from service.delivery.keypage import CODES_PER_ADDRESS, CODES_PER_LINK
from service.policy.policyfile import Policy
from tests.support.smtp import SmtpServer

from .logscan import entry, leaks
from .support import (
    SENDER,
    Deployment,
    Instance,
    Visitor,
    address,
    avoid_window_edge,
    codes_to,
    http,
    links_to,
    message_kind,
    password_on,
    wait_mails,
)

T = TypeVar("T")


def together(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run the calls at once (one thread each), results in order."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def other(d: Deployment, i: int) -> Instance:
    return d.instances[i % 2]


def test_code_requests_per_link_are_limited_across_instances(
        deployment: Deployment, smtp: SmtpServer, secret_book: set[str]) -> None:
    limit, window = CODES_PER_LINK
    avoid_window_edge(window, 20)
    to = address("link-limit")
    with deployment.store() as store:
        package, password = deployment.released(store, [to])
        [token] = links_to(smtp, to)
        visitor = Visitor(token)
        kinds = [message_kind(visitor.request_code(other(deployment, i)))
                 for i in range(limit + 2)]                             # a, b, a, b, a
        assert kinds == [None] * limit + ["rate_limited"] * 2           # said on the page
        time.sleep(0.3)                                                  # nothing more comes
        sent = codes_to(smtp, to)
        assert len(sent) == limit and len(set(sent)) == limit           # a new code each time
        refused = store.search_audit(package_id=package.id, action="code.refused")
        assert [e.data["reason"] for e in refused] == ["rate_limited"]    # aggregated
    secret_book.update({password, token, *sent, visitor.cookie, visitor.csrf})


def test_code_requests_per_address_are_limited_across_instances_at_once(
        deployment: Deployment, smtp: SmtpServer, secret_book: set[str]) -> None:
    """Four links to one address, three requests each, all twelve at the same time over
    both instances: the address gets exactly its ten codes per hour."""
    per_address, window = CODES_PER_ADDRESS
    per_link = CODES_PER_LINK[0]
    avoid_window_edge(window, 30)
    to = address("address-limit")
    links = -(-(per_address + 2) // per_link)                            # 4 links
    with deployment.store() as store:
        for _ in range(links):
            _, password = deployment.released(store, [to])
            secret_book.add(password)
    tokens = links_to(smtp, to, links)
    visitors = [Visitor(t) for t in tokens]
    for i, v in enumerate(visitors):
        v.open(other(deployment, i))
    calls = [lambda v=v, i=i: message_kind(v.request_code(other(deployment, i)))
             for v in visitors for i in range(per_link)]
    kinds: Counter[str | None] = Counter(together(calls))
    assert kinds == {None: per_address, "rate_limited": links * per_link - per_address}
    sent = wait_mails(smtp, to, per_address, codes_only=True)
    time.sleep(0.3)
    assert len(codes_to(smtp, to)) == len(sent) == per_address
    secret_book.update({*tokens, *codes_to(smtp, to), *(v.cookie for v in visitors)})


def test_code_attempts_are_counted_across_instances(
        deployment: Deployment, smtp: SmtpServer, secret_book: set[str]) -> None:
    locked, control = address("locked"), address("control")
    with deployment.store() as store:
        package, password = deployment.released(store, [locked, control])
        [t_locked], [t_control] = links_to(smtp, locked), links_to(smtp, control)
        v = Visitor(t_locked)
        assert v.request_code(deployment.a).status_code == 200
        [right] = codes_to(smtp, locked)        # mailed before the page answered
        wrong = f"{(int(right) + 1) % 10**codes.DIGITS:0{codes.DIGITS}d}"
        # five wrong codes at once, spread over both instances: all counted
        answers: list[requests.Response] = together(
            [functools.partial(v.reveal, other(deployment, i), wrong)
             for i in range(codes.MAX_ATTEMPTS)])
        assert all(message_kind(r) in ("wrong", "exhausted") for r in answers)
        late = v.reveal(deployment.b, right)                             # the 6th: refused
        assert message_kind(late) == "exhausted" and password_on(late) is None
        assert password not in late.text and password not in "".join(r.text for r in answers)
        assert len(store.search_audit(package_id=package.id, action="code.wrong")) \
            == codes.MAX_ATTEMPTS
        reasons = [e.data["reason"] for e in store.search_audit(
            package_id=package.id, action="code.failed")]
        assert Counter(reasons) == {"exhausted": 1}
        assert store.get_package(package.id).reveal_count == 0

        # the same steps with one wrong code fewer: the right code then works, anywhere
        c = Visitor(t_control)
        assert c.request_code(deployment.b).status_code == 200
        [good] = codes_to(smtp, control)
        bad = f"{(int(good) + 7) % 10**codes.DIGITS:0{codes.DIGITS}d}"
        for i in range(codes.MAX_ATTEMPTS - 1):
            assert message_kind(c.reveal(other(deployment, i), bad)) == "wrong"
        assert password_on(c.reveal(deployment.a, good)) == password
    secret_book.update({password, t_locked, t_control, right, good, v.cookie, c.cookie})


def test_due_keys_are_released_once_by_concurrent_task_calls(
        deployment: Deployment, smtp: SmtpServer, secret_book: set[str]) -> None:
    """Cloud Scheduler (and retries, and overlapping runs) calling both instances at
    once: every package is released once and every grant gets one notice."""
    packages, calls_each = 6, 12
    with deployment.store() as store:
        made = []
        for n in range(packages):
            to = [address(f"due{n}a"), address(f"due{n}b")]
            package, password = deployment.package(store, to, due=True, n=n)
            made.append((package, to))
            secret_book.add(password)
        auth = {"Authorization": f"Bearer {deployment.task_token}"}

        def call(inst: Instance, headers: dict[str, str]) -> requests.Response:
            with http() as client:
                return client.post(inst.url + "/tasks/release-due", headers=headers,
                                   timeout=60)

        forged = {"Authorization": "Bearer " + deployment.task_token[:-4] + "AAAA"}
        started = time.monotonic()
        answers: list[requests.Response] = together([lambda i=i: call(other(deployment, i), auth)
                            for i in range(2 * calls_each)]
                           + [lambda i=i: call(other(deployment, i), forged) for i in range(2)])
        elapsed = time.monotonic() - started
        good, bad = answers[:-2], answers[-2:]
        assert [r.status_code for r in bad] == [401, 401]
        assert all(r.status_code == 200 for r in good), [r.text for r in good]
        totals = Counter[str]()
        for r in good:
            totals.update(r.json())
        assert (totals["released"], totals["notices_sent"], totals["notices_failed"]) == (
            packages, 2 * packages, 0)

        everyone = [a for _, to in made for a in to]
        deadline = time.monotonic() + 10
        while sum(len(smtp.to(a)) for a in everyone) < len(everyone) \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)                                    # a duplicate would arrive by now
        tokens = [t for a in everyone for t in links_to(smtp, a)]
        assert [len(smtp.to(a)) for a in everyone] == [1] * len(everyone)
        assert len(set(tokens)) == len(everyone)
        for package, _ in made:
            actions = Counter(e.action for e in store.search_audit(package_id=package.id))
            assert actions["package.released"] == 1 and actions["notice.sent"] == 2
            assert store.get_package(package.id).state == "released"
            assert all(g.notice_sent_at is not None for g in store.list_grants(package.id))
    secret_book.update(tokens)
    print(f"release-due: {len(good)} concurrent calls over 2 instances in {elapsed:.2f} s, "
          f"{packages} packages released once, {len(everyone)} notices")


def test_reveal_limit_holds_across_instances(deployment: Deployment, smtp: SmtpServer,
                                             secret_book: set[str]) -> None:
    limit, grants = 2, 4
    to = [address(f"reveal{i}") for i in range(grants)]
    with deployment.store() as store:
        package, password = deployment.released(store, to, policy=Policy(reveal_limit=limit))
        visitors = [Visitor(links_to(smtp, a)[0]) for a in to]
        for i, v in enumerate(visitors):
            assert v.request_code(other(deployment, i)).status_code == 200
        mailed = [codes_to(smtp, a) for a in to]
        assert all(len(c) == 1 for c in mailed)
        answers: list[requests.Response] = together(
            [functools.partial(v.reveal, other(deployment, i + 1), c[0])
             for i, (v, c) in enumerate(zip(visitors, mailed, strict=True))])
        shown = [password_on(r) for r in answers]
        assert sorted(r.status_code for r in answers) == [200] * limit + [410] * (grants - limit)
        assert all("used_up" in r.text for r in answers if r.status_code == 410)
        assert [p for p in shown if p] == [password] * limit
        after = store.get_package(package.id)
        assert after.reveal_count == limit and after.first_retrieved_at is not None
        assert len(store.search_audit(package_id=package.id, action="key.revealed")) == limit
        retrieved = [m for m in wait_mails(smtp, SENDER, 1) if "retrieved" in
                     str(m.message["Subject"])]
        time.sleep(0.3)
        assert len(retrieved) == 1                         # the sender hears it once
    secret_book.update({password, *(v.token for v in visitors), *(c[0] for c in mailed),
                        *(v.cookie for v in visitors)})


def test_the_instances_logged_json_lines_without_any_secret(
        deployment: Deployment, secret_book: set[str]) -> None:
    """Runs last in this module: everything the flows above made both instances log."""
    lines = [line for inst in deployment.instances for line in inst.stdout_lines()]
    assert lines, "the instances logged nothing"
    for line in lines:
        entry(line)
    errors = [line for inst in deployment.instances for line in inst.stderr_lines()
              if "Traceback" in line or "[ERROR]" in line]
    assert errors == []
    stderr = [line for inst in deployment.instances for line in inst.stderr_lines()]
    assert leaks(lines + stderr, secret_book) == []
