"""``sendguard audit search``: the evidence an organisation needs after an incident.

What was sent to whom, what the sender was shown, who overrode which warning — filtered
by user, date range, finding code, package or action, as a table, JSON lines or CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from service.errors import InputError, Text

if TYPE_CHECKING:
    from service.commands.base import Subcommands
    from service.storage import Store
    from service.storage.records import AuditEvent

PAGE = 500
COLUMNS = ("id", "at", "actor", "action", "package_id", "message_id", "data")


def register(sub: Subcommands) -> None:
    a = sub.add_parser("audit", help="search and export the audit log")
    acts = a.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    s = acts.add_parser("search", help="find audit events (all filters combine)")
    s.add_argument("--user", help="the user (sender) or recipient:ADDRESS / system")
    s.add_argument("--since", type=_when, help="from this date/time (inclusive), ISO 8601")
    s.add_argument("--until", type=_until, help="up to this date (inclusive) or time "
                   "(exclusive), ISO 8601")
    s.add_argument("--code", help="a finding code, e.g. many_visible_recipients")
    s.add_argument("--package", help="a package id")
    s.add_argument("--message-id", help="an RFC Message-ID")
    s.add_argument("--action", help="an event action, e.g. finding.overridden")
    s.add_argument("--limit", type=int, default=None, help="at most N events (default: all)")
    fmt = s.add_mutually_exclusive_group()
    fmt.add_argument("--csv", nargs="?", const="-", metavar="FILE",
                     help="write CSV to FILE (or stdout)")
    fmt.add_argument("--json", action="store_true", help="one JSON object per line")
    s.set_defaults(handler=cmd_audit_search)
    from service.commands import stamp as stamp_commands

    stamp_commands.register_audit(acts)


def _parse(value: str) -> datetime | date:
    try:
        if "T" in value or " " in value.strip():
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r}") from None


def _when(value: str) -> datetime:
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        return parsed
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)


def _until(value: str) -> datetime:
    parsed = _parse(value)
    if isinstance(parsed, datetime):
        return parsed
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC) + timedelta(days=1)


def _events(store: Store, args: argparse.Namespace) -> Iterator[AuditEvent]:
    remaining = args.limit
    after: int | None = None
    while remaining is None or remaining > 0:
        page = min(PAGE, remaining) if remaining is not None else PAGE
        batch = store.search_audit(user=args.user, since=args.since, until=args.until,
                                   code=args.code, package_id=args.package,
                                   message_id=args.message_id, action=args.action,
                                   limit=page, after_id=after)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].id
        if remaining is not None:
            remaining -= len(batch)


def _row(event: Any) -> dict[str, Any]:
    return {"id": event.id, "at": event.at.isoformat(), "actor": event.actor,
            "action": event.action, "package_id": event.package_id or "",
            "message_id": event.message_id or "", "data": event.data}


def cmd_audit_search(args: argparse.Namespace) -> int:
    from service.settings import Config
    from service.storage import Store

    if args.limit is not None and args.limit < 1:
        raise InputError(Text("cli.limit_positive"))
    if args.since and args.until and args.since >= args.until:
        raise InputError(Text("cli.since_until"))
    config = Config.from_env()
    store = Store.from_url(config.database_url)
    try:
        if not store.schema_is_current():
            from service.commands.base import mask_url

            raise InputError(Text("cli.no_tables", {"url": mask_url(config.database_url)}))
        if args.csv is not None:
            if args.csv == "-":
                return _write_csv(_events(store, args), sys.stdout)
            with open(args.csv, "w", encoding="utf-8-sig", newline="") as out:
                return _write_csv(_events(store, args), out)
        count = 0
        for event in _events(store, args):
            row = _row(event)
            if args.json:
                print(json.dumps(row, ensure_ascii=False))
            else:
                print(f"{row['at']}  {row['actor']:<32} {row['action']:<22} "
                      f"{row['package_id'] or '-':<24} "
                      f"{json.dumps(row['data'], ensure_ascii=False)[:200]}")
            count += 1
        if not args.json:
            print(f"({count} events)", file=sys.stderr)
    finally:
        store.close()
    return 0


def _write_csv(events: Iterator[AuditEvent], out: TextIO) -> int:
    """CSV with a BOM when written to a file, so Excel in Japanese locales reads UTF-8."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event in events:
        row = _row(event)
        row["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow([row[c] for c in COLUMNS])
    return 0
