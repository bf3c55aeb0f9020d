"""``sendguard check``: analyse a message file exactly as the add-on does (SPEC 4).

It starts fast (SPEC 10.4): nothing here imports the web or database stack unless the
sender may have a recipient history.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from service.commands.base import EXIT_FINDINGS, EXIT_OK, load_policy, read_message
from service.errors import MessageError, Text
from service.i18n import _
from service.policy.catalogue import SEVERITIES

if TYPE_CHECKING:
    from service.commands.base import Subcommands
    from service.policy.policyfile import Policy
    from service.policy.rules import Report


def register(sub: Subcommands) -> None:
    c = sub.add_parser("check", help="analyse a message file exactly as the add-on does")
    c.add_argument("message", help="RFC 822 message file (.eml), or - for standard input")
    c.add_argument("--policy", help="policy TOML (default: $SENDGUARD_POLICY or built-in)")
    c.add_argument("--json", action="store_true", help="print findings as JSON")
    c.add_argument("--fail-on", choices=("warn", "block"),
                   help="exit 1 when a finding at or above this severity exists")
    c.add_argument("--user", help="check with this sender's recipient history "
                   "(default: the message's From, when history exists for it)")
    c.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from service.policy import analyze, draft_from_bytes

    policy = load_policy(args.policy)
    raw = read_message(args.message)
    try:
        draft = draft_from_bytes(raw)
    except MessageError as exc:
        raise MessageError(Text("cli.file_error", {"path": args.message, "reason": exc})) from None
    if args.user is None and not _may_have_history(draft.sender, policy):
        report = analyze(draft, policy)
    else:
        from service.commands.history import history_for_check

        with history_for_check(args.user, draft.sender) as history:
            report = analyze(draft, policy, history=history)
    if args.json:
        out = json.dumps({"findings": [f.to_json() for f in report.findings],
                          "interrupts": report.interrupts},
                         ensure_ascii=False, indent=2)
        # always valid UTF-8: a lone surrogate (bytes a header could not decode) becomes "?"
        sys.stdout.write(out.encode("utf-8", "replace").decode("utf-8") + "\n")
        for note in report.notes:
            print(note, file=sys.stderr)
    else:
        print_table(report, sys.stdout)
    if args.fail_on:
        level = {"warn": 1, "block": 2}[args.fail_on]
        if any(f.severity.rank >= level for f in report.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def _may_have_history(sender: str, policy: Policy) -> bool:
    """Whether a database may hold ``sender``'s history, without importing it: history
    is on, and ``DATABASE_URL`` is set or the default SQLite file exists."""
    import os

    if not sender or not policy.history_enabled:
        return False
    if os.environ.get("DATABASE_URL"):
        return True
    var = Path(os.environ.get("SENDGUARD_VAR_DIR", "var"))
    return (var / "sendguard.db").exists()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _width(text))


def print_table(report: Report, out: TextIO) -> None:
    findings = report.findings
    if not findings:
        print(_("cli.no_findings"), file=out)
    else:
        print(_("cli.header"), file=out)
        for f in findings:
            where = f.where or "-"
            if len(where) > 12:
                where = where[:11] + "…"
            print(_pad(_(SEVERITIES[f.severity.value]), 10) + _pad(f.code, 27)
                  + _pad(where, 13) + f.message, file=out)
        counts = {s: sum(1 for f in findings if f.severity.value == s)
                  for s in ("block", "warn", "info")}
        print("", file=out)
        print(_("cli.summary", **counts), file=out)
    # SPEC 10.6 (contract, same words in every locale): does this mail stop the sender?
    print("interruptions: " + ("yes" if report.interrupts else "no"), file=out)
    if report.notes:
        print(_("cli.notes"), file=out)
        for note in report.notes:
            print("  " + note, file=out)
