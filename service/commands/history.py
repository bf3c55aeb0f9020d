"""``sendguard history import|forget`` and the history behind ``check --user`` (SPEC 10.2).

Imported only when a history command runs, or when ``check`` has a sender whose history
may exist: plain ``check`` never loads the database stack.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import InputError, MessageError, Text
from service.i18n import _

if TYPE_CHECKING:
    from service.commands.base import Subcommands
    from service.policy.context import HistoryView
    from service.settings import Config
    from service.storage import Store
    from service.storage.history import HistoryCrypto

PROGRESS_EVERY_S = 2.0
BATCH = 200


def register(sub: Subcommands) -> None:
    h = sub.add_parser("history", help="the recipient history behind check --user")
    hs = h.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    i = hs.add_parser("import", help="seed a sender's history from an mbox of sent mail")
    i.add_argument("mbox", help="mbox file (Google Takeout, Vault export)")
    i.add_argument("--user", required=True, help="the sender whose history this is")
    i.add_argument("--json", action="store_true", help='print {"imported": N, "skipped": N}')
    i.set_defaults(handler=cmd_import)
    f = hs.add_parser("forget", help="erase a sender's history")
    f.add_argument("--user", required=True, help="the sender whose history is erased")
    f.add_argument("--json", action="store_true", help='print {"deleted": N}')
    f.set_defaults(handler=cmd_forget)


def _user(value: str) -> str:
    from service.policy.addresses import parse_entry

    e = parse_entry(value.strip())
    if e.address is None or e.display_name:
        raise InputError(_("cli.history_bad_user", user=value))
    return e.address


@contextlib.contextmanager
def _opened(config: Config) -> Iterator[Store]:
    from service.commands.base import open_store

    with open_store(config) as store:
        yield store


def _new_crypto(store: Store, config: Config) -> HistoryCrypto:
    """The history key, made and stored on first use."""
    from service.protect.keywrap import wrapper_from_config

    return store.history_crypto(wrapper_from_config(config), datetime.now(UTC))


def _crypto(store: Store, config: Config) -> HistoryCrypto | None:
    """The history key, or None when no history was ever recorded."""
    from service.protect.keywrap import wrapper_from_config

    return store.existing_history_crypto(wrapper_from_config(config))


def _mbox_messages(path: str) -> Iterator[bytes]:
    import mailbox

    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(5)
    except FileNotFoundError:
        raise MessageError(Text("cli.no_such_file", {"path": path})) from None
    except IsADirectoryError:
        raise MessageError(Text("cli.is_directory", {"path": path})) from None
    except OSError as exc:
        raise MessageError(Text("cli.unreadable", {"path": path,
                                                  "reason": exc.strerror or str(exc)})) from None
    if head != b"From ":
        raise MessageError(_("cli.history_not_mbox", path=path))
    box = mailbox.mbox(str(p), create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def cmd_import(args: argparse.Namespace) -> int:
    from service.settings import Config
    from service.storage.history import SentMessage
    from service.storage.sent import sent_message

    user = _user(args.user)
    messages = _mbox_messages(args.mbox)
    first = next(messages, None)        # an unreadable file fails before the database
    config = Config.from_env()
    imported = skipped = seen = 0
    last = time.monotonic()
    with _opened(config) as store:
        crypto = _new_crypto(store, config)
        now = datetime.now(UTC)
        batch: list[SentMessage] = []

        def flush() -> None:
            nonlocal imported, skipped
            if batch:
                new = store.record_history_many(crypto, user, batch, now)
                imported += new
                skipped += len(batch) - new
                batch.clear()

        stream = messages if first is None else _chain(first, messages)
        for raw in stream:
            seen += 1
            msg = sent_message(raw, user)
            if msg is None:
                skipped += 1
            else:
                batch.append(msg)
            if len(batch) >= BATCH:
                flush()
            if time.monotonic() - last >= PROGRESS_EVERY_S:
                last = time.monotonic()
                print(_("cli.history_progress", n=seen, imported=imported,
                        skipped=skipped), file=sys.stderr, flush=True)
        flush()
    print(_("cli.history_progress", n=seen, imported=imported, skipped=skipped),
          file=sys.stderr)
    if args.json:
        print(json.dumps({"imported": imported, "skipped": skipped}))
    else:
        print(_("cli.history_imported", imported=imported, skipped=skipped,
                user=user))
    return 0


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def cmd_forget(args: argparse.Namespace) -> int:
    from service.settings import Config

    user = _user(args.user)
    config = Config.from_env()
    with _opened(config) as store:
        crypto = _crypto(store, config)
        n = 0 if crypto is None else store.forget_history(crypto, user)
    if args.json:
        print(json.dumps({"deleted": n}))
    else:
        print(_("cli.history_forgot", user=user, n=n))
    return 0


@contextlib.contextmanager
def history_for_check(user: str | None, sender: str) -> Iterator[HistoryView | None]:
    """The history ``check`` uses: ``--user`` (errors are errors), else the message's
    From when a database that may hold its history exists (then a database that cannot
    be used means no history checks: a plain check never fails on the database)."""
    import os

    from service.settings import Config

    config = Config.from_env()
    if user is not None:
        address = _user(user)
    else:
        address = sender
        url = config.database_url
        if not address or (url.startswith("sqlite") and not os.environ.get("DATABASE_URL")
                           and not (config.var_dir / "sendguard.db").exists()):
            yield None
            return
    try:
        store_cm = _opened(config)
        store = store_cm.__enter__()
    except Exception:
        if user is not None:
            raise
        yield None
        return
    try:
        try:
            crypto = _crypto(store, config)
        except Exception:
            if user is not None:
                raise
            crypto = None
        yield None if crypto is None else store.history_view(crypto, address)
    finally:
        store_cm.__exit__(None, None, None)
