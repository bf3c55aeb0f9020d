"""The production HTTP server: SendGuard's WSGI app under granian, settings from the environment.

One place for what the image (``sendguard serve``, the Dockerfile's CMD) and App Engine's
entrypoint run. Granian (a Rust HTTP server) replaced gunicorn gthread because gunicorn's
own work was 0.32-0.44 ms of CPU per request against granian's 0.04-0.06 ms, too much for
the 1 ms budget of ``/addon/compose`` (issue 12; deploy/README.md has the numbers).

Sizing: ``SENDGUARD_HTTP_WORKERS`` processes (default 2) x ``SENDGUARD_HTTP_THREADS`` Python
threads each (default 8; Cloud Run's ``--concurrency`` is their product, deploy.sh). The
gunicorn-era names ``GUNICORN_WORKERS``/``GUNICORN_THREADS``/``GUNICORN_GRACEFUL_TIMEOUT``
are still read when the new ones are unset (services deployed before keep their settings).
Each worker builds its own app after the fork, so its database pool and its content
analysis pool (``SENDGUARD_ANALYSIS_WORKERS``, made on first use) are its own.

Shutdown: Cloud Run sends SIGTERM and kills the container 10 s later. Granian stops
accepting, lets in-flight requests finish, and kills a worker still busy after
``SENDGUARD_GRACEFUL_TIMEOUT`` seconds (default 8); then the process exits.

A stuck worker: gunicorn restarted a worker whose main loop had not answered for its
``timeout`` (= Cloud Run's request timeout, ``SENDGUARD_REQUEST_TIMEOUT``, 120 s). Granian
has no such watchdog (its ``workers-kill-timeout`` applies only to stopping workers), so
each worker here beats a heartbeat file from a Python thread, which needs the GIL like
every request does; the main process kills a worker whose heartbeat is older than the
request timeout, and granian starts a new one (``respawn_failed_workers``); the processes a
dead worker leaves (its analysis pool) are reaped there too (``Orphans``).

Logs: no access log (the key page's URLs carry link tokens); granian's own lines go
through the root logger, i.e. SendGuard's redacted JSON lines in production.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.errors import ConfigError

if TYPE_CHECKING:
    from service.policy.policyfile import Policy

log = logging.getLogger("service.server")

WsgiApp = Callable[..., Any]
KEEPALIVE = 5    # seconds an idle HTTP/1 connection stays open

# Granian's loggers into the root logger (SendGuard's one handler): no handler of their
# own, no access log at all. Replaces granian's LOGGING_CONFIG loggers and handlers.
GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {},
    "handlers": {},
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
    },
}


@dataclass(frozen=True)
class ServerSettings:
    host: str = "0.0.0.0"   # noqa: S104 - Cloud Run and App Engine route to the container
    port: int = 8080
    workers: int = 2
    threads: int = 8                  # measured: deploy/README.md, Sizing
    request_timeout: int = 120        # = Cloud Run --timeout (deploy.sh)
    graceful_timeout: int = 8         # within Cloud Run's 10 s after SIGTERM

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: Any) -> ServerSettings:
        """From ``PORT`` and the ``SENDGUARD_*`` server settings; ``given`` (command-line
        options) win. A value that is not a positive number is a ``ConfigError``."""
        e = os.environ if env is None else env

        def number(*names: str, default: int) -> int:
            for name in names:
                raw = e.get(name, "").strip()
                if raw:
                    try:
                        value = int(raw)
                    except ValueError:
                        value = 0
                    if value < 1:
                        raise ConfigError(f"{name} must be a whole number of at least 1, "
                                          f"not {raw!r}")
                    return value
            return default

        values: dict[str, Any] = {
            "host": e.get("HOST", "").strip() or cls.host,
            "port": number("PORT", default=cls.port),
            "workers": number("SENDGUARD_HTTP_WORKERS", "GUNICORN_WORKERS",
                              default=cls.workers),
            "threads": number("SENDGUARD_HTTP_THREADS", "GUNICORN_THREADS",
                              default=cls.threads),
            "request_timeout": number("SENDGUARD_REQUEST_TIMEOUT",
                                      default=cls.request_timeout),
            "graceful_timeout": number("SENDGUARD_GRACEFUL_TIMEOUT",
                                       "GUNICORN_GRACEFUL_TIMEOUT",
                                       default=cls.graceful_timeout),
        }
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)


def build(settings: ServerSettings, target: str) -> Any:
    """Granian's server object (``target`` only names the app in granian's lines)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    return Server(
        target, address=settings.host, port=settings.port, interface=Interfaces.WSGI,
        workers=settings.workers, blocking_threads=settings.threads,
        # an idle keep-alive connection (and a client slow to send its headers) is closed
        # after KEEPALIVE seconds, as gunicorn's keepalive did (granian's default: 30 s)
        http1_settings=HTTP1Settings(header_read_timeout=KEEPALIVE * 1000),
        log_dictconfig=GRANIAN_LOGGING, log_access=False,
        respawn_failed_workers=True, workers_kill_timeout=settings.graceful_timeout)


