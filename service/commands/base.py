"""What every ``sendguard`` command shares: exit codes, the one-line error, argparse in the
user's language, reading a message file, the policy and the database.

Every expected failure is a ``SendGuardError`` that ``service.commands.main`` turns into one
line on stderr and exit 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from service.errors import MessageError, Text
from service.i18n import N_, _

if TYPE_CHECKING:    # the database stack is imported only by commands that use it
    from service.policy.policyfile import Policy
    from service.settings import Config
    from service.storage import Store

    # What ``add_subparsers`` returns: each command group registers its sub-commands on it.
    Subcommands = argparse._SubParsersAction["Parser"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def print_error(message: str) -> None:
    line = " ".join(str(message).split())
    print(_("cli.error", message=line), file=sys.stderr)


_DB_MODULES = ("sqlalchemy", "psycopg", "sqlite3", "alembic")


def database_failure(exc: BaseException) -> str | None:
    """One line for a database that cannot be reached or used, or None when ``exc`` is
    not a database error. Names the database (password masked) and the driver's first
    line; never SQL text or parameters."""
    if not any(k.__module__.split(".")[0] in _DB_MODULES for k in type(exc).__mro__):
        return None
    url = os.environ.get("DATABASE_URL") or "sqlite:///{}/sendguard.db".format(
        os.environ.get("SENDGUARD_VAR_DIR", "var"))
    orig = getattr(exc, "orig", None) or exc
    reason = next((ln.strip() for ln in str(orig).splitlines() if ln.strip()),
                  type(orig).__name__)
    reason = reason.split("[SQL:")[0].strip()[:300]
    connection = type(exc).__name__ in ("OperationalError", "InterfaceError",
                                        "DisconnectionError", "TimeoutError")
    key = N_("cli.database_unreachable") if connection else N_("cli.database_failed")
    return _(key, url=mask_url(url), reason=reason)


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

    def error(self, message: str) -> NoReturn:
        raise UsageError(_("cli.usage_error", message=_usage_text(message),
                           command=self.prog))


# Patterns compiled (and cached by ``re``) on a usage error only, not at every start.
_ARGPARSE = (
    (r"the following arguments are required: (.*)", N_("cli.arg_required")),
    (r"unrecognized arguments: (.*)", N_("cli.unrecognized")),
    (r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)", N_("cli.arg_choice")),
    (r"argument (\S+): expected one argument", N_("cli.arg_expected")),
    (r"argument (\S+): invalid \S+ value: (.*)", N_("cli.arg_invalid")),
    (r"argument (\S+): not allowed with argument (.*)", N_("cli.arg_conflict")),
)


def _usage_text(message: str) -> str:
    """argparse's English messages in the user's language, where we know them."""
    for pattern, key in _ARGPARSE:
        m = re.fullmatch(pattern, message)
        if m:
            groups = {"a" + str(i): v for i, v in enumerate(m.groups(), 1)}
            return _(key, **groups, args=m.group(1))
    return message


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


def load_policy(path: str | None) -> Policy:
    """The policy at ``path``, else ``$SENDGUARD_POLICY``, else the built-in one."""
    from service.policy.policyfile import load_policy as read_policy

    return read_policy(path or os.environ.get("SENDGUARD_POLICY") or None)


def load_policy_for_service(path: str | None) -> Policy:
    """The policy a service will run on, read and validated before anything listens:
    a broken one is a ``PolicyError`` naming its file and line (exit 2)."""
    from service.errors import PolicyError, Text
    from service.policy.policyfile import load_policy

    try:
        return load_policy(path)
    except PolicyError as exc:
        raise PolicyError(Text("cli.policy_broken", {"message": exc}), key=exc.key,
                          line=exc.line) from None


@contextlib.contextmanager
def open_store(config: Config) -> Iterator[Store]:
    """The database, migrated first outside production (embedded defaults: ``./var``)."""
    from service.storage import Store

    if config.database_url.startswith("sqlite"):
        config.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = Store.from_url(config.database_url, pool_size=config.db_pool_size)
    try:
        if not config.production:
            store.upgrade()
        yield store
    finally:
        store.close()
