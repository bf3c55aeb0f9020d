"""Glue between the add-on and the pure policy engine: drafts from events, stable keys,
and the bounded pool that runs content analysis away from the request threads.

Keys and fingerprints let the confirmation step recompute, on the server, exactly what the
user had to tick: a warning's key depends only on what it says (code, place, addresses),
so re-running the analysis on an unchanged draft gives the same keys.

Content analysis (Check & send reads every attachment) is CPU-bound: run on a request
thread it holds the GIL, and six heavy drafts starved every other user of the worker
(issue 9). ``ContentPool`` runs it in a child process per draft, at most ``size`` at once
per server worker, niced, with a memory limit, and kills the child at the policy's
``check_deadline`` plus a grace period: work for a request that was given up on stops.
A draft that waited too long for a slot, or whose child died, gets the recipients-only
analysis plus an ``incomplete_check`` finding for what was not read — never a silent pass.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from service.i18n import current_locale
from service.policy.model import FIELDS, Draft, Finding

if TYPE_CHECKING:
    from service.addon.event import AddonEvent
    from service.policy.addresses import Entry
    from service.policy.classifier import DomainClassifier
    from service.policy.context import HistoryView
    from service.policy.policyfile import Policy
    from service.policy.rules import Report


@lru_cache(maxsize=8)
def classifier(policy: Policy) -> DomainClassifier:
    """One classifier per policy: it caches domain look-ups across requests."""
    from service.policy.rules import classifier_for

    return classifier_for(policy)


def draft_from_event(event: AddonEvent, sender: str) -> Draft:
    """The recipients-only draft the compose trigger can see (no body, no attachments);
    a reply's Gmail thread as its one reference (``history_threads``)."""
    refs: tuple[str, ...] = ()
    if event.thread_id:
        from service.history_threads import thread_ref

        refs = (thread_ref(event.thread_id),)
    return Draft(sender=sender, to=event.to, cc=event.cc, bcc=event.bcc, references=refs)


def analyze(draft: Draft, policy: Policy, *, content: bool,
            history: HistoryView | None = None) -> Report:
    """The add-on's analysis: recipients-only in-process; with content, in the pool when
    the draft carries anything heavy (attachments or a long body)."""
    from service.policy.rules import analyze as run

    if content and is_heavy(draft):
        report = content_pool().analyze(draft, policy)
        return with_history(report, draft, policy, history)
    return run(draft, policy, classifier=classifier(policy), content=content,
               history=history)


def with_history(report: Report, draft: Draft, policy: Policy,
                 history: HistoryView | None) -> Report:
    """``report`` (from the pool, which has no database) plus the history checks, run
    here: they read recipients and the sender's own greeting, never attachments."""
    if history is None:
        return report
    from dataclasses import replace

    from service.policy.context import Context
    from service.policy.history import HISTORY_RULES

    ctx = Context(draft=draft, policy=policy, classifier=classifier(policy),
                  entries=list(report.recipients), inspections={}, content=True,
                  history=history)
    found = [f for rule in HISTORY_RULES for f in rule(ctx)]
    if not found:
        return report
    findings = sorted([*report.findings, *found], key=lambda f: -f.severity.rank)
    return replace(report, findings=findings)


LIGHT_BODY = 256 * 1024   # characters of body text still analysed on the request thread
GRACE = 2.0               # seconds a child may overrun its deadline before it is killed
_log = logging.getLogger(__name__)


def is_heavy(draft: Draft) -> bool:
    return bool(draft.attachments) or len(draft.text) + len(draft.html) > LIGHT_BODY