def serve(settings: ServerSettings, loader: Callable[[], WsgiApp], *,
          target: str = "service.app:create_app") -> None:
    """Run until SIGTERM/SIGINT: granian's main process here, its workers started from
    it, each calling ``loader`` (a module-level function or a ``functools.partial`` of
    one, so that it also reaches workers started with ``spawn``). Logging must be
    configured already: granian's lines go through the root logger."""
    server = build(settings, target)
    beats = Path(tempfile.mkdtemp(prefix="sendguard-heartbeat-", dir=_shm()))
    interval = heartbeat_interval(settings.request_timeout)
    watchdog = threading.Thread(target=_watch, args=(beats, settings.request_timeout, interval),
                                name="sendguard-watchdog", daemon=True)
    server.on_startup(watchdog.start)
    become_subreaper()
    try:
        server.serve(target_loader=partial(_load_in_worker, loader, str(beats), interval,
                                           settings.graceful_timeout),
                     wrap_loader=False)
    finally:
        shutil.rmtree(beats, ignore_errors=True)


def _shm() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") else None   # noqa: S108 - in memory


def heartbeat_interval(timeout: int) -> float:
    return max(0.5, min(5.0, timeout / 8))


def _load_in_worker(loader: Callable[[], WsgiApp], beats: str, interval: float,
                    grace: float = 8.0) -> WsgiApp:
    """In a worker: the heartbeat first (a worker stuck building its app is stuck too),
    then the app. A worker whose main process is gone (killed outright) stops as on
    SIGTERM, finishing its requests for up to ``grace`` seconds as the main process would
    allow, and then exits whatever it is doing: it never serves on unsupervised (a stop
    that hangs, or a request that never ends, would otherwise keep it alive)."""
    path = Path(beats) / str(os.getpid())
    parent = os.getppid()

    def beat() -> None:
        while os.getppid() == parent:
            with contextlib.suppress(OSError):    # the directory goes when the server stops
                path.touch()
            time.sleep(interval)
        deadline = threading.Timer(grace + 2, os._exit, args=(1,))
        deadline.daemon = True
        deadline.start()                          # first: nothing below can hold it up
        log.error("the server's main process is gone: this worker stops")
        with contextlib.suppress(OSError):    # nobody else will: the last one out clears
            path.unlink()
            path.parent.rmdir()
        os.kill(os.getpid(), signal.SIGTERM)     # last: the worker may be gone right after

    path.touch()
    threading.Thread(target=beat, name="sendguard-heartbeat", daemon=True).start()
    _relay_stop_signals()
    try:
        return loader()
    except Exception:
        # one redacted log entry, not a bare traceback on stderr; the server then stops
        # (a worker that cannot build its app would fail again if respawned)
        log.exception("a worker could not start the app")
        raise SystemExit(1) from None


