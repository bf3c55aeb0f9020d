"""The add-on's content analysis pool (issue 9): same findings as in-process, a bounded
wait for a slot, and a worker that fails (here: its memory limit) or overruns gives the
recipients-only analysis plus ``incomplete_check`` — never a silent pass, never a hang."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from service.addon.analysis import ContentPool, analyze, is_heavy
from service.policy import analyze as run
from service.policy import draft_from_bytes
from service.policy.policyfile import Policy
from tests.support import hostile as h

POLICY = Policy(internal_domains=("example.co.jp",), check_deadline=20)
CSV = "\n".join(",".join(map(str, r)) for r in h.customer_rows(40)).encode()


@pytest.fixture
def pool() -> Iterator[ContentPool]:
    p = ContentPool(size=1, memory=512 << 20)
    yield p
    p.close()


def draft(data: bytes = CSV, name: str = "list.csv") -> object:
    return draft_from_bytes(h.with_attachment(name, "text/csv", data))


def test_pool_gives_the_in_process_findings(pool: ContentPool) -> None:
    d = draft()
    expected = [f.to_json() for f in run(d, POLICY).findings]
    for _ in range(2):   # a fresh worker, then the same one reused
        report = pool.analyze(d, POLICY)  # type: ignore[arg-type]
        assert [f.to_json() for f in report.findings] == expected
        assert "personal_data" in [f.code for f in report.findings]
        assert report.recipients and report.recipients[0].address == \
            "partner@partner.example.com"


def test_light_drafts_stay_in_process() -> None:
    assert not is_heavy(draft_from_bytes(h.HEAD + b"\r\nhello\r\n"))
    assert is_heavy(draft())  # type: ignore[arg-type]


def test_waiting_for_a_slot_is_bounded(pool: ContentPool) -> None:
    policy = Policy(internal_domains=("example.co.jp",), check_deadline=1)
    assert pool._slots.acquire()   # another user's analysis holds the only slot
    try:
        started = time.monotonic()
        report = pool.analyze(draft(), policy)  # type: ignore[arg-type]
        assert time.monotonic() - started < 3
    finally:
        pool._slots.release()
    codes = [f.code for f in report.findings]
    assert "personal_data" not in codes
    assert {f.where for f in report.findings if f.code == "incomplete_check"} == {
        "list.csv", "body"}
    assert any("busy" in n for n in report.notes)


def test_a_worker_over_its_memory_limit_is_replaced() -> None:
    tiny = ContentPool(size=1, memory=64 << 20)
    big = draft(CSV * 10_000)   # ~22 MB of text: its copies exceed what the worker may hold
    try:
        report = tiny.analyze(big, POLICY)  # type: ignore[arg-type]
    finally:
        tiny.close()
    assert "incomplete_check" in [f.code for f in report.findings]
    assert any("could not be checked" in n for n in report.notes)


def test_addon_analyze_uses_the_pool_for_heavy_drafts() -> None:
    report = analyze(draft(), POLICY, content=True)  # type: ignore[arg-type]
    assert "personal_data" in [f.code for f in report.findings]
