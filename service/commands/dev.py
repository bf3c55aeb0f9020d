"""``sendguard dev`` (what ``make run`` calls): the whole add-on on one machine, no Google.

The one production-package module allowed to import ``service.devtools`` (the import
contract in pyproject.toml names it); it does so only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    d = sub.add_parser("dev", help="run everything locally: emulator, simulator, service",
                       add_help=False)
    d.set_defaults(handler=cmd_dev, passthrough=True)


def cmd_dev(args: argparse.Namespace) -> int:
    """Options are the dev server's own (``sendguard dev --help``)."""
    from service.devtools.devserver import main

    return main(list(args.extra))