def _relay_stop_signals() -> None:
    """In a worker's main thread, before granian starts serving: run the stop signals'
    handler as soon as a signal arrives, whichever thread the kernel gave it to.

    Granian's WSGI worker installs a Python handler for SIGTERM/SIGINT and then waits in
    its main thread (``threading.Event.wait``). Python runs a handler only in the main
    thread, and only once that thread wakes; when the kernel delivers the signal to one of
    the worker's other threads (Rust runtime, request threads) the main thread sleeps on,
    and the worker went on accepting new requests until it was killed at the graceful
    timeout (seen here in 2 of 6 stops without this relay). Python's C-level
    handler writes the signal number to the wakeup fd from any thread; a thread reading it
    calls the handler installed at that moment (granian's sets an idempotent flag)."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write)

    def relay() -> None:
        while True:
            for signum in os.read(read, 64):
                if signum in (signal.SIGTERM, signal.SIGINT):
                    handler = signal.getsignal(signum)
                    if callable(handler):
                        handler(signum, None)

    threading.Thread(target=relay, name="sendguard-signal-relay", daemon=True).start()


def _watch(beats: Path, timeout: int, interval: float) -> None:
    """In the main process: kill a worker whose heartbeat is older than ``timeout``, and
    reap the orphaned children of workers that died (``Orphans``)."""
    me = os.getpid()
    orphans = Orphans(me)
    while True:
        time.sleep(interval)
        try:
            found = list(beats.iterdir())
        except OSError:          # removed: the server is stopping
            return
        workers: set[int] = set()
        for f in found:
            try:
                pid, age = int(f.name), time.time() - f.stat().st_mtime
            except (ValueError, OSError):
                continue
            if parent_of(pid) != me:
                f.unlink(missing_ok=True)          # exited (or not ours): forget it
            elif age > timeout:
                log.error("worker %d did not answer for %d s (SENDGUARD_REQUEST_TIMEOUT): "
                          "killed, a new one starts", pid, int(age))
                f.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            else:
                workers.add(pid)
        try:
            orphans.reap(workers)
        except (OSError, ValueError, IndexError):      # never at the cost of the watchdog
            log.exception("reaping a dead worker's processes failed")


class Orphans:
    """Reaps what a dead worker leaves: its analysis processes (and any other child) exit
    once its pipes close, and become children of this process, PID 1 in the image (or a
    subreaper, ``become_subreaper``). Gunicorn's arbiter reaped any child; granian's main
    process waits only for its workers, so they stayed as zombies until the instance
    stopped. Waiting for any child would take the exit status of granian's own workers
    from it, so only a process first seen as a worker's child is reaped, known by its PID
    and start time (a PID can be reused, a start time with it cannot)."""

    def __init__(self, me: int) -> None:
        self.me = me
        self.known: dict[int, int] = {}      # grandchild PID -> its start time

    def reap(self, workers: set[int]) -> list[int]:
        reaped, seen = [], set()
        for pid, (state, ppid, started) in _processes():
            seen.add(pid)
            if ppid in workers:
                self.known[pid] = started
            elif ppid == self.me and state == "Z" and self.known.get(pid) == started:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                reaped.append(pid)
        self.known = {p: t for p, t in self.known.items() if p in seen and p not in reaped}
        return reaped


def become_subreaper() -> bool:
    """Orphaned descendants become this process's children (Linux ``prctl``), as they are
    PID 1's in the image: ``Orphans`` then reaps them wherever the server runs."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)      # the C library Python is linked with
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)      # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):                      # not Linux: nothing to do
        return False


def _stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent and start time (clock ticks) of a process, zombies included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _processes() -> Iterator[tuple[int, tuple[str, int, int]]]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            yield int(name), stat


def parent_of(pid: int) -> int | None:
    """The parent of a live process (None when it is gone or a zombie)."""
    stat = _stat(pid)
    return None if stat is None or stat[0] in ("Z", "X") else stat[1]


def sendguard_app(policy: Policy) -> WsgiApp:
    """One worker's SendGuard app on the policy the main process read and validated before
    listening (not the file read again: it may have changed since), settings from the
    environment, logging as the main process set it up."""
    from service.app import create_app
    from service.logs import configure_logging
    from service.services import Services
    from service.settings import Config

    config = Config.from_env()
    configure_logging(config)     # again: granian's logging setup ran in this worker
    return create_app(config, services=Services(config, _policy=policy))


def load_factory(target: str) -> Callable[[], WsgiApp]:
    """``module:factory`` as a loader (tests and benchmarks serve other apps the same way)."""
    return partial(_call_factory, target)


def _call_factory(target: str) -> WsgiApp:
    import importlib

    module, _, name = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in (name or "create_app").split("."):
        obj = getattr(obj, part)
    return obj()   # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """``python -m service.server MODULE:FACTORY``: another WSGI app under the same server
    and settings as ``sendguard serve`` (the deploy tests' slow app, the benchmark's bare
    reference). JSON lines when ``SENDGUARD_ENV=production``, as the service logs."""
    import sys

    from service.logs import configure_logging
    from service.settings import Config

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or ":" not in args[0]:
        print("usage: python -m service.server MODULE:FACTORY", file=sys.stderr)
        return 2
    production = os.environ.get("SENDGUARD_ENV", "").strip().lower() == "production"
    configure_logging(Config(), json_lines=production)
    serve(ServerSettings.from_env(), load_factory(args[0]), target=args[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
