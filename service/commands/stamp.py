"""``sendguard stamp verify`` and ``sendguard audit bypasses`` (SPEC 10.5, contract).

Both read the deployment's configuration like ``serve`` (``SENDGUARD_STAMP_KEY``,
``DATABASE_URL``): the keys to check MACs, the audit to know which nonces were minted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from service.errors import InputError

if TYPE_CHECKING:
    from service.commands.base import Subcommands

if TYPE_CHECKING:                   # registering the commands imports none of the machinery
    from service.stamp.verify import MintRecord, Verdict

VALID = "valid"
BYPASS = ("absent", "forged", "altered", "replayed")
STATUSES = (VALID, "altered", "replayed", "forged", "absent")
PAGE = 1000
WINDOW = 86400          # audit events are searched this far around the stamps' times


def register(sub: Subcommands) -> None:
    s = sub.add_parser("stamp", help="check X-SendGuard-Checked stamps")
    acts = s.add_subparsers(dest="stamp_command", metavar="ACTION", required=True)
    v = acts.add_parser("verify", help="classify each message: valid, altered, replayed, "
                        "forged or absent (exit 0 only when all are valid)")
    v.add_argument("file", help="a message (.eml) or an mbox (Vault export, audit mailbox)")
    v.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    v.set_defaults(handler=cmd_stamp_verify)


def register_audit(acts: Any) -> None:
    """``audit bypasses`` beside ``audit search``."""
    b = acts.add_parser("bypasses", help="outbound mail that did not go through SendGuard, "
                        "grouped by sender")
    b.add_argument("file", help="an mbox: a Vault export or the report-mode copy mailbox")
    b.add_argument("--since", type=_date, help="only messages dated on or after this "
                   "(ISO 8601 date or time)")
    fmt = b.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--csv", action="store_true", help="print CSV (UTF-8) for a spreadsheet")
    b.set_defaults(handler=cmd_audit_bypasses)


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- the audit's minted nonces ---------------------------------------------------------
def _minted_lookup(nonces: dict[str, int]) -> dict[str, MintRecord]:
    """``stamp.minted`` records for these nonces (nonce -> stamp time), read from the
    audit around the stamps' times only."""
    if not nonces:
        return {}
    from sqlalchemy.exc import SQLAlchemyError

    from service.settings import Config
    from service.stamp.verify import MintRecord
    from service.storage import Store

    config = Config.from_env()
    times = list(nonces.values())
    since = datetime.fromtimestamp(max(0, min(times) - WINDOW), UTC)
    until = datetime.fromtimestamp(max(times) + WINDOW, UTC)
    found: dict[str, MintRecord] = {}
    store = Store.from_url(config.database_url)
    try:
        if not store.schema_is_current():
            raise InputError("the database has no SendGuard tables (run 'sendguard db "
                             "upgrade'): cannot tell minted stamps from forged ones")
        after: int | None = None
        while True:
            batch = store.search_audit(action="stamp.minted", since=since, until=until,
                                       limit=PAGE, after_id=after)
            for event in batch:
                record = MintRecord.from_audit(event.data)
                if record is not None and record.nonce in nonces:
                    found.setdefault(record.nonce, record)
            if len(batch) < PAGE:
                return found
            after = batch[-1].id
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", exc) or exc).split())[:200]
        raise InputError(f"database {_safe_url(config.database_url)}: {reason}") from None
    finally:
        store.close()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(DATABASE_URL)"


def _stamped_nonces(path: str) -> dict[str, int]:
    from service.stamp.header import StampFormatError, parse, stamp_values
    from service.stamp.mailfile import read_messages

    nonces: dict[str, int] = {}
    for raw in read_messages(path):
        values = stamp_values(raw)
        if len(values) != 1:
            continue
        try:
            stamp = parse(values[0])
        except StampFormatError:
            continue
        nonces.setdefault(stamp.nonce, stamp.time)
    return nonces


