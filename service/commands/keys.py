"""``sendguard protect``, ``sendguard keys list|show|revoke|release|purge|rewrap`` and
``sendguard worker`` (SPEC section 4). ``register(sub)`` adds them to the CLI's
sub-parsers.

They run on ``Config.from_env()``: in development an SQLite database, a generated master
key and a mail sink under ``./var``. Expected failures raise ``SendGuardError`` subclasses,
which ``service.commands.main`` prints as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from service.commands.base import load_policy, open_store
from service.errors import AttachmentError, InputError, MessageError, Text
from service.i18n import N_, _, ngettext
from service.settings import Config

if TYPE_CHECKING:
    from service.commands.base import Subcommands

if TYPE_CHECKING:    # the database stack is imported only by commands that use it
    from types import FrameType

    from service.policy.policyfile import Policy
    from service.storage import Grant, Package, Store
    from service.storage.sqlite_keys import KeyRecords

PROGRESS_EVERY_S = 2.0
MESSAGE_SLACK = 16 * 1024 * 1024     # body and headers around link-mode attachments
# ``service.storage.STATES`` (a test keeps them equal): parsing the command line must not
# import the database stack, or every command, ``check`` included, pays for it.
STATES = ("held", "awaiting_release", "released", "revoked", "expired")


def register(sub: Subcommands) -> None:
    register_protect(sub)
    register_keys(sub)


def register_protect(sub: Subcommands) -> None:
    """``protect`` alone: all that ``sendguard protect`` builds (issue 12)."""
    p = sub.add_parser("protect", help="encrypt a message's attachments into one AES-256 ZIP")
    p.add_argument("message", help="RFC 822 message file (.eml); never modified")
    p.add_argument("-o", "--output", required=True, help="where to write the protected message")
    p.add_argument("--policy", help="policy TOML (default: $SENDGUARD_POLICY or built-in)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--reveal-password", action="store_true",
                   help="also print the ZIP password (it is stored wrapped either way)")
    p.add_argument("--key-to", action="append", default=[], metavar="ADDR",
                   help="a recipient of the message who gets the key link (repeatable)")
    p.add_argument("--method", choices=("zip", "link"), default=None,
                   help="zip: one AES-256 ZIP in the message; link: files stored encrypted, "
                        "downloaded from the key page (default: the policy's delivery.method)")
    p.set_defaults(handler=cmd_protect)


def register_keys(sub: Subcommands) -> None:
    """``keys`` and ``worker``."""
    k = sub.add_parser("keys", help="key records: list, show, revoke, release")
    ks = k.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    kl = ks.add_parser("list", help="recent key records, newest first")
    kl.add_argument("--sender", help="only this sender's records")
    kl.add_argument("--state", choices=STATES, help="only records in this state")
    kl.add_argument("--limit", type=int, default=20)
    kl.add_argument("--json", action="store_true")
    kl.set_defaults(handler=cmd_keys_list)
    kshow = ks.add_parser("show", help="one key record and who gets its key")
    kshow.add_argument("package_id")
    kshow.add_argument("--json", action="store_true")
    kshow.set_defaults(handler=cmd_keys_show)
    kr = ks.add_parser("revoke", help="withdraw a key: no code or password works afterwards")
    kr.add_argument("package_id")
    kr.set_defaults(handler=cmd_keys_revoke)
    krel = ks.add_parser("release", help="release a held key now and send its notices")
    krel.add_argument("package_id")
    krel.set_defaults(handler=cmd_keys_release)
    kp = ks.add_parser("purge", help="erase the keys of packages revoked or expired long ago "
                                     "(records and audit log are kept)")
    kp.add_argument("--older-than", default="30d", metavar="AGE",
                    help="ended at least this long ago: 30d (default), 36h, 90m")
    kp.add_argument("--dry-run", action="store_true", help="only count them")
    kp.add_argument("--json", action="store_true")
    kp.set_defaults(handler=cmd_keys_purge)
    kw = ks.add_parser("rewrap", help="re-wrap every stored key under the first master key "
                                      "(or Cloud KMS) after a rotation")
    kw.add_argument("--dry-run", action="store_true",
                    help="check and count, change nothing")
    kw.add_argument("--json", action="store_true")
    kw.set_defaults(handler=cmd_keys_rewrap)

    w = sub.add_parser("worker", help="release due keys and send notices, in a loop")
    w.add_argument("--once", action="store_true", help="one round, then exit")
    w.add_argument("--interval", type=float, default=30.0, help="seconds between rounds")
    w.add_argument("--purge-older-than", default=None, metavar="AGE",
                   help="hourly, erase the keys of packages ended this long ago "
                        "(default $SENDGUARD_KEY_RETENTION or 30d; 'off' never)")
    w.set_defaults(handler=cmd_worker)


# ---------------------------------------------------------------------------- helpers

def _now() -> datetime:
    return datetime.now(UTC)


def _actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return "cli:" + ("".join(ch for ch in user if ch.isalnum() or ch in "._-") or "user")


@contextlib.contextmanager
def _package_named(package_id: str) -> Iterator[None]:
    """A package id nobody has: say which, and where to look."""
    from service.errors import NotFoundError

    try:
        yield
    except NotFoundError:
        raise NotFoundError(_("cli.no_package", package_id=package_id)) from None


@contextlib.contextmanager
def _key_records(config: Config) -> Iterator[KeyRecords]:
    """protect's store: an SQLite file already at the migrations' head is written without
    SQLAlchemy (``storage.sqlite_keys``: same record, a fraction of the start-up);
    anything else through ``Store``, which migrates it."""
    from service.storage.sqlite_keys import SQLiteKeyRecords

    lean = SQLiteKeyRecords.at_head(config.database_url, pool_size=config.db_pool_size)
    if lean is not None:
        yield lean
        return
    with open_store(config) as store:
        yield store


def _same_file(a: Path, b: Path) -> bool:
    try:
        if b.exists() and a.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def write_atomically(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through a temporary file in the same directory and a rename;
    ``data`` is the bytes or a function that writes them to the file it is given."""
    directory = path.parent if str(path.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise InputError(_("delivery.cli.cannot_write", path=str(path),
                           reason=exc.strerror or type(exc).__name__)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _short(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else _("delivery.cli.none")


def package_json(package: Package, grants: list[Grant] | None = None) -> dict[str, Any]:
    """A key record as JSON, without its wrapped password or any hash."""
    data: dict[str, Any] = {
        "package_id": package.id, "sender": package.sender, "state": package.state,
        "release_mode": package.release_mode, "recipients": list(package.recipients),
        "zip_filename": package.zip_filename, "files": list(package.file_names),
        "message_id": package.message_id, "gmail_message_id": package.gmail_message_id,
        "created_at": _iso(package.created_at), "release_at": _iso(package.release_at),
        "released_at": _iso(package.released_at), "expires_at": _iso(package.expires_at),
        "revoked_at": _iso(package.revoked_at),
        "first_retrieved_at": _iso(package.first_retrieved_at),
        "purged_at": _iso(package.purged_at),
        "reveal_count": package.reveal_count, "reveal_limit": package.reveal_limit,
    }
    if grants is not None:
        data["key_recipients"] = [{
            "address": g.address, "notice_sent_at": _iso(g.notice_sent_at),
            "codes_sent": g.code_sent_count, "revealed": g.revealed_count,
            "last_revealed_at": _iso(g.last_revealed_at)} for g in grants]
    return data


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


# ---------------------------------------------------------------------------- protect

def _refuse_oversize(path: str, limit: int) -> None:
    """Refuse, before reading or encrypting anything, a message over the size a message
    may have (Gmail's 35 MB; protect would refuse its output anyway)."""
    if path == "-":
        return
    try:
        size = os.stat(path).st_size
    except OSError:
        return                       # read_message says what is wrong with it
    if size > limit:
        raise AttachmentError(_("cli.protect_too_large", path=path,
                                mb=size / 2**20, limit_mb=limit / 2**20))


def cmd_protect(args: argparse.Namespace) -> int:
    from service.commands.base import read_message
    from service.delivery.packages import message_sender, protect_raw
    from service.protect.keywrap import wrapper_from_config
    from service.protect.mime import MAX_SIZE

    source, target = Path(args.message), Path(args.output)
    if _same_file(source, target):
        raise InputError(_("delivery.cli.same_file", path=args.output))
    policy = load_policy(args.policy)
    if not args.key_to and not args.reveal_password and policy.release_mode != "sender_only":
        raise InputError(_("cli.protect_nobody"))
    method = args.method or policy.delivery_method
    if method == "link":
        return _protect_link(args, policy)
    _refuse_oversize(args.message, MAX_SIZE)
    raw = read_message(args.message)
    if len(raw) > MAX_SIZE:          # standard input has no size to look at beforehand
        raise AttachmentError(_("cli.protect_too_large", path=args.message,
                                mb=len(raw) / 2**20, limit_mb=MAX_SIZE / 2**20))
    config = Config.from_env()
    now = _now()
    with _key_records(config) as store:
        try:
            done = protect_raw(raw, store=store, keywrapper=wrapper_from_config(config),
                               policy=policy, now=now, key_recipients=args.key_to,
                               sender=message_sender(raw, f"{_actor()[4:]}@localhost"))
        except (MessageError, AttachmentError) as exc:
            raise type(exc)(Text("cli.file_error", {"path": args.message, "reason": exc})) from None
        try:
            write_atomically(target, done.result.write_to)   # never joined in memory
        except InputError:
            store.revoke(done.package.id, _actor(), now)
            raise
    package = done.package
    if args.json:
        out: dict[str, Any] = {"package_id": package.id, "zip_filename": package.zip_filename,
                               "files": list(done.result.files)}
        if args.reveal_password:
            out["password"] = done.password
        _print_json(out)
    else:
        print(ngettext("cli.protect_done.one", "cli.protect_done", len(done.result.files),
                       out=args.output,
                 zip=package.zip_filename, package_id=package.id))
        if args.reveal_password:
            print(_("cli.protect_password", password=done.password))
    if package.message_id is None and (args.key_to or package.release_mode == "sender_only"):
        print(_("delivery.cli.no_message_id", package_id=package.id), file=sys.stderr)
    return 0


def _protect_link(args: argparse.Namespace, policy: Policy) -> int:
    from service.commands.base import read_message
    from service.delivery.linkpackages import erase_package_files, protect_link_raw
    from service.delivery.packages import message_sender
    from service.files.store import parse_files_url
    from service.protect.keywrap import wrapper_from_config

    # base64 makes a message about 4/3 of its attachments, plus its body
    _refuse_oversize(args.message, policy.max_link_size * 4 // 3 + MESSAGE_SLACK)
    raw = read_message(args.message)
    config = Config.from_env()
    files = parse_files_url(config.files, config.var_dir)
    keywrapper = wrapper_from_config(config)
    now = _now()
    with open_store(config) as store:
        try:
            done = protect_link_raw(raw, store=store, keywrapper=keywrapper, files=files,
                                    policy=policy, now=now, key_recipients=args.key_to,
                                    sender=message_sender(raw, f"{_actor()[4:]}@localhost"))
        except (MessageError, AttachmentError) as exc:
            raise type(exc)(f"{args.message}: {exc.public_message}") from None
        del raw
        try:
            write_atomically(Path(args.output), done.message)
        except InputError:
            package = store.revoke(done.package.id, _actor(), now)
            erase_package_files(store, keywrapper, files, package, _actor(), now, "failed")
            raise
    package = done.package
    if args.json:
        _print_json({"package_id": package.id, "method": "link", "files": done.files})
    else:
        print(ngettext("cli.protect_link_done.one", "cli.protect_link_done", len(done.files),
                       out=args.output,
                 package_id=package.id))
    if package.message_id is None and (args.key_to or package.release_mode == "sender_only"):
        print(_("delivery.cli.no_message_id", package_id=package.id), file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------- keys

def cmd_keys_list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InputError(Text("cli.limit_positive"))
    config = Config.from_env()
    with open_store(config) as store:
        packages = (store.list_packages(args.sender, args.limit, args.state) if args.sender
                    else store.list_recent_packages(args.limit, args.state))
    if args.json:
        _print_json({"packages": [package_json(p) for p in packages]})
        return 0
    if not packages:
        print(_("delivery.cli.list_empty"))
        return 0
    print(_("delivery.cli.list_header"))
    for p in packages:
        print(f"{p.id:<23} {p.state:<17} {_short(p.created_at):<17} "
              f"{p.reveal_count:>2}/{p.reveal_limit:<5} {p.sender}")
    return 0


def cmd_keys_show(args: argparse.Namespace) -> int:
    config = Config.from_env()
    with open_store(config) as store, _package_named(args.package_id):
        package = store.get_package(args.package_id)
        grants = store.list_grants(package.id)
    if args.json:
        _print_json(package_json(package, grants))
        return 0
    print(_("delivery.cli.show", package_id=package.id, state=package.state,
            mode=package.release_mode, sender=package.sender,
            recipients=", ".join(package.recipients), zip_name=package.zip_filename,
            count=len(package.file_names), created=_short(package.created_at),
            release_at=_short(package.release_at),
            released_at=_short(package.released_at),
            expires=_short(package.expires_at), reveals=package.reveal_count,
            limit=package.reveal_limit))
    if package.purged_at is not None:
        print(_("delivery.cli.show_purged", at=_short(package.purged_at)))
    for g in grants:
        notice = (_("delivery.cli.notice_sent", at=_short(g.notice_sent_at))
                  if g.notice_sent_at else _("delivery.cli.notice_pending"))
        print(_("delivery.cli.show_grant", address=g.address, notice=notice,
                reveals=g.revealed_count))
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    config = Config.from_env()
    with open_store(config) as store, _package_named(args.package_id):
        now = _now()
        package = store.revoke(args.package_id, _actor(), now)
        _erase_files(config, store, package, now)
    print(_("delivery.cli.revoked", package_id=package.id))
    return 0


def _erase_files(config: Config, store: Store, package: Package, now: datetime) -> None:
    """A recalled link package's stored files go at once (SPEC 10.3)."""
    from service.delivery.linkpackages import erase_package_files, is_link
    from service.files.store import parse_files_url
    from service.protect.keywrap import wrapper_from_config

    if is_link(package):
        erase_package_files(store, wrapper_from_config(config), parse_files_url(
            config.files, config.var_dir), package, _actor(), now, "revoked")


def cmd_keys_release(args: argparse.Namespace) -> int:
    from service.delivery.release import release_package
    from service.mailer import mailer_from_config
    from service.protect.keywrap import wrapper_from_config

    config = Config.from_env()
    with open_store(config) as store, _package_named(args.package_id):
        package, sent = release_package(store, mailer_from_config(config), config,
                                        wrapper_from_config(config), args.package_id,
                                        _actor(), _now())
    print(ngettext("delivery.cli.released.one", "delivery.cli.released", sent,
                   package_id=package.id))
    return 0


def cmd_keys_purge(args: argparse.Namespace) -> int:
    from service.delivery.retention import purge_ended
    from service.durations import parse_duration

    older_than = parse_duration(args.older_than)
    config = Config.from_env()
    now = _now()
    with open_store(config) as store:
        if args.dry_run:
            count = store.count_purgeable(now, older_than)
        else:
            count = len(purge_ended(store, now, older_than, actor=_actor()))
    if args.json:
        _print_json({"purged" if not args.dry_run else "would_purge": count,
                     "older_than_days": older_than / timedelta(days=1),
                     "dry_run": args.dry_run})
    else:
        older = args.older_than.strip()
        if not args.dry_run:
            print(ngettext("delivery.cli.purged.one", "delivery.cli.purged", count,
                           older_than=older))
        elif count == 1:      # Japanese too says "this key" for one: a sentence of its own
            print(_("delivery.cli.purge_dry_run.single", n=count, older_than=older))
        else:
            print(_("delivery.cli.purge_dry_run", n=count, older_than=older))
    return 0


_HISTORY_REWRAP = {        # what `keys rewrap` did with the recipient history's key
    "current": N_("history.rewrap.current"),
    "rewrapped": N_("history.rewrap.rewrapped"),
    "changed": N_("history.rewrap.changed"),
}


def cmd_keys_rewrap(args: argparse.Namespace) -> int:
    from service.delivery.rewrap import RewrapReport, current_header, rewrap_all, target_name
    from service.protect.keywrap import wrapper_from_config

    config = Config.from_env()
    wrapper = wrapper_from_config(config)
    target = target_name(current_header(wrapper))
    last = time.monotonic()

    def progress(report: RewrapReport) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY_S:
            last = time.monotonic()
            print(_("delivery.cli.rewrap_progress", **report.to_json()),
                  file=sys.stderr, flush=True)

    with open_store(config) as store:
        report = rewrap_all(store, wrapper, dry_run=args.dry_run, progress=progress)
        if not args.dry_run:
            store.append_audit(_actor(), "keys.rewrapped", now=_now(),
                               data={**report.to_json(), "target": target,
                                     "failed_packages": report.failed[:100]})
    counts = report.to_json()
    if args.json:
        _print_json({**counts, "target": target, "dry_run": args.dry_run,
                     "failed_packages": report.failed})
    else:
        print(_("delivery.cli.rewrap_dry_run", target=target, **counts) if args.dry_run
              else _("delivery.cli.rewrap_done", target=target, **counts))
        if report.history_key not in ("absent", "failed"):
            print(_(_HISTORY_REWRAP[report.history_key]))
    if report.failed:
        print(_("delivery.cli.rewrap_failed", ids=", ".join(report.failed)),
              file=sys.stderr)
    if report.history_key == "failed":
        print(_("history.rewrap.failed"), file=sys.stderr)
    return 1 if report.failed or report.history_key == "failed" else 0


# ---------------------------------------------------------------------------- worker

def cmd_worker(args: argparse.Namespace) -> int:
    # logging, signal and threading here: protect shares this module and starts without
    # them (issue 12)
    import logging
    import signal
    import threading

    from service.delivery.release import release_tick
    from service.durations import parse_duration
    from service.mailer import mailer_from_config
    from service.protect.keywrap import wrapper_from_config

    if not args.interval > 0:
        raise InputError(Text("cli.interval_positive"))
    config = Config.from_env()
    if args.purge_older_than is None:
        retention = config.retention()
    elif args.purge_older_than.strip().lower() == "off":
        retention = None
    else:
        retention = parse_duration(args.purge_older_than, "--purge-older-than")
    mailer = mailer_from_config(config)
    keywrapper = wrapper_from_config(config)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if not args.once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _stop)
        print(_("delivery.cli.worker_start", interval=format(args.interval, "g")),
              file=sys.stderr)
    with open_store(config) as store:
        while True:
            try:
                report = release_tick(store, mailer, config, keywrapper, _now(),
                                      retention=retention)
            except Exception as exc:
                if args.once:
                    raise
                from service.commands.base import database_failure

                logging.getLogger(__name__).warning(
                    "worker: release round failed, retrying in %s s: %s",
                    f"{args.interval:g}", database_failure(exc) or type(exc).__name__)
                if stop.wait(args.interval):
                    return 0
                continue
            if args.once or report.released or report.sent or report.failed or report.expired:
                print(_("delivery.cli.worker_tick", released=len(report.released),
                        sent=report.sent, failed=report.failed, expired=len(report.expired)),
                      flush=True)
            if report.purged:
                print(ngettext("delivery.cli.worker_purged.one", "delivery.cli.worker_purged",
                               report.purged), flush=True)
            if args.once or stop.wait(args.interval):
                return 0
