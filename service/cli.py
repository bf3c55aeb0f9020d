"""The ``sendguard`` command (SPEC section 4, contract).

Every expected failure is a ``SendGuardError`` turned into one line on stderr and exit 2
here; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from service.errors import MessageError, SendGuardError
from service.i18n import locale_from_env, t

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):
        parser.error("unrecognized arguments: " + " ".join(extra))
    args.extra = extra
    locale = locale_from_env()
    handler: Callable[[argparse.Namespace, str], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return handler(args, locale)
    except SendGuardError as exc:
        _error(exc.public_message or type(exc).__name__, locale)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _error(message: str, locale: str) -> None:
    line = " ".join(str(message).split())
    print(t("cli.error", locale, message=line), file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sendguard",
                                description="SendGuard: catch e-mail misdelivery before it leaves.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser("check", help="analyse a message file exactly as the add-on does")
    c.add_argument("message", help="RFC 822 message file (.eml), or - for standard input")
    c.add_argument("--policy", help="policy TOML (default: $SENDGUARD_POLICY or built-in)")
    c.add_argument("--json", action="store_true", help="print findings as JSON")
    c.add_argument("--fail-on", choices=("warn", "block"),
                   help="exit 1 when a finding at or above this severity exists")
    c.set_defaults(handler=cmd_check)

    _register_more(sub)
    return p


def _register_more(sub: Any) -> None:
    """Commands whose modules are imported only when used."""
    from service import commands

    commands.register(sub)


def _policy(path: str | None) -> Any:
    import os

    from service.policy.config import load_policy

    return load_policy(path or os.environ.get("SENDGUARD_POLICY") or None)


def read_message(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    try:
        if p.is_dir():
            raise MessageError(f"{path}: is a directory")
        return p.read_bytes()
    except FileNotFoundError:
        raise MessageError(f"{path}: no such file") from None
    except OSError as exc:
        raise MessageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def cmd_check(args: argparse.Namespace, locale: str) -> int:
    from service.policy import analyze, draft_from_bytes

    policy = _policy(args.policy)
    raw = read_message(args.message)
    try:
        draft = draft_from_bytes(raw)
    except MessageError as exc:
        raise MessageError(f"{args.message}: {exc.public_message}") from None
    report = analyze(draft, policy, locale=locale)
    if args.json:
        json.dump({"findings": [f.to_json() for f in report.findings],
                   "interrupts": report.interrupts}, sys.stdout,
                  ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        for note in report.notes:
            print(note, file=sys.stderr)
    else:
        print_table(report, locale, sys.stdout)
    if args.fail_on:
        level = {"warn": 1, "block": 2}[args.fail_on]
        if any(f.severity.rank >= level for f in report.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _width(text))


def print_table(report: Any, locale: str, out: TextIO) -> None:
    findings = report.findings
    if not findings:
        print(t("cli.no_findings", locale), file=out)
    else:
        print(t("cli.header", locale), file=out)
        for f in findings:
            where = f.where or "-"
            if len(where) > 12:
                where = where[:11] + "…"
            print(_pad(t("severity." + f.severity.value, locale), 10) + _pad(f.code, 27)
                  + _pad(where, 13) + f.message, file=out)
        counts = {s: sum(1 for f in findings if f.severity.value == s)
                  for s in ("block", "warn", "info")}
        print("", file=out)
        print(t("cli.summary", locale, **counts), file=out)
    # SPEC 10.6 (contract, same words in every locale): does this mail stop the sender?
    print("interruptions: " + ("yes" if report.interrupts else "no"), file=out)
    if report.notes:
        print(t("cli.notes", locale), file=out)
        for note in report.notes:
            print("  " + note, file=out)
