"""``sendguard db upgrade``: apply the database migrations (once per deploy)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.commands.base import Subcommands


def register(sub: Subcommands) -> None:
    db = sub.add_parser("db", help="database maintenance")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbs.add_parser("upgrade", help="apply migrations (once per deploy)")
    up.set_defaults(handler=cmd_db_upgrade)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from service.settings import Config
    from service.storage import Store

    config = Config.from_env()
    if config.database_url.startswith("sqlite"):
        config.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = Store.from_url(config.database_url)
    try:
        store.upgrade()
    finally:
        store.close()
    print("database is up to date")
    return 0
