"""The ``sendguard`` command (SPEC section 4, contract): ``main`` parses the command line
and runs the command's handler; one module per command group beside this one.

Every expected failure is a ``SendGuardError`` turned into one line on stderr and exit 2
here; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from service.commands.base import (
    EXIT_ERROR,
    EXIT_OK,
    Parser,
    UsageError,
    database_failure,
    print_error,
)
from service.errors import SendGuardError
from service.i18n import _, current_locale, locale_from_env, using

if TYPE_CHECKING:
    from service.commands.base import Subcommands


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command with its texts in the language of ``LANG``/``LC_*``."""
    with using(locale_from_env()):
        return _run(list(sys.argv[1:] if argv is None else argv), process=argv is None)


def _run(argv: list[str], *, process: bool) -> int:
    """``process``: the command is the process (the console script), which ends after."""
    only = _command_of(argv)
    collecting = gc.isenabled()
    if only == "protect":
        # One message, then the process ends: the cyclic collector would only walk the
        # objects of the ~200 modules the command imports, again and again (~5% of its
        # CPU, issue 12). What little cyclic garbage protect leaves (~750 objects on a
        # 5 MB draft, the same peak memory) goes when the process exits. Not switched
        # back on there: that would first walk everything made since (another few ms).
        gc.disable()
    try:
        return _dispatch(argv, only)
    finally:
        if collecting and not process:      # main(argv) in a process that goes on
            gc.enable()


def _dispatch(argv: list[str], only: str | None) -> int:
    parser = build_parser(only=only)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "passthrough", False):
            parser.error(_("cli.unrecognized", args=" ".join(extra)))
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_ERROR
    if args.version:
        from service import __version__

        print(f"sendguard {__version__}")
        return EXIT_OK
    args.extra = extra
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return handler(args)
    except SendGuardError as exc:
        print_error(exc.localized(current_locale()) or type(exc).__name__)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except OSError as exc:     # a file the command itself opens (output, CSV, ...)
        where = exc.filename if exc.filename is not None else _("cli.a_file")
        print_error(_("cli.file_error", path=where,
                 reason=exc.strerror or type(exc).__name__))
        return EXIT_ERROR
    except Exception as exc:
        line = database_failure(exc)
        if line is None:
            raise                # a bug: the traceback is wanted
        print_error(line)
        return EXIT_ERROR


def _command_of(argv: list[str]) -> str | None:
    """The sub-command named on the command line, if it is one whose parser needs no
    other module: then only that one is built (``check`` and ``protect`` start without
    importing the modules of the others or building their parsers)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in ("check", "protect") else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    p = Parser(prog="sendguard",
               description="SendGuard: catch e-mail misdelivery before it leaves.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    if only == "protect":         # its parser alone: protect starts lean too (issue 12)
        from service.commands import keys

        keys.register_protect(sub)
        return p
    from service.commands import check

    check.register(sub)
    if only is None:
        _register_more(sub)
    return p


def _register_more(sub: Subcommands) -> None:
    """Commands whose modules are imported only when used (each module imports its
    machinery only when its command runs)."""
    from service.commands import audit, db, dev, history, keys, serve, stamp

    serve.register(sub)
    dev.register(sub)
    db.register(sub)
    audit.register(sub)
    history.register(sub)
    stamp.register(sub)
    keys.register(sub)
