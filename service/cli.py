"""The ``sendguard`` command (SPEC section 4, contract).

Every expected failure is a ``SendGuardError`` turned into one line on stderr and exit 2
here; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from service.errors import MessageError, SendGuardError, Text
from service.i18n import locale_from_env, t

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    locale = locale_from_env()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(locale, only=_command_of(argv))
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "passthrough", False):
            parser.error(t("cli.unrecognized", locale, args=" ".join(extra)))
    except UsageError as exc:
        _error(str(exc), locale)
        return EXIT_ERROR
    if args.version:
        from service import __version__

        print(f"sendguard {__version__}")
        return EXIT_OK
    args.extra = extra
    handler: Callable[[argparse.Namespace, str], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return handler(args, locale)
    except SendGuardError as exc:
        _error(exc.localized(locale) or type(exc).__name__, locale)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except OSError as exc:     # a file the command itself opens (output, CSV, ...)
        where = exc.filename if exc.filename is not None else t("cli.a_file", locale)
        _error(t("cli.file_error", locale, path=where,
                 reason=exc.strerror or type(exc).__name__), locale)
        return EXIT_ERROR
    except Exception as exc:
        line = database_failure(exc, locale)
        if line is None:
            raise                # a bug: the traceback is wanted
        _error(line, locale)
        return EXIT_ERROR


def _error(message: str, locale: str) -> None:
    line = " ".join(str(message).split())
    print(t("cli.error", locale, message=line), file=sys.stderr)


_DB_MODULES = ("sqlalchemy", "psycopg", "sqlite3", "alembic")


def database_failure(exc: BaseException, locale: str) -> str | None:
    """One line for a database that cannot be reached or used, or None when ``exc`` is
    not a database error. Names the database (password masked) and the driver's first
    line; never SQL text or parameters."""
    if not any(k.__module__.split(".")[0] in _DB_MODULES for k in type(exc).__mro__):
        return None
    import os

    url = os.environ.get("DATABASE_URL") or "sqlite:///{}/sendguard.db".format(
        os.environ.get("SENDGUARD_VAR_DIR", "var"))
    orig = getattr(exc, "orig", None) or exc
    reason = next((ln.strip() for ln in str(orig).splitlines() if ln.strip()),
                  type(orig).__name__)
    reason = reason.split("[SQL:")[0].strip()[:300]
    connection = type(exc).__name__ in ("OperationalError", "InterfaceError",
                                        "DisconnectionError", "TimeoutError")
    key = "cli.database_unreachable" if connection else "cli.database_failed"
    return t(key, locale, url=mask_url(url), reason=reason)


def mask_url(url: str) -> str:
    """``postgresql://user:***@host/db``: a database URL safe to print."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rpartition("@")
        user = (parts.username or "") + ":***"
        return urlunsplit(parts._replace(netloc=user + "@" + netloc[2]))
    except ValueError:
        return "DATABASE_URL"


class UsageError(Exception):
    """A command line argparse refused: one translated line instead of usage + exit."""


class Parser(argparse.ArgumentParser):
    """argparse that raises ``UsageError`` (one line, in the user's language)."""

    locale = "en"

    def error(self, message: str) -> NoReturn:
        raise UsageError(t("cli.usage_error", self.locale, message=_usage_text(message,
                                                                             self.locale),
                           command=self.prog))


_ARGPARSE = (
    (re.compile(r"the following arguments are required: (.*)"), "cli.arg_required"),
    (re.compile(r"unrecognized arguments: (.*)"), "cli.unrecognized"),
    (re.compile(r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)"),
     "cli.arg_choice"),
    (re.compile(r"argument (\S+): expected one argument"), "cli.arg_expected"),
    (re.compile(r"argument (\S+): invalid \S+ value: (.*)"), "cli.arg_invalid"),
    (re.compile(r"argument (\S+): not allowed with argument (.*)"), "cli.arg_conflict"),
)


def _usage_text(message: str, locale: str) -> str:
    """argparse's English messages in the user's language, where we know them."""
    for pattern, key in _ARGPARSE:
        m = pattern.fullmatch(message)
        if m:
            return t(key, locale, **{f"a{i}": v for i, v in enumerate(m.groups(), 1)},
                     args=m.group(1))
    return message


def _command_of(argv: list[str]) -> str | None:
    """The sub-command named on the command line, if it is one whose parser needs no
    other module: then only that one is built (``check`` starts without importing the
    modules of the others)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first == "check" else None


def build_parser(locale: str = "en", only: str | None = None) -> argparse.ArgumentParser:
    Parser.locale = locale
    p = Parser(prog="sendguard",
               description="SendGuard: catch e-mail misdelivery before it leaves.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    c = sub.add_parser("check", help="analyse a message file exactly as the add-on does")
    c.add_argument("message", help="RFC 822 message file (.eml), or - for standard input")
    c.add_argument("--policy", help="policy TOML (default: $SENDGUARD_POLICY or built-in)")
    c.add_argument("--json", action="store_true", help="print findings as JSON")
    c.add_argument("--fail-on", choices=("warn", "block"),
                   help="exit 1 when a finding at or above this severity exists")
    c.add_argument("--user", help="check with this sender's recipient history "
                   "(default: the message's From, when history exists for it)")
    c.set_defaults(handler=cmd_check)

    if only is None:
        _register_more(sub)
    return p


def _register_more(sub: Any) -> None:
    """Commands whose modules are imported only when used."""
    from service import commands

    commands.register(sub)


def _policy(path: str | None) -> Any:
    import os

    from service.policy.policyfile import load_policy

    return load_policy(path or os.environ.get("SENDGUARD_POLICY") or None)


def read_message(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    p = Path(path)
    try:
        if p.is_dir():
            raise MessageError(Text("cli.is_directory", {"path": path}))
        return p.read_bytes()
    except FileNotFoundError:
        raise MessageError(Text("cli.no_such_file", {"path": path})) from None
    except OSError as exc:
        raise MessageError(Text("cli.unreadable", {"path": path,
                                                   "reason": exc.strerror or exc})) from None


def cmd_check(args: argparse.Namespace, locale: str) -> int:
    from service.policy import analyze, draft_from_bytes

    policy = _policy(args.policy)
    raw = read_message(args.message)
    try:
        draft = draft_from_bytes(raw)
    except MessageError as exc:
        raise MessageError(Text("cli.file_error", {"path": args.message, "reason": exc})) from None
    if args.user is None and not _may_have_history(draft.sender, policy):
        report = analyze(draft, policy, locale=locale)
    else:
        from service.history_cli import history_for_check

        with history_for_check(args.user, draft.sender, locale) as history:
            report = analyze(draft, policy, locale=locale, history=history)
    if args.json:
        out = json.dumps({"findings": [f.to_json() for f in report.findings],
                          "interrupts": report.interrupts},
                         ensure_ascii=False, indent=2)
        # always valid UTF-8: a lone surrogate (bytes a header could not decode) becomes "?"
        sys.stdout.write(out.encode("utf-8", "replace").decode("utf-8") + "\n")
        for note in report.notes:
            print(note, file=sys.stderr)
    else:
        print_table(report, locale, sys.stdout)
    if args.fail_on:
        level = {"warn": 1, "block": 2}[args.fail_on]
        if any(f.severity.rank >= level for f in report.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def _may_have_history(sender: str, policy: Any) -> bool:
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
