"""``sendguard dev`` (what ``make run`` calls): the whole add-on on one machine, no Google.

The one production-package module allowed to import ``service.devtools`` (the import
contract in pyproject.toml names it); it does so only when the command runs.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

from service.commands.base import Parser, UsageError, load_policy_for_service
from service.errors import InputError, Text

if TYPE_CHECKING:
    from service.commands.base import Subcommands


def register(sub: Subcommands) -> None:
    d = sub.add_parser("dev", help="run everything locally: emulator, simulator, service",
                       add_help=False)
    d.set_defaults(handler=cmd_dev, passthrough=True)


def cmd_dev(args: argparse.Namespace) -> int:
    """Options are the dev server's own (``sendguard dev --help``)."""
    return main(list(args.extra))


def devtools_installed() -> bool:
    """The wheel (and so the production image) ships without ``service.devtools``."""
    import importlib.util

    return importlib.util.find_spec("service.devtools") is not None


def main(argv: list[str] | None = None) -> int:
    if not devtools_installed():
        raise InputError(Text("cli.no_devtools"))
    from service.devtools.devserver import (
        DEV_USER,
        GMAIL_RULES,
        run_until_interrupted,
        start_stack,
    )
    from service.logs import configure_logging
    from service.settings import Config

    parser = Parser(prog="sendguard dev",
                    description="Run SendGuard locally with a Gmail emulator "
                                "and a compose simulator.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--user", default=DEV_USER, help="the simulated Gmail user")
    parser.add_argument("--policy", default=None, help="policy TOML (default: a dev policy)")
    parser.add_argument("--gmail-rules", choices=GMAIL_RULES, default="reject",
                        help="the emulated admin rule on mail sent without SendGuard "
                             "(deploy.sh --print-gmail-rules; default reject)")
    if argv and argv[0] == "--":          # `sendguard dev -- --port 9000`
        argv = argv[1:]
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:     # one line in the user's language, as every command
        raise InputError(str(exc)) from None

    base = Config.from_env()
    policy_path = args.policy or base.policy_path
    if policy_path:            # the generated dev policy is ours, and valid
        load_policy_for_service(policy_path)
    configure_logging(base)    # production's redaction: no /k/ token or code in the log
    logging.getLogger("alembic").setLevel(logging.WARNING)
    stack = start_stack(host=args.host, port=args.port, user=args.user,
                        policy_path=policy_path, base=base,
                        gmail_rules=args.gmail_rules)
    return run_until_interrupted(stack)