def verdicts(path: str) -> Iterator[Verdict]:
    """Every message of ``path`` classified with the deployment's keys and audit."""
    import time

    from service.settings import Config
    from service.stamp.keys import keys_for
    from service.stamp.mailfile import read_messages
    from service.stamp.verify import Verifier

    nonces = _stamped_nonces(path)            # an unreadable file is named first
    keys = keys_for(Config.from_env(), create=False)
    minted = _minted_lookup(nonces)
    verifier = Verifier(keys, minted.get, int(time.time()))
    for raw in read_messages(path):
        yield verifier.check(raw)


def cmd_stamp_verify(args: argparse.Namespace) -> int:
    results = list(verdicts(args.file))
    counts = Counter(v.status for v in results)
    if args.json:
        json.dump({"messages": [v.to_json() for v in results],
                   "counts": {s: counts.get(s, 0) for s in STATUSES}},
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for n, v in enumerate(results, 1):
            print(f"{n:>5}  {v.status:<8}  {v.sender or '-':<32}  {v.reason}"
                  f"  [{v.subject[:40]}]")
        print("  ".join(f"{s}: {counts.get(s, 0)}" for s in STATUSES), file=sys.stderr)
    return 0 if results and all(v.status == VALID for v in results) else 1


# ---- bypasses --------------------------------------------------------------------------
@dataclass
class _Row:
    sender: str
    counts: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.counts[s] for s in BYPASS)

    def to_json(self) -> dict[str, Any]:
        return {"sender": self.sender, "total": self.total,
                **{s: self.counts.get(s, 0) for s in BYPASS}}


def _dated(value: str | None) -> datetime | None:
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _outbound_test() -> Any:
    """Which senders are the organisation's: the policy's internal domains (all senders
    when the policy names none, said on stderr)."""
    import os

    from service.policy.classifier import DomainClassifier
    from service.policy.policyfile import load_policy

    policy = load_policy(os.environ.get("SENDGUARD_POLICY") or None)
    internal = tuple(policy.internal_domains)
    if not internal:
        print("note: the policy names no internal_domains; every sender is counted",
              file=sys.stderr)
        return lambda sender: True
    classifier = DomainClassifier(internal)
    return lambda sender: bool(sender) and classifier.is_internal(sender.rpartition("@")[2])


def cmd_audit_bypasses(args: argparse.Namespace) -> int:
    outbound = _outbound_test()
    rows: dict[str, _Row] = {}
    checked = skipped_inbound = skipped_old = undated = 0
    for v in verdicts(args.file):
        if not outbound(v.sender):
            skipped_inbound += 1
            continue
        when = _dated(v.date)
        if args.since is not None:
            if when is None:
                undated += 1
            elif when < args.since:
                skipped_old += 1
                continue
        checked += 1
        if v.status == VALID:
            continue
        row = rows.setdefault(v.sender or "(no sender)", _Row(v.sender or "(no sender)",
                                                               Counter()))
        row.counts[v.status] += 1
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.sender))
    bypasses = sum(r.total for r in ordered)
    if args.json:
        json.dump({"outbound_checked": checked, "bypasses": bypasses,
                   "not_outbound": skipped_inbound, "before_since": skipped_old,
                   "undated": undated, "senders": [r.to_json() for r in ordered]},
                  sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(("sender", "total", *BYPASS))
        for r in ordered:
            writer.writerow((r.sender, r.total, *(r.counts.get(s, 0) for s in BYPASS)))
    else:
        print(f"{'sender':<40} {'total':>6} " + " ".join(f"{s:>8}" for s in BYPASS))
        for r in ordered:
            print(f"{r.sender:<40} {r.total:>6} "
                  + " ".join(f"{r.counts.get(s, 0):>8}" for s in BYPASS))
        print(f"{bypasses} of {checked} outbound messages did not go through SendGuard "
              f"({skipped_inbound} not outbound, {skipped_old} before --since"
              + (f", {undated} undated kept" if undated else "") + ")", file=sys.stderr)
    return 0