class ContentPool:
    """At most ``size`` content analyses at once, each in a worker process of its own.

    Workers are ``python -m service.policy.worker`` processes, started on demand and
    reused (imports paid once); each limits its own memory (``RLIMIT_DATA``) and runs
    niced. A worker that overruns the deadline by ``GRACE`` seconds, or dies, is killed
    and replaced: the work for a request that was given up on stops with it. Replies are
    JSON (findings and notes), never pickles from the process that read hostile files.
    """

    def __init__(self, size: int = 1, memory: int = 1 << 30, nice: int = 10) -> None:
        self.size = max(1, size)
        self.memory = memory
        self.nice = nice
        self._slots = threading.BoundedSemaphore(self.size)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def analyze(self, draft: Draft, policy: Policy) -> Report:
        seconds = float(policy.check_deadline)
        started = time.monotonic()
        if not self._slots.acquire(timeout=seconds):   # the wait is bounded as well
            return unchecked_report(draft, policy, "busy")
        try:
            left = max(0.5, seconds - (time.monotonic() - started))
            reply = self._run(draft, policy, left)
        finally:
            self._slots.release()
        if reply is None or "findings" not in reply:
            return unchecked_report(draft, policy, "analysis_failed")
        return _report(draft, reply)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for proc in idle:
            _stop(proc)

    def _worker(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        env = dict(os.environ, SENDGUARD_WORKER_MEMORY=str(self.memory),
                   SENDGUARD_WORKER_NICE=str(self.nice))
        return _Worker(subprocess.Popen([sys.executable, "-m", "service.policy.worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=env))

    def _run(self, draft: Draft, policy: Policy, seconds: float
             ) -> dict[str, Any] | None:
        from service.policy.worker import read_frame, write_frame

        proc = self._worker()
        task = pickle.dumps({"draft": draft, "policy": policy, "locale": current_locale(),
                             "seconds": seconds}, protocol=pickle.HIGHEST_PROTOCOL)
        result: list[Any] = []

        def talk() -> None:
            assert proc.popen.stdin is not None and proc.popen.stdout is not None
            try:
                if not proc.ready:   # the first frame of a new worker says it is up
                    read_frame(proc.popen.stdout)
                    proc.ready = True
                write_frame(proc.popen.stdin, task)
                frame = read_frame(proc.popen.stdout)
                if frame is not None:
                    result.append(json.loads(frame))
            except (OSError, ValueError):
                pass

        # A new worker's start-up (imports) is not charged to the analysis' deadline.
        budget = seconds + GRACE + (0 if proc.ready else STARTUP)
        talker = threading.Thread(target=talk, daemon=True)
        talker.start()
        talker.join(budget)
        if talker.is_alive() or not result:
            _log.warning("content analysis stopped: %s", "deadline" if talker.is_alive()
                         else "worker ended")
            _stop(proc)
            talker.join(1)
            return None
        with self._lock:
            self._idle.append(proc)
        reply: dict[str, Any] = result[0]
        return reply


@dataclass
class _Worker:
    popen: subprocess.Popen[bytes]
    ready: bool = False


STARTUP = 15.0   # seconds a new worker may take to import the readers (cold start)


def _stop(worker: _Worker) -> None:
    proc = worker.popen
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait(5)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _report(draft: Draft, reply: dict[str, Any]) -> Report:
    """The worker's findings back as objects, with the recipients parsed here (cheap)."""
    from service.policy.addresses import parse_field
    from service.policy.model import Severity
    from service.policy.rules import Report

    findings = [Finding(f["code"], Severity(f["severity"]), f["message"],
                        tuple(f["addresses"]), f["where"], dict(f.get("params") or {}))
                for f in reply["findings"]]
    entries = [e for name in FIELDS for e in parse_field(draft.entries(name), name)]
    return Report(findings, list(reply.get("notes", [])), entries)


def unchecked_report(draft: Draft, policy: Policy, why: str) -> Report:
    """Recipients and attachment names checked on the request thread; contents named as
    not checked (``incomplete_check``), with a note saying why."""
    from service.policy.rules import analyze as run

    return run(draft, policy, classifier=classifier(policy), content=False,
               unchecked=why)


_pool: ContentPool | None = None
_pool_lock = threading.Lock()


def content_pool() -> ContentPool:
    """This process' pool, sized from ``SENDGUARD_ANALYSIS_WORKERS`` (default 1 per
    server worker: one per core with the default two workers) and
    ``SENDGUARD_ANALYSIS_MEMORY_MB`` (default 384: two of them and two server workers
    fit the 1 GiB instance deploy.sh asks for)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ContentPool(
                size=int(os.environ.get("SENDGUARD_ANALYSIS_WORKERS", "1")),
                memory=int(os.environ.get("SENDGUARD_ANALYSIS_MEMORY_MB", "384")) << 20)
            atexit.register(_pool.close)   # idle workers also exit when their stdin closes
        return _pool


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()[:20]


def finding_key(f: Finding) -> str:
    """Stable id of a finding: same code, place and addresses give the same key."""
    return _digest(f.code, f.severity.value, f.where or "", *sorted(f.addresses))


def fingerprint(report: Report) -> str:
    """Changes whenever a recipient or a finding changes."""
    parts = [f"{e.field}:{e.address or e.raw}" for e in report.recipients]
    parts += sorted(finding_key(f) for f in report.findings)
    return _digest(*parts)


@dataclass
class DomainGroup:
    domain: str
    external: bool
    addresses: list[str] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.addresses)

    def field_list(self) -> list[str]:
        return [f for f in FIELDS if f in self.fields]


def valid_recipients(entries: Iterable[Entry]) -> dict[str, Entry]:
    """Distinct valid addresses in field order (To, Cc, Bcc), first occurrence kept."""
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.address and e.address not in seen:
            seen[e.address] = e
    return seen


def domain_groups(entries: Iterable[Entry], cls: DomainClassifier) -> list[DomainGroup]:
    """Valid recipients grouped by domain: external first, then by size, then by name."""
    groups: dict[str, DomainGroup] = {}
    fields_of: dict[str, set[str]] = defaultdict(set)
    all_entries = list(entries)
    for e in all_entries:
        if e.address:
            fields_of[e.address].add(e.field)
    for address, e in valid_recipients(all_entries).items():
        domain = e.domain or ""
        g = groups.get(domain)
        if g is None:
            g = groups[domain] = DomainGroup(domain, not cls.is_internal(domain))
        g.addresses.append(address)
        g.fields |= fields_of[address]
    return sorted(groups.values(), key=lambda g: (not g.external, -g.count, g.domain))
